"""The fake GitHub in process: an ``httpx.MockTransport`` that answers through the same
pipeline as the loopback server (auth, quotas, faults, ETags, Link), with no socket.

>>> client = GitHubClient("http://fake.test", transport=in_process(fake))   # doctest: +SKIP

Fault delays are not slept (the client's own ``sleep`` is injected separately); the
GitHub Enterprise ``/api/v3`` prefix works as on the server.
"""

from __future__ import annotations

import httpx

from kubesift.testing._asgi import JSON_TYPE, FakeGitHubASGI, make_request
from kubesift.testing._control import handle_control
from kubesift.testing.fakegithub import FakeGitHub


def in_process(fake: FakeGitHub) -> httpx.MockTransport:
    app = FakeGitHubASGI(fake)

    def handle(request: httpx.Request) -> httpx.Response:
        url = request.url
        req = make_request(
            request.method,
            url.raw_path.decode("latin-1"),
            url.query.decode(),
            {k.lower(): v for k, v in request.headers.items()},
            request.read(),
            "127.0.0.1",
            f"{url.scheme}://{url.netloc.decode()}",
        )
        if req.path == "/_fake" or req.path.startswith("/_fake/"):
            resp = handle_control(fake, req)
            headers = [("content-type", JSON_TYPE)] if resp.body else []
            return httpx.Response(resp.status, headers=headers, content=resp.body)
        _delay, resp = app.process(req)
        return httpx.Response(resp.status, headers=resp.headers, content=resp.body)

    return httpx.MockTransport(handle)


__all__ = ["in_process"]
