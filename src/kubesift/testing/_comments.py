"""The fake's issue comments (a mixin of :class:`~kubesift.testing.FakeGitHub`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubesift.testing._http import not_found, validation_failed
from kubesift.testing.model import Comment

if TYPE_CHECKING:
    from kubesift.testing.fakegithub import FakeGitHub, RepoRef

MAX_COMMENT_LENGTH = 65_536


def list_comments(fake: FakeGitHub, ref: RepoRef, number: int) -> list[Comment]:
    """An item's comments, oldest first."""
    with fake.lock:
        repo = fake.repo(ref)
        return list(repo.comments_of(fake.get_item(repo, number)))


def get_comment(fake: FakeGitHub, ref: RepoRef, comment_id: int) -> Comment:
    """One comment; 404 :class:`ApiError` if unknown."""
    with fake.lock:
        repo = fake.repo(ref)
        comment = repo.comments.get(comment_id)
        if comment is None:
            raise not_found("https://docs.github.com/rest/issues/comments#get-an-issue-comment")
        return comment


def add_comment(
    fake: FakeGitHub,
    ref: RepoRef,
    number: int,
    body: str,
    *,
    user: str = "octocat",
    app_id: int | None = None,
) -> Comment:
    """Comment on an item (bumps its ``comments`` and ``updated_at``)."""
    _check_comment_body(body)
    with fake.lock:
        repo = fake.repo(ref)
        item = fake.get_item(repo, number)
        existing = repo.comments_of(item)
        fake.add_user(user)
        now = max(fake.now(), item.updated_at)
        comment = Comment(
            fake.next_id("comment"),
            number,
            user,
            body,
            now,
            now,
            "MEMBER" if user in repo.people else "CONTRIBUTOR",
            app_id,
        )
        existing.append(comment)
        repo.comments[comment.id] = comment

        def change(_: int) -> None:
            item.comments += 1

        fake._touch_item(repo, item, change)
        return comment


def edit_comment(fake: FakeGitHub, ref: RepoRef, comment_id: int, body: str) -> Comment:
    """Replace a comment's body."""
    _check_comment_body(body)
    with fake.lock:
        comment = fake.get_comment(ref, comment_id)
        comment.body = body
        comment.updated_at = max(fake.now(), comment.updated_at)
        return comment


def delete_comment(fake: FakeGitHub, ref: RepoRef, comment_id: int) -> None:
    """Delete a comment (decrements the item's ``comments``)."""
    with fake.lock:
        repo = fake.repo(ref)
        comment = fake.get_comment(repo, comment_id)
        del repo.comments[comment_id]
        siblings = repo.item_comments.get(comment.number, [])
        siblings[:] = [c for c in siblings if c.id != comment_id]
        item = repo.items.get(comment.number)
        if item is not None:
            old = repo.snapshot(item)
            item.comments = max(item.comments - 1, 0)
            repo.reindex(item, old)


def _check_comment_body(body: object) -> None:
    doc = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
    if not isinstance(body, str):
        raise validation_failed("IssueComment", "body", "missing_field", doc=doc)
    if len(body) > MAX_COMMENT_LENGTH:
        raise validation_failed(
            "IssueComment",
            "body",
            "custom",
            f"body is too long (maximum is {MAX_COMMENT_LENGTH} characters)",
            doc=doc,
        )
