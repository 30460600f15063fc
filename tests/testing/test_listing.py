"""Listing issues over real HTTP: filters, sort orders, cursor and page pagination."""

from __future__ import annotations

from typing import Any

from kubesift.testing import FakeGitHub
from kubesift.testing._clock import iso

from .support import REPO, SMALL, T0, Served

LIST = f"/repos/{REPO}/issues"


def walk(
    s: Served, path: str, params: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Follow ``rel="next"`` to the end; returns all items and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    response = s.get(path, params=params) if params else s.get(path)  # {} would drop the query
    while True:
        assert response.status_code == 200, response.text
        pages += 1
        items += response.json()
        nxt = response.links.get("next")
        if nxt is None:
            return items, pages
        response = s.get(nxt["url"])


def test_defaults_are_open_created_desc_30(served: Served) -> None:
    response = served.get(LIST)
    data = response.json()
    expected = [n for n in range(SMALL, 0, -1) if n % 3]
    assert [i["number"] for i in data] == expected
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "link" not in response.headers


def test_cursor_walk_returns_every_item_once(served: Served) -> None:
    items, pages = walk(served, LIST, {"state": "all", "per_page": 4, "direction": "asc"})
    assert [i["number"] for i in items] == list(range(1, SMALL + 1))
    assert pages == 7
    first = served.get(LIST, params={"state": "all", "per_page": 4})
    link = first.headers["link"]
    assert link.startswith(
        f"<{served.server.url}/repositories/4242/issues?state=all&per_page=4&after="
    ) and link.endswith('>; rel="next"')


def test_state_and_sort_orders(served: Served) -> None:
    closed, _ = walk(served, LIST, {"state": "closed", "per_page": 3})
    assert [i["number"] for i in closed] == [n for n in range(SMALL, 0, -1) if n % 3 == 0]
    assert all(i["state"] == "closed" for i in closed)
    updated, _ = walk(served, LIST, {"state": "all", "sort": "updated", "direction": "asc"})
    stamps = [i["updated_at"] for i in updated]
    assert stamps == sorted(stamps) and len(updated) == SMALL
    by_comments, _ = walk(served, LIST, {"state": "all", "sort": "comments", "per_page": 5})
    counts = [i["comments"] for i in by_comments]
    assert counts == sorted(counts, reverse=True) and len(by_comments) == SMALL


def test_since_is_inclusive_on_updated_at(served: Served, fake: FakeGitHub) -> None:
    pivot = fake.get_item(REPO, 10)
    items, _ = walk(
        served,
        LIST,
        {
            "state": "all",
            "since": iso(pivot.updated_at),
            "sort": "updated",
            "direction": "asc",
            "per_page": 2,
        },
    )
    expected = sorted(
        (i for i in fake.repo(REPO).items.values() if i.updated_at >= pivot.updated_at),
        key=lambda i: i.updated_at,
    )
    assert [i["number"] for i in items] == [i.number for i in expected]
    assert items[0]["number"] == 10
    created_order, _ = walk(served, LIST, {"state": "all", "since": iso(pivot.updated_at)})
    assert {i["number"] for i in created_order} == {i.number for i in expected}


def test_labels_filter(served: Served) -> None:
    items, _ = walk(served, LIST, {"state": "all", "labels": "KIND/bug"})
    assert [i["number"] for i in items] == [25, 20, 15, 10, 5]
    both, _ = walk(served, LIST, {"state": "all", "labels": "sig/node,kind/feature"})
    assert [i["number"] for i in both] == [21, 14, 7]


def test_item_updated_during_a_walk_reappears_at_the_end(served: Served) -> None:
    params = {"state": "all", "sort": "updated", "direction": "asc", "per_page": 5}
    first = served.get(LIST, params=params)
    seen = [i["number"] for i in first.json()]
    served.fake.add_labels(REPO, seen[0], ["kind/cleanup"], actor="carol")
    rest, _ = walk(served, first.links["next"]["url"])
    numbers = seen + [i["number"] for i in rest]
    assert numbers[-1] == seen[0]
    assert sorted(numbers[:-1]) == list(range(1, SMALL + 1))


def test_per_page_is_clamped_to_100(served: Served, fake: FakeGitHub) -> None:
    for n in range(SMALL + 1, 131):
        fake.create_item(REPO, title=f"more {n}", created_at=T0 + n * 3600)
    response = served.get(LIST, params={"state": "all", "per_page": 500})
    assert len(response.json()) == 100
    assert "after=" in response.headers["link"]


def test_page_numbers_work_until_the_10k_window(served: Served) -> None:
    response = served.get(LIST, params={"state": "all", "per_page": 10, "page": 2})
    assert [i["number"] for i in response.json()] == list(range(15, 5, -1))
    link = response.headers["link"]
    assert 'page=1>; rel="prev"' in link and 'page=3>; rel="next"' in link
    assert 'page=3>; rel="last"' in link and 'rel="first"' in link
    ok = served.get(LIST, params={"per_page": 100, "page": 100})
    assert ok.status_code == 200 and ok.json() == []
    refused = served.get(LIST, params={"per_page": 100, "page": 101})
    assert refused.status_code == 422
    assert refused.json() == {
        "message": "Pagination with the page parameter is not supported for large datasets, "
        "please use cursor based pagination (after/before)",
        "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
    }


def test_bad_cursor_and_bad_since_are_422(served: Served) -> None:
    assert served.get(LIST, params={"after": "bm90LWEtY3Vyc29y"}).status_code == 422
    assert served.get(LIST, params={"since": "yesterday"}).status_code == 422
    created = served.get(LIST, params={"per_page": 2}).links["next"]["url"]
    assert served.get(created.replace("per_page=2", "per_page=2&sort=updated")).status_code == 422


def test_generated_repo_full_walk_and_shapes(served_generated: Served) -> None:
    s = served_generated
    items, pages = walk(s, "/repos/kubernetes/kubernetes/issues", {"state": "all", "per_page": 100})
    numbers = [i["number"] for i in items]
    assert len(numbers) == len(set(numbers)) == 3_000 and pages == 30
    prs = [i for i in items if "pull_request" in i]
    issues = [i for i in items if "pull_request" not in i]
    assert set(prs[0]["pull_request"]) == {"url", "html_url", "diff_url", "patch_url", "merged_at"}
    assert "draft" in prs[0] and "draft" not in issues[0]
    expected = {
        "url",
        "repository_url",
        "labels_url",
        "comments_url",
        "events_url",
        "html_url",
        "id",
        "node_id",
        "number",
        "title",
        "user",
        "labels",
        "state",
        "state_reason",
        "locked",
        "assignee",
        "assignees",
        "milestone",
        "comments",
        "created_at",
        "updated_at",
        "closed_at",
        "author_association",
        "active_lock_reason",
        "body",
        "reactions",
        "timeline_url",
        "performed_via_github_app",
    }
    assert set(issues[0]) == expected
    assert set(prs[0]) == expected | {"draft", "pull_request"}
    assert all(i["url"].startswith(s.server.url) for i in items[:50])
    label = next(lab for i in items for lab in i["labels"])
    assert set(label) == {"id", "node_id", "url", "name", "color", "default", "description"}
