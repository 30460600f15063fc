"""A fake Google Cloud Storage JSON API over a local directory: a real server on loopback
(``serve_in_thread(FakeGCS(root).asgi())``) or in process (``FakeGCS(root).transport()``).

It answers what ``kubesift ci import gs://…`` uses: object listing with ``prefix``,
``delimiter``, ``maxResults`` and ``pageToken``, and media downloads with ``Range``
(``bytes=-N`` for a log's tail). The directory's first level is the bucket name.
Requests are counted in ``requests``; ``fail_next`` injects 503s.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

_LIST = "/storage/v1/b/"
Answer = tuple[int, dict[str, str], bytes]


class FakeGCS:
    def __init__(self, root: Path, page_size: int = 1000) -> None:
        self.root = root.resolve()
        self.page_size = page_size
        self.requests = 0
        self.fail_next = 0

    # -- the protocol, on plain values ------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> Answer:
        self.requests += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(503, "backend unavailable (injected)")
        if method != "GET" or not path.startswith(_LIST):
            return _error(404, "Not Found")
        bucket, _, rest = path[len(_LIST) :].partition("/")
        base = self.root / unquote(bucket)
        if not base.is_dir():
            return _error(404, f"The specified bucket does not exist: {unquote(bucket)}")
        if rest == "o":
            return self._list(base, query)
        if rest.startswith("o/") and query.get("alt") == "media":
            return self._media(base, unquote(rest[2:]), headers.get("range"))
        return _error(400, "unsupported request")

    def _names(self, base: Path, prefix: str) -> list[str]:
        start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        names = []
        for dirpath, _dirs, files in os.walk(start):
            for f in files:
                name = str((Path(dirpath) / f).relative_to(base))
                if name.startswith(prefix):
                    names.append(name)
        return sorted(names)

    def _list(self, base: Path, q: dict[str, str]) -> Answer:
        prefix, delim = q.get("prefix", ""), q.get("delimiter")
        size = min(int(q.get("maxResults", self.page_size)), self.page_size)
        entries: list[tuple[str, bool]] = []  # (name, is_prefix)
        seen: set[str] = set()
        for name in self._names(base, prefix):
            cut = name.find(delim, len(prefix)) if delim else -1
            if cut >= 0:
                p = name[: cut + 1]
                if p not in seen:
                    seen.add(p)
                    entries.append((p, True))
            else:
                entries.append((name, False))
        offset = int(base64.b64decode(q["pageToken"]).decode()) if q.get("pageToken") else 0
        page = entries[offset : offset + size]
        body: dict[str, Any] = {"kind": "storage#objects"}
        items = [self._item(base, n) for n, is_p in page if not is_p]
        prefixes = [n for n, is_p in page if is_p]
        if items:
            body["items"] = items
        if prefixes:
            body["prefixes"] = prefixes
        if offset + size < len(entries):
            body["nextPageToken"] = base64.b64encode(str(offset + size).encode()).decode()
        return 200, {"content-type": "application/json"}, json.dumps(body).encode()

    def _item(self, base: Path, name: str) -> dict[str, Any]:
        st = (base / name).stat()
        return {
            "kind": "storage#object",
            "name": name,
            "bucket": base.name,
            "size": str(st.st_size),
        }

    def _media(self, base: Path, name: str, rng: str | None) -> Answer:
        path = (base / name).resolve()
        if base.resolve() not in path.parents or not path.is_file():
            return _error(404, f"No such object: {base.name}/{name}")
        data = path.read_bytes()
        if rng and rng.startswith("bytes=-"):
            n = int(rng[len("bytes=-") :])
            if not data:
                return _error(416, "Requested range not satisfiable")
            return 206, {"content-type": "application/octet-stream"}, data[-n:]
        if rng and rng.startswith("bytes=") and "-" in rng:  # bytes=FIRST-LAST (inclusive)
            first, _, last = rng[len("bytes=") :].partition("-")
            if int(first) >= len(data):
                return _error(416, "Requested range not satisfiable")
            end = int(last) + 1 if last else len(data)
            return 206, {"content-type": "application/octet-stream"}, data[int(first) : end]
        return 200, {"content-type": "application/octet-stream"}, data

    # -- adapters ------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            status, headers, body = self.handle(
                request.method,
                request.url.path,
                dict(request.url.params),
                {k.lower(): v for k, v in request.headers.items()},
            )
            return httpx.Response(status, headers=headers, content=body)

        return httpx.MockTransport(handle)

    def asgi(self) -> Any:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
                return
            query = dict(httpx.QueryParams(scope.get("query_string", b"").decode()))
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            status, out, body = self.handle(
                scope["method"], scope["raw_path"].decode().split("?")[0], query, headers
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in out.items()],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return app


def _error(status: int, message: str) -> Answer:
    body = {"error": {"code": status, "message": message}}
    return status, {"content-type": "application/json"}, json.dumps(body).encode()
