"""Names and links: an item's link follows the API it was fetched from."""

from __future__ import annotations

import pytest

from kubesift.errors import UserError
from kubesift.github.names import check_repo, item_url


def test_an_item_links_to_where_it_was_fetched_from() -> None:
    assert item_url("o/n", "pr", 7) == "https://github.com/o/n/pull/7"
    assert (
        item_url("o/n", "issue", 7, "https://api.github.com/") == "https://github.com/o/n/issues/7"
    )
    assert item_url("o/n", "pr", 7, "https://ghe.corp/api/v3") == "https://ghe.corp/o/n/pull/7"
    # A fake GitHub (the demo's) or a proxy: the item on that API, never github.com.
    assert item_url("o/n", "pr", 7, "http://127.0.0.1:8765") == (
        "http://127.0.0.1:8765/repos/o/n/issues/7"
    )


def test_check_repo() -> None:
    assert check_repo("kubernetes/kubernetes") == "kubernetes/kubernetes"
    with pytest.raises(UserError, match="OWNER/NAME"):
        check_repo("kubernetes")
    for climbing in ("../x", "x/..", "./.", "../.."):  # would leave models-items/repos/
        with pytest.raises(UserError, match="OWNER/NAME"):
            check_repo(climbing)
    assert check_repo("a.b/c..d") == "a.b/c..d"  # dots inside a name are GitHub's own
