"""Credentials, primary and secondary rate limits, conditional requests, GitHub App auth."""

from __future__ import annotations

import time

import httpx
import jwt

from kubesift.testing import FakeGitHub, Fault, generate_rsa_keypair

from .support import REPO, Served, build_small, serve

ISSUES = f"/repos/{REPO}/issues"


def test_bad_token_is_401_and_anonymous_gets_60(served: Served) -> None:
    url = f"{served.server.url}{ISSUES}"
    bad = httpx.get(url, headers={"Authorization": "token nope"})
    assert bad.status_code == 401
    assert bad.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
    }
    bearer = httpx.get(url, headers={"Authorization": "Bearer tok-b"})
    assert bearer.status_code == 200
    anonymous = httpx.get(url)
    assert anonymous.status_code == 200
    assert anonymous.headers["x-ratelimit-limit"] == "60"
    served.fake.require_auth = True
    assert httpx.get(url).status_code == 401


def test_if_none_match_gives_free_304(served: Served) -> None:
    first = served.get(ISSUES)
    etag = first.headers["etag"]
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = served.get(ISSUES, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    stats = served.fake.stats_snapshot()
    assert stats["not_modified"] == 1 and stats["quota_used"] == 1
    other_token = served.get(
        ISSUES, headers={"If-None-Match": etag, "Authorization": "token tok-b"}
    )
    assert other_token.status_code == 200  # ETags vary with the credential, as on GitHub
    served.fake.add_labels(REPO, 25, ["kind/cleanup"], actor="carol")
    changed = served.get(ISSUES, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_quota_exhaustion_and_refill_after_the_window() -> None:
    fake = FakeGitHub(rate_limit=3, rate_window_seconds=60)
    fake.add_token("tok-a", "alice")
    build_small(fake)
    for s in serve(fake):
        remaining = [s.get(ISSUES).headers["x-ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        limited = s.get(ISSUES)
        assert limited.status_code == 403
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert limited.json()["message"].startswith(
            f"API rate limit exceeded for user ID {fake.user_id('alice')}."
        )
        assert (
            limited.json()["documentation_url"]
            == "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        )
        reset = int(limited.headers["x-ratelimit-reset"])
        assert s.get("/rate_limit").json()["resources"]["core"]["remaining"] == 0
        s.client.post("/_fake/clock", json={"advance": reset - fake.clock.now() + 1})
        refilled = s.get(ISSUES)
        assert refilled.status_code == 200
        assert refilled.headers["x-ratelimit-remaining"] == "2"


def test_accelerated_clock_refills_too() -> None:
    fake = FakeGitHub(rate_limit=1, rate_window_seconds=30)
    fake.add_token("tok-a", "alice")
    build_small(fake)
    for s in serve(fake):
        assert s.get(ISSUES).status_code == 200
        assert s.get(ISSUES).status_code == 403
        fake.clock.set_speed(600)  # 30 fake seconds pass in 0.05 real seconds
        time.sleep(0.1)
        assert s.get(ISSUES).status_code == 200


def test_secondary_limit_and_exhaust_faults(served: Served) -> None:
    served.fake.inject(Fault("secondary", status=429, seconds=7))
    limited = served.get(ISSUES)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert limited.headers["x-ratelimit-remaining"] != "0"
    assert served.get(ISSUES).status_code == 200
    served.fake.inject(Fault("exhaust", seconds=30))
    exhausted = served.get(ISSUES)
    assert exhausted.status_code == 403 and exhausted.headers["x-ratelimit-remaining"] == "0"
    assert int(exhausted.headers["x-ratelimit-reset"]) <= served.fake.clock.now() + 31
    assert served.get(ISSUES, headers={"Authorization": "token tok-b"}).status_code == 200


def test_app_jwt_gives_installation_token(served: Served) -> None:
    fake = served.fake
    app = fake.add_app(777, installation_id=99, account="octo")
    assert app.private_key_pem is not None
    now = int(time.time())
    token = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": "777"}, app.private_key_pem, algorithm="RS256"
    )
    bearer = {"Authorization": f"Bearer {token}"}
    installation = served.get(f"/repos/{REPO}/installation", headers=bearer)
    assert installation.status_code == 200 and installation.json()["id"] == 99
    issued = served.client.post("/app/installations/99/access_tokens", headers=bearer)
    assert issued.status_code == 201
    body = issued.json()
    assert body["token"].startswith("ghs_") and body["expires_at"].endswith("Z")
    assert body["repository_selection"] == "all" and body["permissions"]["issues"] == "write"
    as_app = {"Authorization": f"token {body['token']}"}
    assert served.get(ISSUES, headers=as_app).status_code == 200
    labeled = served.client.post(f"{ISSUES}/3/labels", json=["kind/bug"], headers=as_app)
    assert labeled.status_code == 200
    event = served.get(f"{ISSUES}/3/events").json()[-1]
    assert event["actor"]["login"] == "kubesift-test[bot]"
    assert event["actor"]["type"] == "Bot"
    assert event["performed_via_github_app"]["id"] == 777
    fake.clock.advance(3601)
    assert served.get(ISSUES, headers=as_app).status_code == 401


def test_bad_jwts_are_401(served: Served) -> None:
    app = served.fake.add_app(778)
    other_private, _ = generate_rsa_keypair()
    now = int(time.time())
    forged = jwt.encode(
        {"iat": now, "exp": now + 300, "iss": "778"}, other_private, algorithm="RS256"
    )
    expired = jwt.encode(
        {"iat": now - 900, "exp": now - 300, "iss": "778"},
        app.private_key_pem or "",
        algorithm="RS256",
    )
    too_long = jwt.encode(
        {"iat": now, "exp": now + 3600, "iss": "778"}, app.private_key_pem or "", algorithm="RS256"
    )
    for token in (forged, expired, too_long, "eyJhbGciOi.not.ajwt"):
        response = served.get("/app", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    good = served.get("/app", headers={"Authorization": f"Bearer {app.sign_jwt()}"})
    assert good.status_code == 200 and good.json()["id"] == 778
    assert served.get("/app").status_code == 401  # a personal token is not a JWT


def test_install_app_on_one_repository(served: Served) -> None:
    app = served.fake.add_app(779, account="someone-else")
    bearer = {"Authorization": f"Bearer {app.sign_jwt()}"}
    assert served.get(f"/repos/{REPO}/installation", headers=bearer).status_code == 404
    inst = served.fake.install_app(779, REPO)
    found = served.get(f"/repos/{REPO}/installation", headers=bearer).json()
    assert found["id"] == inst.id and found["repository_selection"] == "selected"
