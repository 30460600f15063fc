"""The pure core: signatures, events, policy, comments, the receiver's checks."""

from __future__ import annotations

import json

import pytest

from kubesift.bot import app, comment, events, policy, signature
from kubesift.bot.labelling import model_input
from kubesift.errors import UserError
from tests.bot.helpers import SECRET, fixture, retarget, signed_headers

VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_test_vector_and_sha1() -> None:
    assert signature.sign(b"Hello, World!", SECRET) == VECTOR
    assert signature.verify(b"Hello, World!", VECTOR, [SECRET])
    sha1 = signature.sign(b"Hello, World!", SECRET, "sha1")
    assert sha1.startswith("sha1=") and signature.verify(b"Hello, World!", sha1, ["x", SECRET])
    for bad in ("", "sha256=", "md5=abcd", "sha256=zz", VECTOR[:-1] + "0", "sha1" + VECTOR[6:]):
        assert not signature.verify(b"Hello, World!", bad, [SECRET])
    assert not signature.verify(b"Hello, World!", VECTOR, [])


def test_secret_file_formats() -> None:
    assert signature.parse_secrets("  tok3n \n").tokens_for("a/b") == ("tok3n",)
    yaml_text = """
'*':
  - value: all
    created_at: 2020-01-01T00:00:00Z
org:
  - value: org-old
  - value: org-new
org/repo:
  - value: repo
"""
    secrets = signature.parse_secrets(yaml_text)
    assert secrets.tokens_for("org/repo") == ("repo",)
    assert secrets.tokens_for("org/other") == ("org-old", "org-new")
    assert secrets.tokens_for("else/x") == ("all",)
    with pytest.raises(UserError):
        signature.parse_secrets(" \n")
    with pytest.raises(UserError):
        signature.parse_secrets("org:\n  - created_at: x\n")


def test_event_filter() -> None:
    opened = fixture("issues/opened.payload.json")
    target = events.parse("issues", opened)
    assert isinstance(target, events.Target) and target.kind == "issue"
    assert events.parse("issues", fixture("issues/assigned.payload.json")) is None
    pr = fixture("pull_request/opened.payload.json")
    assert isinstance(events.parse("pull_request", pr), events.Target)
    merged = json.loads(json.dumps(pr))
    merged["pull_request"]["merged"] = True
    assert events.parse("pull_request", merged) is None
    assert events.parse("pull_request", fixture("pull_request/closed.payload.json")) is None
    null_body = events.parse("pull_request", fixture("pull_request/opened.with-null-body.json"))
    assert isinstance(null_body, events.Target) and null_body.body == ""
    change = events.parse("pull_request", fixture("pull_request/unlabeled.payload.json"))
    assert isinstance(change, events.LabelChange) and change.action == "unlabeled"
    assert events.parse("issue_comment", fixture("issue_comment/created.payload.json")) is None
    with pytest.raises(events.MalformedEvent):
        events.parse("issues", {"action": "opened", "repository": {"full_name": "a/b"}})


def test_self_identity() -> None:
    me = frozenset({"kubesift[bot]"})
    assert events.is_self("kubesift[bot]", me) and events.is_self("KubeSift", me)
    assert not events.is_self("someone", me) and not events.is_self("", me)


SCORES = {"kind/bug": 0.9, "sig/node": 0.7, "kind/feature": 0.2, "area/x": 0.95}


def test_policy_only_adds_and_respects_humans() -> None:
    chosen = ["kind/bug", "sig/node", "area/x"]
    words = {"kind/bug": ["panic", "fix"]}
    p = policy.plan(SCORES, chosen, words, ["Sig/Node"], ["kind/bug"], policy.RepoSettings())
    assert p.add == ("area/x",) and p.present == ("sig/node",) and p.held_back == ("kind/bug",)
    assert [s.label for s in p.suggested] == ["area/x", "kind/bug", "sig/node"]
    fam = policy.plan(SCORES, chosen, {}, [], [], policy.RepoSettings(families=("kind", "sig")))
    assert fam.add == ("kind/bug", "sig/node")
    strict = policy.plan(SCORES, chosen, {}, [], [], policy.RepoSettings(target_precision=0.8))
    assert strict.add == ("area/x", "kind/bug")
    assert policy.plan(SCORES, [], {}, [], [], policy.RepoSettings()).add == ()


def test_human_removed_from_history() -> None:
    me = frozenset({"kubesift-bot"})
    history = [
        ("labeled", "kind/bug", "kubesift-bot"),
        ("unlabeled", "kind/bug", "alice"),
        ("unlabeled", "sig/node", "kubesift-bot"),
        ("unlabeled", "area/x", "bob"),
        ("labeled", "area/x", "bob"),
    ]
    assert policy.human_removed(history, me) == {"kind/bug"}


