"""Release-note extraction from PR bodies, as the Kubernetes release tooling does it."""

from __future__ import annotations

import pytest

from kubesift.collect.releasenotes import (
    ReleaseNote,
    clean_note_text,
    extract_release_note,
    find_note_block,
    is_none_text,
)

# The kubernetes/kubernetes pull-request template, as an author fills it in.
K8S_TEMPLATE = """<!--  Thanks for sending a pull request!  Here are some tips for you:

1. If this is your first time, please read our contributor guidelines:
https://git.k8s.io/community/contributors/guide/first-contribution.md#your-first-contribution
and developer guide https://git.k8s.io/community/contributors/devel/development.md
2. Please label this pull request according to what type of issue you are addressing.
-->

#### What type of PR is this?

/kind bug

#### What this PR does / why we need it:

The kubelet crashed when the CSI driver was not registered yet.

#### Which issue(s) this PR fixes:

Fixes #12345

#### Special notes for your reviewer:

#### Does this PR introduce a user-facing change?
<!--
If no, just write "NONE" in the release-note block below.
If yes, a release note is required:
Enter your extended release note in the block below. If the PR requires additional action
from users switching to the new release, include the string "action required".

For more information on release notes see:
https://git.k8s.io/community/contributors/guide/release-notes.md
-->
```release-note
{note}
```

#### Additional documentation e.g., KEPs (Kubernetes Enhancement Proposals), usage docs, etc.:

<!--
This section can be blank if this PR does not require a release note.

When adding links which point to resources within git repositories, like
KEPs or supporting documentation, please reference the following format:

```docs
[KEP]: <link>
[Usage]: <link>
[Other doc]: <link>
```
-->
```docs

```
"""


def template_body(note: str, *, crlf: bool = False) -> str:
    body = K8S_TEMPLATE.replace("{note}", note)
    return body.replace("\n", "\r\n") if crlf else body


# --- the examples the reference gives for the Go tooling --------------------------------------


def test_simple_note_keeps_hash_unescaped() -> None:
    note = extract_release_note("```release-note\nFix a bug in #123\n```")
    assert note == ReleaseNote("note", "Fix a bug in #123", False, "Fix a bug in #123")


def test_crlf_body_and_star_bullet() -> None:
    body = "Some description\r\n```release-note\r\n* Fix crash\r\n```\r\n"
    note = extract_release_note(body)
    assert note.status == "note"
    assert note.text == "Fix crash"  # one list entry is flattened, as the tooling does
    assert note.raw == "* Fix crash"


@pytest.mark.parametrize(
    "content",
    [
        "None",
        "NONE",
        "none",
        "N/A",
        "n/a",
        "NA",
        "no",
        '"NONE"',
        "'none'",
        "`NONE`",
        "None.",
        " NONE ",
    ],
)
def test_none_words_mean_no_note(content: str) -> None:
    note = extract_release_note(f"```release-note\n{content}\n```")
    assert note.status == "none"
    assert note.text is None
    assert note.raw == content


@pytest.mark.parametrize(
    "body",
    [
        "```release-note\n```",
        "```release-note\n\n```",
        "```release-note\r\n\r\n```",
        "```release-notes\n   \n```",
        "```release-note\n<!-- Write your release note here -->\n```",
    ],
    ids=["no-line", "blank-line", "crlf-blank", "spaces", "comment-only"],
)
def test_empty_block_means_no_note(body: str) -> None:
    assert extract_release_note(body).status == "none"


@pytest.mark.parametrize("body", [None, "", "Fixes a typo in the kubelet docs."])
def test_no_block_is_missing(body: str | None) -> None:
    assert extract_release_note(body) == ReleaseNote("missing", None, False, None)


def test_release_note_none_command_without_block() -> None:
    note = extract_release_note("Just a test cleanup.\n\n/release-note-none\n")
    assert note == ReleaseNote("none", None, False, None)


def test_release_note_none_command_wins_over_a_block() -> None:
    body = "```release-note\nAdded --foo\n```\n/release-note-none"
    note = extract_release_note(body)
    assert note.status == "none"
    assert note.text is None
    assert note.raw == "Added --foo"


