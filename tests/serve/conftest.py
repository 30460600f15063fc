"""A small trained model and a real ``kubesift serve`` process to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubesift.collect.importer import save_notes
from kubesift.config import load_settings
from kubesift.learn.dataset import load_dataset
from kubesift.learn.service import save_trained
from kubesift.learn.train import Trained, TrainSpec, train
from kubesift.store import open_store
from tests.learn.conftest import synthetic_notes

NAME = "kubernetes-analysis"
SPEC = TrainSpec(labels=("kind/bug",), families=("sig",), split="release:1.29", compare=(), folds=3)


def train_small(home: Path) -> Trained:
    """A model trained on the synthetic notes in about a second."""
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    save_notes(engine, synthetic_notes(), "kubernetes/kubernetes")
    return train(load_dataset(engine), SPEC)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_small(tmp_path_factory.mktemp("train"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """``python -m kubesift serve`` as a real process on a free port."""

    def __init__(self, home: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KUBESIFT_HOME": str(home)}
        env.pop("KUBESIFT_DATABASE_URL", None)
        self.log = home.parent / f"serve-{self.port}.log"
        self.log_file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubesift", "serve", "--port", str(self.port), *args],
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self.wait(lambda: httpx.get(f"{self.url}/", timeout=1).status_code == 200)

    def wait(self, check: Any, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"kubesift serve exited: {self.log.read_text()[-3000:]}")
            try:
                if check():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out; server log: {self.log.read_text()[-3000:]}")

    def wait_ready(self) -> None:
        self.wait(lambda: httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200)

    def stop(self) -> int:
        self.proc.terminate()
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        self.log_file.close()
        return code


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, trained: Trained) -> Iterator[ServeProcess]:
    """A server with one saved model and a 64 KiB body cap."""
    home = tmp_path_factory.mktemp("served") / "home"
    save_trained(home / "models", trained)
    server = ServeProcess(home, "--max-body-bytes", "65536", "--poll-interval", "0.2")
    server.wait_ready()
    yield server
    server.stop()
