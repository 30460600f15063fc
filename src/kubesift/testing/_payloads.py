"""Larger, rarely served JSON documents: root, repository, user, rate limit, apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubesift.testing._auth import Bucket, FakeApp, Installation
from kubesift.testing._clock import iso
from kubesift.testing._encode import WEB, Encoder, js, user_dict
from kubesift.testing.model import legacy_node_id

if TYPE_CHECKING:
    from kubesift.testing._repo import FakeRepo
    from kubesift.testing.fakegithub import FakeGitHub

_ROOT_PATHS = {
    "current_user_url": "/user",
    "current_user_authorizations_html_url": "https://github.com/settings/connections/applications{/client_id}",
    "authorizations_url": "/authorizations",
    "code_search_url": "/search/code?q={query}{&page,per_page,sort,order}",
    "commit_search_url": "/search/commits?q={query}{&page,per_page,sort,order}",
    "emails_url": "/user/emails",
    "emojis_url": "/emojis",
    "events_url": "/events",
    "feeds_url": "/feeds",
    "followers_url": "/user/followers",
    "following_url": "/user/following{/target}",
    "gists_url": "/gists{/gist_id}",
    "hub_url": "/hub",
    "issue_search_url": "/search/issues?q={query}{&page,per_page,sort,order}",
    "issues_url": "/issues",
    "keys_url": "/user/keys",
    "label_search_url": "/search/labels?q={query}&repository_id={repository_id}{&page,per_page}",
    "notifications_url": "/notifications",
    "organization_url": "/orgs/{org}",
    "organization_repositories_url": "/orgs/{org}/repos{?type,page,per_page,sort}",
    "organization_teams_url": "/orgs/{org}/teams",
    "public_gists_url": "/gists/public",
    "rate_limit_url": "/rate_limit",
    "repository_url": "/repos/{owner}/{repo}",
    "repository_search_url": "/search/repositories?q={query}{&page,per_page,sort,order}",
    "current_user_repositories_url": "/user/repos{?type,page,per_page,sort}",
    "starred_url": "/user/starred{/owner}{/repo}",
    "starred_gists_url": "/gists/starred",
    "topic_search_url": "/search/topics?q={query}{&page,per_page}",
    "user_url": "/users/{user}",
    "user_organizations_url": "/user/orgs",
    "user_repositories_url": "/users/{user}/repos{?type,page,per_page,sort}",
    "user_search_url": "/search/users?q={query}{&page,per_page,sort,order}",
}
_REPO_URLS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def root_json(base: str) -> dict[str, str]:
    """``GET /`` like the recorded fixture, with this server's URLs."""
    return {k: v if v.startswith("https://") else base + v for k, v in _ROOT_PATHS.items()}


#: The fields of a repository object that are the same for every repository of the fake.
_REPO_CONSTANTS: dict[str, Any] = {
    "private": False,
    "description": None,
    "fork": False,
    "homepage": None,
    "size": 1,
    "stargazers_count": 0,
    "watchers_count": 0,
    "language": "Go",
    "has_issues": True,
    "has_projects": True,
    "has_downloads": True,
    "has_wiki": True,
    "has_pages": False,
    "has_discussions": False,
    "forks_count": 0,
    "mirror_url": None,
    "archived": False,
    "disabled": False,
    "license": None,
    "allow_forking": True,
    "is_template": False,
    "web_commit_signoff_required": False,
    "visibility": "public",
    "forks": 0,
    "watchers": 0,
    "default_branch": "master",
    "network_count": 0,
    "subscribers_count": 0,
}
_PERMISSIONS = {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True}


