"""One exception hierarchy for kubesift.

Every error carries a user-facing one-line message and the exit code the CLI
should use: 2 for mistakes the user can fix (bad input, bad token, unknown
repository), 1 for failures (the network, GitHub, a corrupt file).
"""

from __future__ import annotations


class KubesiftError(Exception):
    """Base of every error kubesift raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(KubesiftError):
    """The user asked for something that cannot work as given."""

    exit_code = 2


class NotFound(UserError):
    """What the request names does not exist (a 404 on the dashboard, exit 2 in the CLI)."""


class ConfigError(UserError):
    """A setting in the environment or kubesift.toml is invalid."""


class StoreError(KubesiftError):
    """The store cannot be opened, migrated or written."""


class GitHubError(KubesiftError):
    """GitHub (or the fake) answered in a way we cannot continue from."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(GitHubError, UserError):
    """Credentials are missing, malformed or rejected (401)."""

    exit_code = 2


class NotFoundError(GitHubError, UserError):
    """The repository or resource does not exist or is not visible (404)."""

    exit_code = 2


class ModelServerError(KubesiftError):
    """A model server (``kubesift serve`` or another KServe V1 endpoint) failed to answer."""


class RateLimitError(GitHubError):
    """A rate limit would make us wait longer than allowed."""


class MalformedResponseError(GitHubError):
    """GitHub answered 2xx with a body that is not the JSON we expect."""


class ImportError_(UserError):
    """A file given to an importer is missing or not in the expected format."""


class CIError(KubesiftError):
    """CI results could not be read (a bucket, a directory, a malformed file)."""


class CIInputError(CIError, UserError):
    """A CI input is unusable as given: hostile or malformed XML, an unknown source."""


class AlertError(KubesiftError):
    """Alert triage failed (the store, a notification target, a model)."""


class AlertInputError(AlertError, UserError):
    """An alert, Event, log record or feedback is malformed (answered 400, nothing stored)."""
