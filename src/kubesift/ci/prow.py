"""Prow's GCS layout and its JSON metadata, as plain records. Pure.

``logs/<job>/<build>/`` holds periodic and postsubmit runs;
``pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/`` presubmits. A run's files are
``started.json``, ``finished.json``, ``prowjob.json``, ``podinfo.json``,
``build-log.txt`` and JUnit files anywhere below it (Sippy's ``**junit**.xml``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubesift.escape import http_url
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


#: A run's times must fall in these years (epoch seconds): a timestamp of 1e300, NaN,
#: -1e18 or one in milliseconds is a bad file, not a date in the year 5138.
EARLIEST, LATEST = 946_684_800, 4_102_444_800  # 2000-01-01, 2100-01-01
_NUMBER = (int, float)
#: The fields kubesift reads from each file, with the JSON types each may have (absent
#: and null are fine). A field of another type makes the file bad: it is skipped, never
#: read with its type coerced ("passed": "false" is not a pass).
FIELDS: dict[str, tuple[tuple[tuple[str, ...], tuple[type, ...]], ...]] = {
    "started.json": ((("timestamp",), _NUMBER), (("repo-commit",), (str,))),
    "finished.json": (
        (("timestamp",), _NUMBER),
        (("passed",), (bool,)),
        (("result",), (str,)),
        (("job-version",), (str,)),
        (("revision",), (str,)),
        (("metadata",), (dict,)),
        (("metadata", "job-version"), (str,)),
        (("metadata", "revision"), (str,)),
    ),
    "prowjob.json": (
        (("spec",), (dict,)),
        (("spec", "type"), (str,)),
        (("spec", "refs"), (dict,)),
        (("spec", "refs", "org"), (str,)),
        (("spec", "refs", "repo"), (str,)),
        (("spec", "refs", "pulls"), (list,)),
        (("status",), (dict,)),
        (("status", "state"), (str,)),
        (("status", "url"), (str,)),
        (("status", "startTime"), (str,)),
        (("status", "completionTime"), (str,)),
    ),
    "podinfo.json": (),
}
_PULL = (("number", (int,)), ("author", (str,)), ("sha", (str,)))


def read_meta(where: RunPath, files: dict[str, bytes]) -> tuple[RunMeta, list[str]]:
    """The run's metadata from whichever JSON files are good, and one line per bad file
    (malformed, not an object, a field of the wrong type, a time out of range): a bad
    file is skipped whole, the others are read."""
    errors: list[str] = []
    docs: dict[str, dict[str, Any]] = {}
    for name in METADATA:
        if name in files:
            try:
                docs[name] = check_doc(name, files[name])
            except ValueError as exc:
                errors.append(f"{where.path}/{name}: {exc}; file skipped")
    return _meta(where, docs), errors


def check_doc(name: str, raw: bytes) -> dict[str, Any]:
    """One metadata file, parsed and checked against :data:`FIELDS`; ValueError says what
    is wrong with it."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"malformed JSON ({str(exc)[:200]})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    for path, types in FIELDS[name]:
        value = _at(doc, path)
        if value is not None and (isinstance(value, bool) is not (bool in types)
                                  or not isinstance(value, types)):  # fmt: skip
            raise ValueError(f"{'.'.join(path)} is {_kind(value)}, not {_kinds(types)}")
    for key in ("timestamp",):
        if doc.get(key) is not None:
            _epoch(doc[key], key)
    status = doc.get("status") or {}
    for key in ("startTime", "completionTime"):
        if isinstance(status, dict) and status.get(key) is not None:
            _rfc3339(status[key], f"status.{key}")
    for n, pull in enumerate(_at(doc, ("spec", "refs", "pulls")) or []):
        if not isinstance(pull, dict):
            raise ValueError(f"spec.refs.pulls[{n}] is {_kind(pull)}, not an object")
        for key, types in _PULL:
            value = pull.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
                raise ValueError(f"spec.refs.pulls[{n}].{key} is {_kind(value)}")
    return doc


def _at(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = doc
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _kind(value: Any) -> str:
    text = json.dumps(value)[:40] if isinstance(value, str | int | float | bool) else ""
    return f"{type(value).__name__} {text}".strip()


def _kinds(types: tuple[type, ...]) -> str:
    return " or ".join("a number" if t in _NUMBER else f"a {t.__name__}" for t in types[:1])


def _epoch(value: Any, what: str) -> float:
    if not math.isfinite(value) or not EARLIEST <= value < LATEST:
        raise ValueError(f"{what} {value!r} is not a time between 2000 and 2100 (epoch seconds)")
    return float(value)


def _rfc3339(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {value[:40]!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not EARLIEST <= parsed.timestamp() < LATEST:
        raise ValueError(f"{what} {value[:40]!r} is not a time between 2000 and 2100")
    return parsed


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
        url=http_url(status.get("url")),  # a link on every page: http(s) only
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