def test_note_followed_by_docs_block_is_kept() -> None:
    # Go's exclusion regex matches "```\n```" and drops this PR; we keep the note.
    body = (
        "```release-note\nAdd the --foo flag to kubectl\n```\n"
        "```docs\n[KEP]: https://github.com/kubernetes/enhancements/issues/1\n```\n"
    )
    note = extract_release_note(body)
    assert note.status == "note"
    assert note.text == "Add the --foo flag to kubectl"


def test_empty_code_block_elsewhere_does_not_hide_the_note() -> None:
    body = "```release-note\nAdd X\n```\n\nLogs:\n```\n```\n"
    assert extract_release_note(body).text == "Add X"


@pytest.mark.parametrize(
    "body",
    [
        "see release-note guidelines",
        "```release-note\nNever closed",
        "#### Does this PR introduce a user-facing change?\nYes, a new flag.\n",
        "#### Does this PR introduce a user-facing change?\n```docs\nhttps://k8s.io\n```\n",
    ],
    ids=["mention", "unclosed", "heading-no-fence", "heading-docs-fence"],
)
def test_mention_without_parseable_block_is_error(body: str) -> None:
    assert extract_release_note(body) == ReleaseNote("error", None, False, None)


# --- real template bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_kubernetes_template_with_a_note(crlf: bool) -> None:
    body = template_body("Fixed a kubelet crash when a CSI driver is not registered.", crlf=crlf)
    note = extract_release_note(body)
    assert note.status == "note"
    assert note.text == "Fixed a kubelet crash when a CSI driver is not registered."
    assert not note.action_required


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_kubernetes_template_with_none(crlf: bool) -> None:
    note = extract_release_note(template_body("NONE", crlf=crlf))
    assert note.status == "none"
    assert note.raw == "NONE"


def test_kubernetes_template_left_empty() -> None:
    assert extract_release_note(template_body("")).status == "none"


def test_kubernetes_template_with_block_deleted_is_error() -> None:
    body = template_body("").replace("```release-note\n\n```\n", "")
    assert extract_release_note(body).status == "error"


# --- cleaning -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("[Action Required] The --foo flag is removed.", "The --foo flag is removed."),
        ("ACTION REQUIRED: The --foo flag is removed.", "The --foo flag is removed."),
        ("action required:\nThe --foo flag is removed.", "The --foo flag is removed."),
        ("* [action required] Bump etcd to 3.5", "Bump etcd to 3.5"),
    ],
)
def test_action_required_is_flagged_and_removed(content: str, text: str) -> None:
    note = extract_release_note(f"```release-note\n{content}\n```")
    assert note.status == "note"
    assert note.text == text
    assert note.action_required
    assert note.raw == content


def test_multi_line_note_keeps_its_lines() -> None:
    body = "```release-note\nkubeadm: changes\n* join retries\n* reset cleans up\n\nMore.\n```"
    note = extract_release_note(body)
    assert note.text == "kubeadm: changes\n- join retries\n- reset cleans up\n\nMore."
    assert note.raw == "kubeadm: changes\n* join retries\n* reset cleans up\n\nMore."


@pytest.mark.parametrize(
    ("content", "text"),
    [
        # The release tooling's ``unlist``: one list entry becomes plain lines.
        ("- Fix a crash of the kubelet", "Fix a crash of the kubelet"),
        ("- Fix a crash\n  when the pod is deleted", "Fix a crash\nwhen the pod is deleted"),
        ("* Star entry\n  continued", "Star entry\ncontinued"),
        ("- Entry\n  - a sub item\n  continued", "Entry\n- a sub item\ncontinued"),
        # A second top-level entry is a real list: from there on lines stay as written.
        ("- first\n- second", "first\n- second"),
        ("- first\n  more\n- second\n  more", "first\nmore\n- second\n  more"),
        # Only a note that starts with an entry is flattened.
        ("Intro\n- a\n- b", "Intro\n- a\n- b"),
        ("-no space is not an entry", "-no space is not an entry"),
    ],
    ids=["one-line", "continued", "star", "sublist", "two-entries", "two-continued", "intro",
         "no-space"],
)  # fmt: skip
def test_single_list_entry_is_flattened(content: str, text: str) -> None:
    note = extract_release_note(f"```release-note\n{content}\n```")
    assert note.text == text
    assert note.raw == content


