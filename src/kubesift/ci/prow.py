"""Prow's GCS layout and its JSON metadata, as plain records. Pure.

``logs/<job>/<build>/`` holds periodic and postsubmit runs;
``pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/`` presubmits. A run's files are
``started.json``, ``finished.json``, ``prowjob.json``, ``podinfo.json``,
``build-log.txt`` and JUnit files anywhere below it (Sippy's ``**junit**.xml``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubesift.timeutil import to_iso

METADATA = ("started.json", "finished.json", "prowjob.json", "podinfo.json")
BUILD_LOG = "build-log.txt"
_JUNIT = re.compile(r"junit[^/]*\.xml$", re.IGNORECASE)
_BUILD = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class RunPath:
    """Where a run lives, and what its path says about it."""

    path: str  # relative to the source root, no trailing slash
    job: str
    build: str
    trigger: str  # "build" (logs/) or "pull" (pr-logs/)
    repo: str | None = None  # org/repo of a presubmit
    pr: int | None = None


def run_path(path: str) -> RunPath | None:
    """The run a directory path names, or None when it names no run."""
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "logs" and _BUILD.match(parts[2]):
        return RunPath(path="/".join(parts), job=parts[1], build=parts[2], trigger="build")
    if len(parts) == 6 and parts[:2] == ["pr-logs", "pull"] and _BUILD.match(parts[5]):
        org_repo, pr = parts[2], parts[3]
        repo = org_repo.replace("_", "/", 1) if "_" in org_repo else org_repo
        return RunPath(
            path="/".join(parts),
            job=parts[4],
            build=parts[5],
            trigger="pull",
            repo=repo,
            pr=int(pr) if pr.isdigit() else None,
        )
    return None


def is_junit(name: str) -> bool:
    return bool(_JUNIT.search(name))


@dataclass(frozen=True)
class RunMeta:
    """What the JSON files say about a run."""

    kind: str  # periodic | postsubmit | presubmit | batch | unknown
    state: str  # pending | success | failure | aborted | error
    started_at: str | None
    finished_at: str | None
    passed: bool | None
    version: str | None
    url: str | None
    repo: str | None
    pr: int | None
    pr_author: str | None
    pr_sha: str | None


def read_meta(where: RunPath, files: dict[str, bytes]) -> tuple[RunMeta, list[str]]:
    """The run's metadata from whichever JSON files exist, and an error per bad file."""
    errors: list[str] = []
    docs: dict[str, dict[str, Any]] = {}
    for name in METADATA:
        if name in files:
            try:
                doc = json.loads(files[name])
                docs[name] = doc if isinstance(doc, dict) else {}
                if not isinstance(doc, dict):
                    errors.append(f"{where.path}/{name}: not a JSON object")
            except (ValueError, UnicodeDecodeError) as exc:
                errors.append(f"{where.path}/{name}: malformed JSON ({exc})")
    return _meta(where, docs), errors


def _meta(where: RunPath, docs: dict[str, dict[str, Any]]) -> RunMeta:
    started, finished = docs.get("started.json", {}), docs.get("finished.json", {})
    prowjob = docs.get("prowjob.json", {})
    spec, status = _obj(prowjob.get("spec")), _obj(prowjob.get("status"))
    refs = _obj(spec.get("refs"))
    pulls = refs.get("pulls") if isinstance(refs.get("pulls"), list) else []
    pull = _obj(pulls[0]) if pulls else {}
    repo = where.repo or (f"{refs['org']}/{refs['repo']}" if refs.get("org") else None)
    pr = where.pr if where.pr is not None else _int(pull.get("number"))
    return RunMeta(
        kind=str(spec.get("type") or ("presubmit" if where.trigger == "pull" else "unknown")),
        state=_state(finished, status),
        started_at=_time(started.get("timestamp")) or _iso(status.get("startTime")),
        finished_at=_time(finished.get("timestamp")) or _iso(status.get("completionTime")),
        passed=finished.get("passed") if isinstance(finished.get("passed"), bool) else None,
        version=_version(finished, started),
        url=status.get("url") if isinstance(status.get("url"), str) else None,
        repo=repo,
        pr=pr,
        pr_author=pull.get("author") if isinstance(pull.get("author"), str) else None,
        pr_sha=pull.get("sha") if isinstance(pull.get("sha"), str) else None,
    )


def _state(finished: dict[str, Any], status: dict[str, Any]) -> str:
    if finished.get("timestamp") is not None:
        result = str(finished.get("result") or "").upper()
        if result == "ABORTED":
            return "aborted"
        if result == "ERROR":
            return "error"
        passed = finished.get("passed")
        if passed is None:
            passed = result == "SUCCESS"
        return "success" if passed else "failure"
    state = status.get("state")
    if state in ("success", "failure", "aborted", "error") and status.get("completionTime"):
        return str(state)
    return "pending"


def _version(finished: dict[str, Any], started: dict[str, Any]) -> str | None:
    meta = _obj(finished.get("metadata"))
    for value in (
        meta.get("job-version"),
        finished.get("job-version"),
        meta.get("revision"),
        finished.get("revision"),
        started.get("repo-commit"),
    ):
        if isinstance(value, str) and value:
            return value[:64]
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float) or isinstance(epoch, bool):
        return None
    return to_iso(datetime.fromtimestamp(epoch, UTC))


def _iso(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return to_iso(parsed)


@dataclass(frozen=True)
class FileLog:
    path: str
    size: int
