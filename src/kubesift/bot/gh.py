"""The bot's GitHub operations on top of the shared client (reads always, writes unless
dry-run). Label names are percent-encoded in paths; 404 on deletes is tolerated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from kubesift.github.auth import AppAuth, Auth, app_jwt
from kubesift.github.client import GitHubClient

ClientFactory = Callable[[Auth | None], GitHubClient]


class ItemOps:
    """Reads and writes on one repository's issues through one client."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client

    def _all(self, path: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": 100}
        while url:
            page = self.client.get(url, params=params)
            out.extend(page.data or [])
            url, params = page.next_url, None
        return out

    def item(self, repo: str, number: int) -> dict[str, Any]:
        """The issue or PR as the issues API returns it."""
        data: dict[str, Any] = self.client.get(f"/repos/{repo}/issues/{number}").data
        return data

    def labels(self, repo: str, number: int) -> list[str]:
        return [str(x["name"]) for x in self._all(f"/repos/{repo}/issues/{number}/labels")]

    def label_history(self, repo: str, number: int) -> list[tuple[str, str, str]]:
        """(event, label, actor) of the item's label events, oldest first."""
        return [
            (str(e["event"]), str(e["label"]["name"]), str((e.get("actor") or {}).get("login")))
            for e in self._all(f"/repos/{repo}/issues/{number}/events")
            if e.get("event") in ("labeled", "unlabeled") and isinstance(e.get("label"), dict)
        ]

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        return self._all(f"/repos/{repo}/issues/{number}/comments")

    def add_labels(self, repo: str, number: int, names: list[str]) -> None:
        self.client.request("POST", f"/repos/{repo}/issues/{number}/labels", json_body=names)

    def remove_label(self, repo: str, number: int, name: str) -> None:
        path = f"/repos/{repo}/issues/{number}/labels/{quote(name, safe='')}"
        self.client.request("DELETE", path, allow=(404,))

    def create_comment(self, repo: str, number: int, body: str) -> None:
        path = f"/repos/{repo}/issues/{number}/comments"
        self.client.request("POST", path, json_body={"body": body})

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        path = f"/repos/{repo}/issues/comments/{comment_id}"
        self.client.request("PATCH", path, json_body={"body": body})

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self.client.request("DELETE", f"/repos/{repo}/issues/comments/{comment_id}", allow=(404,))


class GitHubPool:
    """One client per installation (App) or one for the token; the bot's identities."""

    def __init__(
        self,
        factory: ClientFactory,
        auth: Auth | None,
        *,
        app_id: str | None = None,
        app_key: str | None = None,
    ) -> None:
        self.factory = factory
        self.auth = auth
        self.app_id = app_id
        self.app_key = app_key
        self._clients: dict[int | None, ItemOps] = {}
        self._identities: frozenset[str] | None = None

    def for_installation(self, installation_id: int | None) -> ItemOps:
        key = installation_id if self.app_id else None
        if key not in self._clients:
            auth = self.auth
            if self.app_id and self.app_key:
                auth = AppAuth(self.app_id, self.app_key, installation_id=installation_id)
            self._clients[key] = ItemOps(self.factory(auth))
        return self._clients[key]

    def identities(self) -> frozenset[str]:
        """``slug[bot]`` for an App, else the token's login (``GET /user``)."""
        if self._identities is None:
            self._identities = self._discover()
        return self._identities

    def _discover(self) -> frozenset[str]:
        client = self.factory(None)
        try:
            if self.app_id and self.app_key:
                bearer = {"Authorization": f"Bearer {app_jwt(self.app_id, self.app_key)}"}
                slug = str(client.raw("GET", "/app", headers=bearer).json()["slug"])
                return frozenset({f"{slug}[bot]"})
            if self.auth is None:
                return frozenset()
            login = client.request("GET", "/user", headers=self.auth.headers(client.raw)).data
            return frozenset({str(login["login"])})
        finally:
            client.close()

    def close(self) -> None:
        for ops in self._clients.values():
            ops.client.close()