def test_single_list_entry_crlf_template() -> None:
    body = template_body("- Fix a crash\n  when the pod is deleted", crlf=True)
    assert extract_release_note(body).text == "Fix a crash\nwhen the pod is deleted"


def test_crlf_multi_line_raw_is_verbatim() -> None:
    note = extract_release_note("```release-note\r\nLine one\r\n* two\r\n```")
    assert note.text == "Line one\n- two"
    assert note.raw == "Line one\r\n* two"


@pytest.mark.parametrize(
    "content",
    ["**Note:** the API changed", "No action required: upgrades are transparent", "a * b"],
)
def test_cleaning_leaves_mid_line_text_alone(content: str) -> None:
    # Go rewrites "* " and "action required:" anywhere in the note; we only touch line starts.
    note = extract_release_note(f"```release-note\n{content}\n```")
    assert note.text == content
    assert not note.action_required


def test_html_comment_inside_note_is_dropped() -> None:
    note = extract_release_note("```release-note\n<!-- hint -->\nAdded X\n```")
    assert note.text == "Added X"
    assert note.raw == "<!-- hint -->\nAdded X"


def test_clean_note_text_directly() -> None:
    assert clean_note_text("\r\n[action required] * x\r\n") == ("- x", True)
    assert clean_note_text("plain") == ("plain", False)


# --- which blocks count -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("```release-notes\nPlural fence\n```", "Plural fence"),
        ("```release-note   \nTrailing spaces\n```", "Trailing spaces"),
        ("```dev-release-note\nBump client-go\n```", "Bump client-go"),
        ("```dev-release-notes\r\nBump client-go\r\n```", "Bump client-go"),
        ("```release-note\nFirst\n```\ntext\n```release-note\nSecond\n```", "First"),
        ("Intro ```release-note\nInline opening\n```", "Inline opening"),
    ],
    ids=["plural", "trailing-space", "dev", "dev-crlf", "first-block", "inline-open"],
)
def test_recognised_blocks(body: str, text: str) -> None:
    assert extract_release_note(body).text == text


def test_dev_release_note_captures_the_whole_block() -> None:
    # Go's dev-release-note pattern captures a single character.
    note = extract_release_note("```dev-release-note\r\nLonger text\r\n```")
    assert note.text == "Longer text"


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_bare_fence_after_user_facing_heading(crlf: bool) -> None:
    body = (
        "#### Does this PR introduce a user-facing change?\n"
        "<!--\nExample:\n```\nNONE\n```\n-->\n"
        "```\nAdded the --bar flag\n```\n"
    )
    if crlf:
        body = body.replace("\n", "\r\n")
    note = extract_release_note(body)
    assert note.status == "note"
    assert note.text == "Added the --bar flag"


def test_bare_fence_after_old_release_note_heading() -> None:
    body = "**Release note**:\n<!-- Write your release note -->\n```\nNONE\n```\n"
    assert extract_release_note(body).status == "none"


def test_bare_code_block_without_heading_is_not_a_note() -> None:
    # Go takes any bare CRLF fence as the note, e.g. this command output.
    body = "Repro:\r\n```\r\nkubectl get pods\r\n```\r\n"
    assert extract_release_note(body).status == "missing"


def test_release_note_block_wins_over_bare_fence() -> None:
    body = (
        "Does this PR introduce a user-facing change?\n```\nBare\n```\n"
        "```release-note\nTagged\n```\n"
    )
    assert extract_release_note(body).text == "Tagged"


def test_find_note_block_and_is_none_text() -> None:
    assert find_note_block("nothing here") is None
    assert find_note_block("```release-note\nX\r\n```") == "X"
    assert is_none_text("  ") and is_none_text("N/A") and not is_none_text("Nothing changes")
