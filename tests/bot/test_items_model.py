"""``--source items``: a model of issues' and PRs' own text, exported from the fake GitHub,
trained as a production fit, and used by the bot for issues (and named in its comment):
the repository's own model before the pooled one."""

from __future__ import annotations

import json
import random

import httpx

from kubesift.collect.export import Exporter
from kubesift.github import GitHubClient, TokenAuth
from kubesift.learn import registry
from tests.bot.conftest import BOT_TOKEN, REPO, Env
from tests.bot.helpers import deliver, fixture, retarget, wait_done
from tests.bot.test_e2e import BUG_BODY, bot_comments, labels_of, pr_event
from tests.conftest import run_cli
from tests.learn.conftest import BUG_WORDS, FEATURE_WORDS, SUBJECTS

MONTH = 30 * 86_400
START = 1_640_995_200  # 2022-01-01


def issue_body(rng: random.Random, words: list[str], subject: str) -> str:
    """The Kubernetes bug template, with a slash command the model must not read."""
    return (
        "<!-- Please use this template while reporting a bug -->\n"
        f"### What happened?\n\n{' '.join(words)} in the {subject}\n\n"
        "### What did you expect to happen?\n\nIt keeps working.\n\n"
        "### Anything else we need to know?\n\n_No response_\n\n"
        f"/sig {rng.choice(['node', 'apps'])}\n"
    )


def seed_items(env: Env, count: int = 260) -> None:
    rng = random.Random(11)
    for i in range(count):
        bug = rng.random() < 0.45
        words = rng.sample(BUG_WORDS if bug else FEATURE_WORDS, 3)
        subject = rng.choice(SUBJECTS)
        env.fake.create_item(
            REPO,
            title=f"{subject}: {words[0]} {words[1]}",
            body=issue_body(rng, words, subject),
            kind="issue",
            labels=["kind/bug" if bug else "kind/feature"],
            created_at=START + (i * 24 * MONTH) // count,
            user=f"dev{rng.randrange(10)}",
        )


def test_items_model_trains_on_exported_issues_and_labels_new_issues(env: Env) -> None:
    seed_items(env)
    client = GitHubClient(env.server.url, TokenAuth(BOT_TOKEN))
    with client:
        Exporter(env.engine, client, REPO).run()
    cli_env = {"KUBESIFT_HOME": str(env.home)}
    done = run_cli(
        "train", "--source", "items", "--label", "kind/bug", "--production", "--no-compare",
        "--split", "created:2023-07-01", "--json", env=cli_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    meta, metrics = out["model"], out["metrics"]
    assert meta["fit"] == "production" and meta["split"] == "created:2023-07-01"
    assert metrics["production"]["train_items"] == 260  # every labelled item, not the split
    assert metrics["test_items"] > 0 and metrics["calibration"]["method"] == "forward"
    bug = metrics["calibration"]["labels"]["kind/bug"]
    assert bug["threshold"] is not None and bug["interval"][0] >= 0.9
    items_dir = env.home / "models-items"
    [pooled] = registry.list_versions(items_dir)
    assert (pooled.path / registry.EVALUATION_FILE).is_file()
    # The repository's own model, which the bot prefers for its items.
    own = run_cli(
        "train", "--source", "items", "--label", "kind/bug", "--production", "--no-compare",
        "--split", "created:2023-07-01", "--repo", REPO, env=cli_env,
    )  # fmt: skip
    assert own.returncode == 0, own.stderr
    [version] = registry.list_versions(items_dir / "repos" / REPO)

    env.fake.create_item(REPO, title="kubelet panics", body="", kind="issue", number=900)
    env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr", number=901)
    bot = env.start()
    try:
        with httpx.Client(timeout=10) as http:
            text = issue_body(random.Random(1), ["panic", "crash", "nil pointer"], "kubelet")
            issue = retarget(fixture("issues/opened.payload.json"), REPO, 900, body=text)
            issue["issue"]["title"] = "kubelet: panic crash"
            _, d1 = deliver(http, bot.url, "issues", issue)
            _, d2 = deliver(http, bot.url, "pull_request", pr_event("opened", 901, BUG_BODY))
            wait_done(env.engine, d1, d2)
        assert "kind/bug" in labels_of(env, 900)
        [on_issue] = bot_comments(env, 900)
        assert f"trained on issues' and PRs' title and body, {REPO}'s own" in on_issue.body
        assert version.name == "sift-linear-cv"  # issues' default where no encoder is installed
        assert f"{version.name}@{version.version}" in on_issue.body
        assert pooled.version not in on_issue.body
        [on_pr] = bot_comments(env, 901)
        assert "trained on release notes" in on_pr.body
    finally:
        bot.stop()


def test_the_comment_says_which_items_model_labelled() -> None:
    from kubesift.bot.model import Scored

    pooled = Scored({}, [], model="sift-embed@3", source="items")
    own = Scored({}, [], model="sift-embed@4", source="items", scope="o/r")
    notes = Scored({}, [], model="sift-linear@1", source="release-notes")
    assert pooled.described() == (
        "sift-embed@3 (trained on issues' and PRs' title and body, every repository's)"
    )
    assert own.described() == "sift-embed@4 (trained on issues' and PRs' title and body, o/r's own)"
    assert notes.described() == "sift-linear@1 (trained on release notes)"
