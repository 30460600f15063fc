"""A real headless Chromium driven over the DevTools protocol, for the browser tests.

Debian's ``/usr/bin/chromium`` (never a downloaded browser) is started with
``--remote-debugging-pipe``: the protocol runs over two pipes (fds 3 and 4, JSON
messages ended by NUL), as Puppeteer and Playwright drive it. No port is opened, so no
other local process can connect, and no WebSocket is involved: Chromium 111 and later
refuse a DevTools WebSocket whose ``Origin`` they were not told to allow (``403 … Use
--remote-allow-origins``), which a pipe never meets. :class:`Browser` opens pages, waits
for the page's requests to settle, evaluates JavaScript (to read the DOM and to click),
and collects every console error, uncaught exception, failed request and
Content-Security-Policy violation, which a test asserts are none.

Chromium runs in its own process group and the whole group is ended on every path:
:meth:`Browser.close`, a failed start, and the interpreter's exit.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: Headless Chromium without a sandbox (containers), network chatter or first-run pages.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
FLAGS = (*HEADLESS, "--remote-debugging-pipe", "--window-size=1280,900")
#: How long a start may take before it is a failure (and everything started is ended).
START_TIMEOUT = 30.0
#: Process groups started and not yet ended: ended at exit, whatever happened.
_LIVE: set[int] = set()


class BrowserError(AssertionError):
    pass


def _end_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@atexit.register
def _end_all() -> None:
    for pgid in list(_LIVE):
        _end_group(pgid)
        _LIVE.discard(pgid)


class Browser:
    """One Chromium process and one page (tab) in it."""

    def __init__(self, chromium: Path = CHROMIUM, start_timeout: float = START_TIMEOUT) -> None:
        # Chromium's helper processes may still write to the profile as it exits.
        self.profile = tempfile.TemporaryDirectory(
            prefix="kubesift-chromium-", ignore_cleanup_errors=True
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._to: int | None = None
        self._from: int | None = None
        self._buffer = b""
        self.ids = itertools.count(1)
        self.errors: list[str] = []
        self.pending: set[str] = set()
        self.session = ""
        try:
            self._start(chromium, start_timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, chromium: Path, timeout: float) -> None:
        # Chromium reads commands from fd 3 and writes answers to fd 4.
        cmd_read, cmd_write = os.pipe()
        out_read, out_write = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [str(chromium), *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(3, 4),
                preexec_fn=_pipes_at_3_and_4(cmd_read, out_write),
                start_new_session=True,  # its own process group: close() ends every helper
            )
        finally:
            os.close(cmd_read)
            os.close(out_write)
        _LIVE.add(self.proc.pid)
        self._to, self._from = cmd_write, out_read
        deadline = time.monotonic() + timeout
        target = self._browser_call("Target.createTarget", deadline, url="about:blank")
        attached = self._browser_call(
            "Target.attachToTarget", deadline, targetId=target["targetId"], flatten=True
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    # -- the pipe ---------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        assert self._to is not None
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to, data) :]
        except BrokenPipeError:  # it exited before reading a word: say how, as _recv does
            raise BrowserError(
                f"chromium closed its DevTools pipe (exit {self._exit_code()})"
            ) from None

    def _exit_code(self) -> int | None:
        if self.proc is None:
            return None
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.proc.wait(5)
        return None

    def _recv(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None when none arrives within ``timeout`` seconds."""
        assert self._from is not None
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._from], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._from, 1 << 16)
            if not chunk:
                raise BrowserError(
                    f"chromium closed its DevTools pipe (exit {self._exit_code()})"
                ) from None
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def _await(self, ident: int, method: str, deadline: float) -> dict[str, Any]:
        while True:
            left = deadline - time.monotonic()
            message = self._recv(left) if left > 0 else None
            if message is None:
                raise BrowserError(f"{method}: no answer from chromium in time")
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self._event(message)

    def _browser_call(self, method: str, deadline: float, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self._send({"id": ident, "method": method, "params": params})
        return self._await(ident, method, deadline)

    def call(self, method: str, timeout: float = 60.0, **params: Any) -> dict[str, Any]:
        """Send one command to the page and return its result (events read meanwhile are
        handled)."""
        ident = next(self.ids)
        self._send({"id": ident, "method": method, "params": params, "sessionId": self.session})
        return self._await(ident, method, time.monotonic() + timeout)

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text")
            self.errors.append(f"uncaught: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.pending.add(params["requestId"])
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self.pending.discard(params["requestId"])

    def settle(self, quiet: float = 0.3, timeout: float = 20.0) -> None:
        """Wait until no request has been in flight for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        calm_since = time.monotonic()
        while time.monotonic() < deadline:
            message = self._recv(0.05)
            if message is not None:
                self._event(message)
            if self.pending:
                calm_since = time.monotonic()
            elif time.monotonic() - calm_since >= quiet:
                return
        raise BrowserError(f"requests still in flight after {timeout} s")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.loaded()

    def loaded(self, timeout: float = 20.0) -> None:
        """Wait for the document to load, then for its scripts' requests to settle."""
        self.settle()
        deadline = time.monotonic() + timeout
        while self.js("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise BrowserError("the page did not finish loading")
            self.settle(quiet=0.1)
        self.settle()

    def js(self, expression: str) -> Any:
        """The value of ``expression`` in the page (awaited when it is a promise)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        found = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.click(); return true; })()"
        )
        if not found:
            raise BrowserError(f"nothing to click at {selector!r}")
        self.loaded()

    def screenshot(self, path: Path, width: int = 1280, height: int = 900) -> None:
        import base64

        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=False,
        )  # fmt: skip
        shot = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """End Chromium and every helper it started, and remove the profile; safe to call
        on a half-started browser and more than once."""
        for fd in (self._to, self._from):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to = self._from = None
        if self.proc is not None:
            _end_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                _end_group(self.proc.pid)
                self.proc.wait(5)
            _end_group(self.proc.pid)  # helpers that outlived the browser
            _LIVE.discard(self.proc.pid)
        self.profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pipes_at_3_and_4(read_end: int, write_end: int) -> Any:
    """In the child, before exec: the command pipe's read end as fd 3 and the answer
    pipe's write end as fd 4 (both first moved above 9, so neither clobbers the other)."""
    import fcntl

    def place() -> None:
        high_read = fcntl.fcntl(read_end, fcntl.F_DUPFD, 10)
        high_write = fcntl.fcntl(write_end, fcntl.F_DUPFD, 10)
        os.dup2(high_read, 3)
        os.dup2(high_write, 4)
        os.close(high_read)
        os.close(high_write)

    return place
