"""Text from outside, made safe for where it goes."""

from __future__ import annotations

import pytest

from kubesift.escape import http_url, slack_link, slack_text


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil.example/x",
        "/relative/path",
        "https://",
        "http://exa mple.com",
        "https://x.example/" + "a" * 3000,
        None,
        42,
    ],
)
def test_only_http_urls_become_links(url: object) -> None:
    assert http_url(url) is None


def test_http_urls_are_kept_as_given() -> None:
    for url in ("https://prow.k8s.io/view/gs/b/logs/job/1", "http://127.0.0.1:8080/x?a=1&b=2"):
        assert http_url(url) == url


def test_slack_text_cannot_ping_or_link() -> None:
    assert slack_text("<!channel> & <https://evil.example|click>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    )


def test_slack_links_are_built_only_to_http_and_cannot_be_cut_short() -> None:
    assert slack_link("javascript:alert(1)", "Runbook") is None
    link = slack_link("https://runbooks.example/a|b>c?x=1&y=<2>", "Run<book>")
    assert link == "<https://runbooks.example/a%7Cb%3Ec?x=1&amp;y=%3C2%3E|Run&lt;book&gt;>"
