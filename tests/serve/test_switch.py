"""Readiness before and after a model exists; a hot switch under concurrent load."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from kubesift.learn import registry
from kubesift.learn.service import save_trained
from kubesift.learn.train import Trained
from tests.serve.conftest import NAME, ServeProcess

pytest.importorskip("kserve", reason="kubesift serve needs the serve extra")

PREDICT = f"/v1/models/{NAME}:predict"
INFER = f"/v2/models/{NAME}/infer"
V2_BODY = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["fix"]}]}


def test_ready_only_once_a_model_is_loaded(tmp_path: Path, trained: Trained) -> None:
    home = tmp_path / "home"
    server = ServeProcess(home, "--poll-interval", "0.1")  # nothing trained yet
    try:
        base = server.url
        assert httpx.get(base + "/").status_code == 200  # live
        assert httpx.get(base + "/v2/health/live").status_code == 200
        not_ready = httpx.get(base + "/v2/health/ready")
        assert not_ready.status_code == 503 and "error" in not_ready.json()
        assert httpx.get(f"{base}/v1/models/{NAME}").status_code == 503
        assert httpx.get(f"{base}/v2/models/{NAME}/ready").status_code == 503
        predict = httpx.post(base + PREDICT, content=b'{"text": "fix"}')
        assert predict.status_code == 503 and "not ready" in predict.json()["error"]
        assert httpx.post(base + INFER, json=V2_BODY).status_code == 503
        assert httpx.get(f"{base}/v1/models/nope").status_code == 404

        save_trained(home / "models", trained)  # `kubesift train` finishing
        server.wait_ready()
        assert httpx.get(f"{base}/v1/models/{NAME}").json() == {"name": NAME, "ready": True}
        assert httpx.post(base + PREDICT, content=b'{"text": "fix"}').status_code == 200
    finally:
        assert server.stop() == 0  # SIGTERM: a clean exit


def test_hot_switch_under_concurrent_requests(tmp_path: Path, trained: Trained) -> None:
    models = tmp_path / "home" / "models"
    first = save_trained(models, trained)
    registry.promote(models, first.name, first.version)
    server = ServeProcess(models.parent, "--poll-interval", "0.1")
    server.wait_ready()
    seen: list[str] = []
    # (sent, answered, version) of every V2 answer: requests run concurrently, so the
    # order answers are appended in is not the order the server took them in.
    timed: list[tuple[float, float, str]] = []
    failures: list[str] = []
    stop = threading.Event()

    def client(v2: bool) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    if v2:
                        response = http.post(INFER, json=V2_BODY)
                    else:
                        response = http.post(PREDICT, content=b'{"text": "fix a panic"}')
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                elif v2:
                    version = response.json()["model_version"]
                    seen.append(version)
                    timed.append((sent, time.monotonic(), version))

    threads = [threading.Thread(target=client, args=(i % 2 == 0,)) for i in range(8)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        second = save_trained(models, trained)
        registry.promote(models, second.name, second.version)
        deadline = time.monotonic() + 20
        while second.version not in seen[-5:] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    metrics = httpx.get(server.url + "/metrics").text
    server.stop()
    assert not failures, failures[:5]
    assert seen[0] == first.version and seen[-1] == second.version
    # Never back to the old version: a request sent after an answer came from the new
    # version is answered by the new version too.
    first_new = min(done for _, done, v in timed if v == second.version)
    assert {v for sent, _, v in timed if sent > first_new} == {second.version}
    assert len(seen) > 20
    assert f'version="{second.version}"' in metrics and f'version="{first.version}"' not in metrics
