"""Single items, events, labels, comments and the other endpoints, over real HTTP."""

from __future__ import annotations

import httpx

from kubesift.testing import FakeGitHub, Fault

from .support import REPO, SMALL, Served

ISSUES = f"/repos/{REPO}/issues"


def test_single_issue_has_closed_by_and_lists_do_not(served: Served) -> None:
    one = served.get(f"{ISSUES}/6").json()
    assert one["closed_by"]["login"] == "bob"
    assert one["pull_request"]["merged_at"] == one["closed_at"]
    listed = served.get(ISSUES, params={"state": "closed"}).json()
    assert all("closed_by" not in i for i in listed)
    assert served.get("/repositories/4242/issues/6").json()["id"] == one["id"]


def test_gaps_answer_301_410_404(served_generated: Served) -> None:
    s = served_generated
    repo = s.fake.repo("kubernetes/kubernetes")
    deleted = min(n for n, why in repo.gone.items() if why == "deleted")
    hidden = min(n for n, why in repo.gone.items() if why == "inaccessible")
    moved = min(repo.moved)
    gone = s.get(f"/repos/kubernetes/kubernetes/issues/{deleted}")
    assert gone.status_code == 410
    assert gone.json()["message"] == "This issue was deleted"
    for number in (hidden, repo.max_number + 5):
        missing = s.get(f"/repos/kubernetes/kubernetes/issues/{number}")
        assert missing.status_code == 404
        assert missing.json() == {
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/issues/issues#get-an-issue",
        }
    redirect = s.get(f"/repos/kubernetes/kubernetes/issues/{moved}")
    assert redirect.status_code == 301
    location = redirect.headers["location"]
    assert redirect.json()["message"] == "Moved Permanently"
    assert redirect.json()["url"] == location
    target = s.client.get(location)
    assert target.status_code == 200
    assert target.json()["number"] == int(location.rsplit("/", 1)[1])
    followed = s.client.get(f"/repos/kubernetes/kubernetes/issues/{moved}", follow_redirects=True)
    assert followed.json()["id"] == target.json()["id"]