def repo_json(fake: FakeGitHub, enc: Encoder, repo: FakeRepo) -> dict[str, Any]:
    """A repository object like ``GET /repos/{o}/{r}``."""
    prefix = enc.prefix(repo)
    open_count = len(repo.index("created", "open"))
    web = f"{WEB}/{repo.full_name}"
    out: dict[str, Any] = {
        "id": repo.id,
        "node_id": legacy_node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": user_dict(fake.add_user(repo.owner, user_type="Organization"), enc.base),
        "html_url": web,
        "url": prefix,
        **{k: prefix + v for k, v in _REPO_URLS.items()},
        "created_at": iso(repo.created_at),
        "updated_at": iso(fake.now()),
        "pushed_at": iso(max(repo.pushed_at, repo.created_at)),
        "git_url": f"git://github.com/{repo.full_name}.git",
        "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"{web}.git",
        "svn_url": web,
        "open_issues_count": open_count,
        "open_issues": open_count,
        "topics": [],
        "permissions": dict(_PERMISSIONS),
    }
    return {**_REPO_CONSTANTS, **out}


def full_user_json(fake: FakeGitHub, enc: Encoder, login: str) -> dict[str, Any]:
    """``GET /user`` / ``GET /users/{login}``."""
    user = fake.add_user(login)
    out = user_dict(user, enc.base)
    out.update(
        {
            "name": login,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 1,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2014-01-01T00:00:00Z",
            "updated_at": iso(fake.now()),
        }
    )
    return out


def rate_limit_json(core: Bucket, now: float) -> dict[str, Any]:
    """``GET /rate_limit`` with the caller's core bucket."""

    def entry(limit: int, used: int, reset: float) -> dict[str, int]:
        return {
            "limit": limit,
            "used": used,
            "remaining": max(limit - used, 0),
            "reset": int(reset),
        }

    core_entry = entry(core.limit, core.used, core.reset_at)
    return {
        "resources": {
            "core": core_entry,
            "search": entry(30, 0, now + 60),
            "graphql": entry(core.limit, 0, now + 3600),
            "integration_manifest": entry(5000, 0, now + 3600),
            "code_search": entry(10, 0, now + 60),
        },
        "rate": core_entry,
    }


def app_dict(fake: FakeGitHub, enc: Encoder, app: FakeApp) -> dict[str, Any]:
    """A GitHub App object (``GET /app``, ``performed_via_github_app``)."""
    owner = user_dict(fake.add_user(app.owner, user_type="Organization"), enc.base)
    return {
        "id": app.app_id,
        "slug": app.slug,
        "node_id": legacy_node_id("App", app.app_id),
        "client_id": app.client_id,
        "owner": owner,
        "name": app.slug,
        "description": "kubesift test app",
        "external_url": "https://example.invalid",
        "html_url": f"{WEB}/apps/{app.slug}",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "permissions": {"issues": "write", "metadata": "read", "pull_requests": "write"},
        "events": ["issues", "issue_comment", "pull_request"],
        "installations_count": len(app.installations),
    }


def app_json(fake: FakeGitHub, enc: Encoder, app_id: int | None) -> str:
    """``performed_via_github_app`` as JSON text (``null`` for none)."""
    app = fake.credentials.apps.get(app_id) if app_id is not None else None
    return "null" if app is None else js(app_dict(fake, enc, app))


def installation_json(
    fake: FakeGitHub, enc: Encoder, app: FakeApp, inst: Installation
) -> dict[str, Any]:
    """An installation object (``GET /repos/{o}/{r}/installation``)."""
    account = user_dict(fake.add_user(inst.account, user_type="Organization"), enc.base)
    return {
        "id": inst.id,
        "account": account,
        "repository_selection": "all" if inst.repositories is None else "selected",
        "access_tokens_url": f"{enc.base}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{enc.base}/installation/repositories",
        "html_url": f"{WEB}/organizations/{inst.account}/settings/installations/{inst.id}",
        "app_id": app.app_id,
        "app_slug": app.slug,
        "target_id": account["id"],
        "target_type": "Organization",
        "permissions": dict(inst.permissions),
        "events": ["issues", "issue_comment", "pull_request"],
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }
