"""Whole failed-run logs kept and searched through the trigram index, with RE2's answer."""

from __future__ import annotations

import json
from pathlib import Path

from kubesift.ci import logs
from tests.ci.helpers import END, prow_run
from tests.conftest import run_cli

JOB = "periodic-e2e-aws"
FILLER = "I0101 00:00:00.000000 1 sync.go:1] synced pod/web-{n} in ns/e2e-{n}\n"


def _run(tree: Path, build: int, head: str, failed: bool = True) -> None:
    # the interesting line sits at the start of a 1 MiB log: past a 256 KiB tail
    body = head + "".join(FILLER.format(n=n) for n in range(16_000))
    at = END - 86_400 + build * 600
    prow_run(tree, f"logs/{JOB}/{build}", started=at,
             finished={"timestamp": at + 60, "passed": not failed}, log=body)  # fmt: skip


def _search(*args: str) -> dict[str, object]:
    done = run_cli("ci", "search", *args, "--in", "logs", "--end", "2026-01-01", "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_the_whole_log_is_searched_not_just_its_tail(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _run(tree, 1, 'E0101 etcd: request "get" timed out after 10s (leader changed)\n')
    _run(tree, 2, "E0101 etcd: Request Timed Out while waiting for quorum\n")
    _run(tree, 3, "E0101 kubelet: PLEG is not healthy\x00 (nul byte)\n")
    _run(tree, 4, 'E0101 etcd: request "get" timed out\n', failed=False)  # passed: not kept
    assert run_cli("ci", "import", str(tree)).returncode == 0
    assert _search("timed out")["matching_runs"] == 2  # smart case: ignores case
    assert _search("Timed Out")["matching_runs"] == 1  # a capital: case-sensitive
    assert _search(r'request "get" timed out after \d+s')["matching_runs"] == 1  # quotes
    # the index finds "timed out" in both; RE2 keeps only the one that matches
    assert _search(r"timed out after [0-9]+s \(leader")["matching_runs"] == 1
    assert _search(r"PLEG is not healthy")["matching_runs"] == 1
    # no literal of 3 characters: every kept chunk in the window is scanned, same answer
    assert _search(r"(?i)q\w{4}m\b")["matching_runs"] == 1  # quorum
    # the filler is in every kept log: all three failed runs
    assert _search(r"synced pod/web-15999 ")["matching_runs"] == 3


def test_a_small_keep_keeps_only_the_end(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _run(tree, 1, 'E0101 etcd: request "get" timed out after 10s (leader changed)\n')
    run_cli("ci", "import", str(tree), "--log-keep-mb", "0.25")
    assert _search("timed out")["matching_runs"] == 0  # the head was not kept
    assert _search("synced pod/web-15999 ")["matching_runs"] == 1


def test_split_cuts_at_line_ends() -> None:
    data = b"".join(f"line {n}\n".encode() for n in range(30_000))
    parts = logs.split(data, 4096)
    assert b"".join(parts) == data
    assert all(p.endswith(b"\n") for p in parts) and max(len(p) for p in parts) <= 4096
    assert logs.split(b"x" * 10_000, 4096) == [b"x" * 4096, b"x" * 4096, b"x" * 1808]
