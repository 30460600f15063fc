"""Where Prow results are read from: a local directory or a GCS bucket (JSON API).

Both answer the same three questions: the child "directories" of a prefix, every
file below a prefix, and a file's bytes (optionally only its last bytes). The GCS
client is anonymous (public buckets such as Kubernetes' CI logs) unless a token is
given; its transport is injected, so tests run it against the fake in process.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import httpx

from kubesift import __version__
from kubesift.errors import CIError, CIInputError
from kubesift.retry import wait_before_retry

GCS_API = "https://storage.googleapis.com"
#: The most pages one listing may take (1,000 names a page: ten million objects).
MAX_PAGES = 10_000


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the source root
    size: int
    regular: bool = True  # False: a pipe, socket or device (never opened)


class TooBig(CIInputError):
    """A file over the size a reader accepts."""


class Source(Protocol):
    name: str  # what the store records as the runs' source

    def dirs(self, prefix: str) -> list[str]:
        """Names of the child directories of ``prefix`` (no trailing slash)."""

    def files(self, prefix: str) -> list[FileInfo]:
        """Every file below ``prefix``, recursively."""

    def read(self, path: str, tail: int | None = None, limit: int | None = None) -> bytes:
        """The file's bytes, or only its last ``tail`` bytes; :class:`TooBig` when it holds
        more than ``limit`` bytes (never read past them)."""


class LocalSource:
    """A directory in Prow's GCS layout."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise CIInputError(f"{root}: not a directory")
        self.root = root.resolve()
        self.name = str(self.root)

    def _path(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            raise CIInputError(f"{rel}: outside {self.root}")
        return path

    def dirs(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        with os.scandir(base) as it:
            return sorted(e.name for e in it if e.is_dir(follow_symlinks=False))

    def files(self, prefix: str) -> list[FileInfo]:
        base = self._path(prefix)
        out = []
        for dirpath, _dirs, names in os.walk(base):
            for n in names:
                full = Path(dirpath) / n
                try:
                    info = full.lstat()
                except OSError:
                    continue  # gone since the listing
                if stat.S_ISLNK(info.st_mode):
                    continue  # a link could point outside the tree
                rel = str(full.relative_to(self.root))
                out.append(FileInfo(rel, info.st_size, regular=stat.S_ISREG(info.st_mode)))
        return sorted(out, key=lambda f: f.path)

    def read(self, path: str, tail: int | None = None, limit: int | None = None) -> bytes:
        # O_NONBLOCK: a named pipe put where a file was listed never blocks the open;
        # O_NOFOLLOW: nor does a link swapped in after the listing lead outside the tree.
        try:
            fd = os.open(self._path(path), os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            raise CIInputError(f"{path}: cannot open ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise CIInputError(f"{path}: not a regular file")
            if tail is not None:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - tail))
                return fh.read(tail)
            data = fh.read(limit + 1 if limit is not None else -1)
        if limit is not None and len(data) > limit:
            raise TooBig(f"{path}: over {limit:,} bytes")
        return data


class GCSSource:
    """A bucket (and prefix) read through the GCS JSON API, one request at a time."""

    def __init__(
        self,
        url: str,
        api_url: str = GCS_API,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        if not url.startswith("gs://") or not bucket:
            raise CIInputError(f"{url!r}: a bucket looks like gs://BUCKET[/PREFIX]")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.name = f"gs://{bucket}/{self.prefix}".rstrip("/")
        headers = {"User-Agent": f"kubesift/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"), headers=headers, transport=transport, timeout=60
        )
        self._retries, self._sleep = retries, sleep

    def _full(self, rel: str) -> str:
        return "/".join(p for p in (self.prefix, rel.strip("/")) if p)

    def _get(self, path: str, **kw: object) -> httpx.Response:
        for attempt in range(self._retries + 1):
            asked: httpx.Headers | dict[str, str] = {}
            try:
                resp = self._http.get(path, **kw)  # type: ignore[arg-type]
            except httpx.TransportError as exc:
                if attempt == self._retries:
                    raise CIError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
            else:
                if resp.status_code < 500 and resp.status_code != 429:
                    return _checked(resp, self.name)
                if attempt == self._retries:
                    return _checked(resp, self.name)
                asked = resp.headers  # a 429 or 503 may say how long to wait
            self._sleep(wait_before_retry(attempt, asked, time.time(), cap=30.0))
        raise CIError(f"{self.name}: no answer")  # unreachable: the loop returns or raises

    def _list(self, prefix: str, delimiter: str | None) -> tuple[list[dict[str, str]], list[str]]:
        """Every page of one listing; a page token seen before, or more than
        :data:`MAX_PAGES` pages, is an error rather than a loop without end."""
        items: list[dict[str, str]] = []
        prefixes: list[str] = []
        params: dict[str, str] = {"prefix": prefix, "maxResults": "1000"}
        if delimiter:
            params["delimiter"] = delimiter
        tokens: set[str] = set()
        while True:
            data = self._get(f"/storage/v1/b/{quote(self.bucket, safe='')}/o", params=params).json()
            items += data.get("items", [])
            prefixes += data.get("prefixes", [])
            token = data.get("nextPageToken")
            if not token:
                return items, prefixes
            if token in tokens:
                raise CIError(f"{self.name}: the listing of {prefix!r} repeated a page token")
            if len(tokens) >= MAX_PAGES:
                raise CIError(
                    f"{self.name}: the listing of {prefix!r} ran past {MAX_PAGES:,} pages"
                )
            tokens.add(token)
            params["pageToken"] = token

    def dirs(self, prefix: str) -> list[str]:
        full = self._full(prefix)
        _items, prefixes = self._list(f"{full}/" if full else "", "/")
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in prefixes)

    def files(self, prefix: str) -> list[FileInfo]:
        full = self._full(prefix)
        items, _ = self._list(f"{full}/" if full else "", None)
        cut = len(self.prefix) + 1 if self.prefix else 0
        return sorted(
            (FileInfo(i["name"][cut:], int(i.get("size", 0))) for i in items),
            key=lambda f: f.path,
        )

    def read(self, path: str, tail: int | None = None, limit: int | None = None) -> bytes:
        name = quote(self._full(path), safe="")
        if tail:
            headers = {"Range": f"bytes=-{tail}"}
        elif limit is not None:
            headers = {"Range": f"bytes=0-{limit}"}  # at most one byte past the limit
        else:
            headers = {}
        url = f"/storage/v1/b/{quote(self.bucket, safe='')}/o/{name}"
        data = self._get(url, params={"alt": "media"}, headers=headers).content
        if limit is not None and not tail and len(data) > limit:
            raise TooBig(f"{path}: over {limit:,} bytes")
        return data

    def close(self) -> None:
        self._http.close()


def _checked(resp: httpx.Response, name: str) -> httpx.Response:
    if resp.status_code in (200, 206):
        return resp
    if resp.status_code == 416:  # asked for the tail of an empty object
        return httpx.Response(200, content=b"")
    try:
        message = resp.json().get("error", {}).get("message", "")
    except ValueError:
        message = resp.text[:200]
    if resp.status_code in (401, 403):
        raise CIInputError(f"{name}: access denied ({resp.status_code} {message})".strip())
    if resp.status_code == 404:
        raise CIInputError(f"{name}: not found ({resp.request.url.path})")
    raise CIError(f"{name}: GCS answered {resp.status_code} {message}".strip())


def open_source(
    spec: str,
    api_url: str = GCS_API,
    token: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Source:
    """A source for a local directory or a ``gs://bucket/prefix``."""
    if spec.startswith("gs://"):
        return GCSSource(spec, api_url=api_url, token=token, transport=transport)
    if "://" in spec:
        raise CIInputError(f"{spec!r}: give a local directory or gs://BUCKET/PREFIX")
    return LocalSource(Path(spec))
