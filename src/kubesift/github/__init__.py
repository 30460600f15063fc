"""The GitHub client: auth, pagination, rate limits, retries, ETags."""

from kubesift.github.auth import AppAuth, Auth, TokenAuth, auth_from
from kubesift.github.client import GitHubClient, Response, check_api_url

__all__ = ["AppAuth", "Auth", "GitHubClient", "Response", "TokenAuth", "auth_from", "check_api_url"]
