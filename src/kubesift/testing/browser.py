"""A real headless Chromium driven over the DevTools protocol, for the browser tests.

Debian's ``/usr/bin/chromium`` (never a downloaded browser) is started with a DevTools
port; :class:`Browser` opens pages, waits for the page's requests to settle, evaluates
JavaScript (to read the DOM and to click), and collects every console error, uncaught
exception and failed request, which a test asserts are none.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

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
FLAGS = (*HEADLESS, "--remote-debugging-port=0", "--window-size=1280,900")


class BrowserError(AssertionError):
    pass


class Browser:
    """One Chromium process and one page (tab) in it."""

    def __init__(self, chromium: Path = CHROMIUM) -> None:
        import websocket  # websocket-client: a small synchronous client

        # Chromium's helper processes may still write to the profile as it exits.
        self.profile = tempfile.TemporaryDirectory(
            prefix="kubesift-chromium-", ignore_cleanup_errors=True
        )
        self.proc = subprocess.Popen(
            [str(chromium), *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: close() ends every helper
        )
        port = self._port()
        tab = httpx.put(f"http://127.0.0.1:{port}/json/new?about:blank", timeout=10).json()
        self.ws = websocket.create_connection(tab["webSocketDebuggerUrl"], timeout=30)
        self.ids = itertools.count(1)
        self.errors: list[str] = []
        self.pending: set[str] = set()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _port(self) -> int:
        marker = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise BrowserError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events read meanwhile are handled)."""
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self._event(message)

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
            self.ws.settimeout(0.05)
            try:
                self._event(json.loads(self.ws.recv()))
            except Exception:  # a timeout: nothing arrived
                pass
            finally:
                self.ws.settimeout(30)
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
        try:
            self.ws.close()
        finally:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(5)
            self._signal(signal.SIGKILL)  # helpers that outlived the browser
            self.profile.cleanup()

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
