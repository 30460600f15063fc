"""Serving the fake: a background thread for tests, a foreground process for humans."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from kubesift.testing import FakeGitHub, create_app, serve_in_thread


def test_serve_in_thread_starts_and_stops() -> None:
    fake = FakeGitHub()
    server = serve_in_thread(create_app(fake))
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    assert httpx.get(f"{server.url}/").status_code == 200
    server.stop()
    assert not server.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/", timeout=2)


def test_run_fake_github_prints_url_and_token() -> None:
    code = (
        "from kubesift.testing import run_fake_github; "
        "run_fake_github(items=300, port=0, seed=1, token='ghp_dev', quiet=True)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(": ", 1)[1].strip()
        token = proc.stdout.readline().split(": ", 1)[1].strip()
        assert token == "ghp_dev"
        headers = {"Authorization": f"token {token}"}
        response = httpx.get(f"{url}/repos/kubernetes/kubernetes/issues", headers=headers)
        assert response.status_code == 200 and len(response.json()) > 0
        assert httpx.get(f"{url}/user", headers=headers).json()["login"] == "kubesift-dev"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