def test_repo_events_newest_first_with_cursor(served: Served) -> None:
    fake = served.fake
    total = len(fake.repo(REPO).events)
    ids, pages = [], 0
    url: str | None = f"/repos/{REPO}/issues/events?per_page=4"
    while url:
        response = served.get(url)
        assert response.status_code == 200
        pages += 1
        for event in response.json():
            ids.append(event["id"])
            assert event["issue"]["number"] >= 1 and event["actor"]["login"]
            assert event["label"]["name"] and event["label"]["color"]
        url = response.links.get("next", {}).get("url")
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == total
    assert pages == -(-total // 4)


def test_label_add_remove_records_events_and_bumps_updated_at(served: Served) -> None:
    before = served.get(f"{ISSUES}/1").json()
    added = served.client.post(f"{ISSUES}/1/labels", json={"labels": ["kind/bug", "Sig/Node"]})
    assert added.status_code == 200
    assert [label["name"] for label in added.json()] == ["kind/bug", "sig/node"]
    after = served.get(f"{ISSUES}/1").json()
    assert after["updated_at"] > before["updated_at"]
    events = served.get(f"{ISSUES}/1/events").json()
    assert [(e["event"], e["label"]["name"], e["actor"]["login"]) for e in events] == [
        ("labeled", "kind/bug", "alice"),
        ("labeled", "sig/node", "alice"),
    ]
    removed = served.client.delete(f"{ISSUES}/1/labels/kind%2Fbug")
    assert removed.status_code == 200
    assert [label["name"] for label in removed.json()] == ["sig/node"]
    again = served.client.delete(f"{ISSUES}/1/labels/kind%2Fbug")
    assert again.status_code == 404
    assert again.json()["message"] == "Label does not exist"
    replaced = served.client.put(f"{ISSUES}/1/labels", json={"labels": ["lgtm"]})
    assert [label["name"] for label in replaced.json()] == ["lgtm"]
    kinds = [e["event"] for e in served.get(f"{ISSUES}/1/events").json()]
    assert kinds == ["labeled", "labeled", "unlabeled", "unlabeled", "labeled"]
    assert served.get(f"{ISSUES}/1/labels").json()[0]["name"] == "lgtm"
    anonymous = httpx.post(f"{served.server.url}{ISSUES}/1/labels", json={"labels": ["x"]})
    assert anonymous.status_code == 401


def test_comments_crud_and_too_long_body(served: Served) -> None:
    created = served.client.post(f"{ISSUES}/2/comments", json={"body": "hello"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["user"]["login"] == "alice" and comment["body"] == "hello"
    url = f"/repos/{REPO}/issues/comments/{comment['id']}"
    listed = served.get(f"{ISSUES}/2/comments").json()
    assert listed[-1]["id"] == comment["id"]
    assert served.get(f"{ISSUES}/2").json()["comments"] == 2 % 4 + 1
    assert served.client.patch(url, json={"body": "edited"}).json()["body"] == "edited"
    assert served.get(url).json()["body"] == "edited"
    assert served.client.delete(url).status_code == 204
    assert served.get(url).status_code == 404
    too_long = served.client.post(f"{ISSUES}/2/comments", json={"body": "x" * 65_537})
    assert too_long.status_code == 422
    body = too_long.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"] == [
        {
            "resource": "IssueComment",
            "code": "custom",
            "field": "body",
            "message": "body is too long (maximum is 65536 characters)",
        }
    ]
    ok = served.client.post(f"{ISSUES}/2/comments", json={"body": "y" * 65_536})
    assert ok.status_code == 201


def test_generated_items_have_synthesised_comments(served_generated: Served) -> None:
    s = served_generated
    repo = s.fake.repo("kubernetes/kubernetes")
    item = next(i for i in repo.items.values() if 3 <= i.comments <= 30)
    comments = s.get(
        f"/repos/kubernetes/kubernetes/issues/{item.number}/comments", params={"per_page": 100}
    ).json()
    assert len(comments) == item.comments
    stamps = [c["created_at"] for c in comments]
    assert stamps == sorted(stamps)


def test_repo_root_user_and_unknown_routes(served: Served) -> None:
    repo = served.get(f"/repos/{REPO}").json()
    assert (repo["id"], repo["full_name"]) == (4242, REPO)
    assert repo["issues_url"] == f"{served.server.url}/repos/{REPO}/issues{{/number}}"
    assert served.get("/repositories/4242").json()["full_name"] == REPO
    root = served.get("/").json()
    assert root["current_user_url"] == f"{served.server.url}/user"
    assert served.get("/user").json()["login"] == "alice"
    unknown = served.get("/repos/octo/nope/issues")
    assert unknown.status_code == 404
    assert (
        unknown.json()["documentation_url"]
        == "https://docs.github.com/rest/repos/repos#get-a-repository"
    )
    assert served.get("/no/such/route").status_code == 404
    labels = served.get(f"/repos/{REPO}/labels").json()
    assert {label["name"] for label in labels} >= {"kind/bug", "sig/node"}


def test_headers_look_like_github(served: Served) -> None:
    response = served.get(f"{ISSUES}/1")
    headers = response.headers
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-github-media-type"] == "github.v3; format=json"
    assert headers["x-ratelimit-limit"] == "5000"
    assert headers["x-ratelimit-resource"] == "core"
    assert int(headers["x-ratelimit-used"]) + int(headers["x-ratelimit-remaining"]) == 5000
    assert int(headers["x-ratelimit-reset"]) > served.fake.now()
    assert headers["etag"].startswith('W/"') and headers["x-github-request-id"]
    assert headers["date"].endswith("GMT") and "server" not in headers


def test_mutations_via_control_api(served: Served) -> None:
    client = served.client
    touched = client.post(
        "/_fake/mutate", json={"repo": REPO, "action": "touch", "count": 10, "seed": 1}
    ).json()["numbers"]
    assert len(set(touched)) == 10
    stamp = max(
        i.updated_at for i in served.fake.repo(REPO).items.values() if i.number not in touched
    )
    since = served.get(
        ISSUES,
        params={
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "since": "2026-11-01T00:00:00Z",
        },
    ).json()
    assert {i["number"] for i in since} == set(touched)
    assert all(i["updated_at"] > f"{stamp}" for i in since)
    created = client.post(
        "/_fake/mutate",
        json={
            "repo": REPO,
            "action": "create",
            "kind": "pr",
            "title": "new",
            "user": "dave",
            "labels": ["kind/feature"],
        },
    ).json()
    assert created["number"] == SMALL + 1
    new = served.get(f"{ISSUES}/{SMALL + 1}").json()
    assert "pull_request" in new and new["labels"][0]["name"] == "kind/feature"
    client.post(
        "/_fake/mutate",
        json={"repo": REPO, "action": "edit", "number": 1, "title": "renamed", "state": "closed"},
    )
    edited = served.get(f"{ISSUES}/1").json()
    assert (edited["title"], edited["state"]) == ("renamed", "closed")
    client.post("/_fake/mutate", json={"repo": REPO, "action": "delete", "number": 2})
    assert served.get(f"{ISSUES}/2").status_code == 410
    moved = client.post(
        "/_fake/mutate",
        json={"repo": REPO, "action": "transfer", "number": 4, "target": "octo/elsewhere"},
    ).json()
    assert moved["target"] == "octo/elsewhere"
    assert served.get(f"{ISSUES}/4").status_code == 301
    label = client.post(
        "/_fake/mutate",
        json={
            "repo": REPO,
            "action": "remove_label",
            "number": 5,
            "label": "kind/bug",
            "actor": "erin",
        },
    )
    assert label.json()["labels"] == []
    bad = client.post("/_fake/mutate", json={"repo": REPO, "action": "explode", "number": 1})
    assert bad.status_code == 400


def test_touch_keeps_labels_equal_to_event_replay() -> None:
    fake = FakeGitHub()
    from kubesift.testing import generate_repo

    repo = fake.add_repo(generate_repo(800, seed=2))
    fake.touch("kubernetes/kubernetes", 300, seed=9)
    for item in repo.items.values():
        current: set[str] = set()
        for event in repo.item_events.get(item.number, []):
            if event.event == "labeled":
                current.add(event.label or "")
            elif event.event == "unlabeled":
                current.discard(event.label or "")
        assert current == set(item.labels)
        assert all(e.created_at <= item.updated_at for e in repo.item_events.get(item.number, []))
    ids = [e.id for e in repo.events]
    assert ids == sorted(ids)


def test_faults_can_be_injected_over_http(served: Served) -> None:
    client = served.client
    made = client.post(
        "/_fake/faults", json={"kind": "status", "status": 503, "count": 2, "path": "/issues"}
    )
    assert made.status_code == 201
    assert [served.get(ISSUES).status_code for _ in range(3)] == [503, 503, 200]
    client.post("/_fake/faults", json={"kind": "per_page_limit", "per_page": 50})
    assert served.get(ISSUES, params={"per_page": 100}).status_code == 502
    assert served.get(ISSUES, params={"per_page": 100}).json() == {"message": "Server Error"}
    assert served.get(ISSUES, params={"per_page": 50}).status_code == 200
    assert client.delete("/_fake/faults").status_code == 204
    assert served.get(ISSUES, params={"per_page": 100}).status_code == 200
    stats = client.get("/_fake/stats").json()
    assert stats["by_route"]["GET /repos/{owner}/{repo}/issues"]["503"] == 2
    assert stats["faults_fired"] == {"status": 2, "per_page_limit": 2}
    client.post("/_fake/stats/reset")
    assert client.get("/_fake/stats").json()["total"] == 0


def test_python_fault_api(served: Served) -> None:
    served.fake.inject(Fault("malformed"))
    broken = served.get(ISSUES)
    assert broken.status_code == 200
    try:
        broken.json()
        raise AssertionError("expected a truncated body")
    except ValueError:
        pass
    assert served.get(ISSUES).json()
    served.fake.inject(Fault("slow", seconds=0.3, count=1))
    response = served.get(ISSUES)
    assert response.elapsed.total_seconds() >= 0.29
