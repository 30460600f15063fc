"""A fake Kubernetes API server that speaks list+watch for Events, on loopback.

Real HTTP, so the official ``kubernetes`` client talks to it as to an apiserver: LIST
answers an ``EventList`` with a ``resourceVersion``; WATCH (``?watch=true``) streams the
changes after the given resourceVersion as JSON lines, then ends at ``timeoutSeconds``;
a resourceVersion older than the compaction point gets the apiserver's in-stream
``ERROR`` with a 410 Gone Status, which makes a client re-list.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PATHS = ("/apis/events.k8s.io/v1/events", "/api/v1/events")


class FakeKubernetes:
    def __init__(self) -> None:
        self.changes: list[tuple[int, str, dict[str, Any]]] = []
        self.rv = 1000
        self.compacted = 0
        self.lists = 0
        self.watches: list[str] = []
        self.lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    def add(self, obj: dict[str, Any], kind: str = "ADDED") -> int:
        with self.lock:
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
            self.changes.append((self.rv, kind, obj))
            self.lock.notify_all()
            return self.rv

    def compact(self) -> None:
        """Forget history up to now: open watches end with 410 Gone, and so does a watch
        from any resourceVersion handed out so far (the client must list again)."""
        with self.lock:
            self.compacted = self.rv + 1
            self.lock.notify_all()

    def current(self) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for _, kind, obj in self.changes:
            uid = obj["metadata"]["uid"]
            if kind == "DELETED":
                latest.pop(uid, None)
            else:
                latest[uid] = obj
        return list(latest.values())

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._get(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _get(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path not in PATHS:
            self._send(h, 404, {"kind": "Status", "code": 404, "reason": "NotFound"})
            return
        new_api = url.path.startswith("/apis/")
        if query.get("watch") in ("true", "1", "True"):
            self.watches.append(query.get("resourceVersion", ""))
            self._watch(h, int(query.get("resourceVersion") or 0),
                        float(query.get("timeoutSeconds") or 5))  # fmt: skip
            return
        self.lists += 1
        with self.lock:
            items = self.current()
            rv = self.rv
        body = {
            "kind": "EventList",
            "apiVersion": "events.k8s.io/v1" if new_api else "v1",
            "metadata": {"resourceVersion": str(rv)},
            "items": items,
        }
        self._send(h, 200, body)

    def _watch(self, h: BaseHTTPRequestHandler, since: int, timeout: float) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        deadline = time.monotonic() + timeout
        sent = since
        while time.monotonic() < deadline:
            if sent < self.compacted:
                status = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": 410,
                    "reason": "Expired",
                    "message": f"too old resource version: {sent}",
                }
                gone = {"type": "ERROR", "object": status}  # fmt: skip
                self._chunk(h, gone)
                break
            with self.lock:
                fresh = [(rv, k, o) for rv, k, o in self.changes if rv > sent]
                if not fresh:
                    self.lock.wait(min(0.1, max(0.0, deadline - time.monotonic())))
                    continue
            for rv, kind, obj in fresh:
                self._chunk(h, {"type": kind, "object": obj})
                sent = rv
        self._chunk_end(h)

    @staticmethod
    def _chunk(h: BaseHTTPRequestHandler, event: dict[str, Any]) -> None:
        data = json.dumps(event).encode() + b"\n"
        h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.flush()

    @staticmethod
    def _chunk_end(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