def test_comment_render_and_truncate() -> None:
    p = policy.plan(
        SCORES, ["kind/bug"], {"kind/bug": ["panic", "a`b"]}, [], [], policy.RepoSettings()
    )
    body = comment.render(p, "alice", model="m@1")
    assert body.endswith(comment.MARKER) and "**kind/bug** — 90% (added)" in body
    assert "`panic`" in body and "@alice" in body
    huge = comment.truncate("x" * 100_000)
    assert len(huge) <= comment.MAX_BODY and huge.endswith(comment.MARKER)
    mine = {"id": 1, "body": body, "user": {"login": "kubesift[bot]"}}
    spoof = {"id": 2, "body": body, "user": {"login": "mallory"}}
    assert comment.find_own([spoof, mine], frozenset({"kubesift[bot]"})) == [mine]


def test_model_input() -> None:
    pr = events.parse(
        "pull_request",
        retarget(
            fixture("pull_request/opened.payload.json"),
            "a/b",
            1,
            body="x\n```release-note\nFix a panic\n```\n",
        ),
    )
    assert isinstance(pr, events.Target)
    # A PR with a note is scored on the note alone, as the release-note model was trained.
    assert model_input(pr) == {
        "text": "Fix a panic",
        "title": None,
        "author": pr.author,
        "kind": "pr",
        "input": "release-note",
    }
    none = events.Target("a/b", 1, "pr", "t", "```release-note\nNONE\n```", "u", "u", None)
    assert model_input(none) is None
    issue = events.Target("a/b", 2, "issue", "Crash", "kubelet panics", "u", "u", None)
    item = model_input(issue)
    assert item is not None and (item["title"], item["text"]) == ("Crash", "kubelet panics")
    assert item["input"] == "text"  # an items model's input: title and body


def test_check_delivery_order() -> None:
    secrets = signature.parse_secrets(SECRET)
    body = json.dumps(fixture("issues/opened.payload.json")).encode()
    headers = {k.lower(): v for k, v in signed_headers(body, "issues").items()}
    assert app.check_delivery(headers, body, secrets).status == 200
    assert app.check_delivery({**headers, "x-github-event": ""}, body, secrets).status == 400
    no_sig = {k: v for k, v in headers.items() if not k.startswith("x-hub")}
    assert app.check_delivery(no_sig, body, secrets).status == 403
    form = {**headers, "content-type": "application/x-www-form-urlencoded"}
    assert app.check_delivery(form, body, secrets).status == 400
    assert app.check_delivery(headers, body + b" ", secrets).status == 403
    junk = b"[1, 2"
    junk_headers = {k.lower(): v for k, v in signed_headers(junk, "issues").items()}
    assert app.check_delivery(junk_headers, junk, secrets).status == 400


def _post(app_: object, headers: dict[str, str], chunks: int, chunk: bytes) -> tuple[int, int]:
    """POST ``chunks`` × ``chunk`` to the ASGI app; (status, chunks the app pulled)."""
    import asyncio

    pulled = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/hook",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(app_(scope, receive, send))  # type: ignore[operator]
    return int(sent[0]["status"]), pulled  # type: ignore[call-overload]


def test_oversized_body_is_refused_while_streaming() -> None:
    from sqlalchemy import create_engine

    receiver = app.create_app(
        create_engine("sqlite://"), signature.parse_secrets(SECRET), max_body=1 << 20
    )
    forged = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d-big",
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
        "Content-Type": "application/json",
    }
    chunk = b"x" * 65536
    # A forged 500 MB body without Content-Length: refused after the cap, not after 500 MB.
    status, pulled = _post(receiver, forged, 8000, chunk)
    assert status == 413
    assert pulled * len(chunk) <= (1 << 20) + len(chunk)
    # A declared length over the cap is refused before a byte of the body is read.
    status, pulled = _post(receiver, {**forged, "Content-Length": str(500 << 20)}, 8000, chunk)
    assert (status, pulled) == (413, 0)
    # Under the cap the signature check still decides.
    status, _ = _post(receiver, forged, 2, b"{}")
    assert status == 403


def test_model_input_is_cut_to_what_features_read() -> None:
    from kubesift.learn.features import MAX_TEXT_CHARS, MAX_TITLE_CHARS

    target = events.Target("o/r", 1, "issue", "T" * 50_000, "b" * 30_000_000, "al", "al", None)
    item = model_input(target)
    assert item is not None
    assert len(item["title"]) == MAX_TITLE_CHARS
    assert len(item["text"]) <= MAX_TEXT_CHARS
