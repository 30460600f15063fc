"""``kubesift web`` as a user starts it: mistakes are one-line errors, never tracebacks."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import run_cli


def test_a_busy_port_and_a_missing_token_file_are_one_line_errors(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = run_cli("web", "--port", str(port), timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; give another "
        "--port, or stop what is using it"
    ]  # the address is announced only once it is ours
    missing = run_cli("web", "--token-file", str(home / "nope"))
    assert missing.returncode == 2 and "cannot read the web token file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_short_token_is_refused_at_start(home: Path) -> None:
    done = run_cli("web", "--port", "0", env={"KUBESIFT_WEB_TOKEN": "s3cret"}, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Error: the web token has 6 characters; use at least 16 (e.g. `openssl rand -hex 24`)"
    ]
