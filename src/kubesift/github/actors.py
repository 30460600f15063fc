"""Who acted: a person, or software acting for itself. The one rule that export (label
events' ``actor_is_bot``), the bot (which label changes are human corrections) and the
datasets (which removals are a human "no") all use. Pure.

A bot is an account of type ``Bot``, a ``…[bot]`` login (GitHub Apps), or a known robot
of the Kubernetes project (Prow's ``k8s-ci-robot``, the lifecycle ``k8s-triage-robot``…).
A bot's label change is not a human verdict (``k8s-triage-robot`` removing a label is
automation, not a maintainer saying the label was wrong), except Prow's: it applies the
label commands people type (``/kind bug``, ``/remove-kind bug``), so its changes are those
people's verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

KNOWN_BOTS = frozenset(
    {
        "k8s-ci-robot",
        "k8s-triage-robot",
        "k8s-merge-robot",
        "k8s-bot",
        "fejta-bot",
        "k8s-github-robot",
        "googlebot",
        "kubernetes-bot",
        "kubesift-bot",
    }
)


def is_bot(user: Mapping[str, Any] | None, extra_bots: Iterable[str] = ()) -> bool:
    """Whether a GitHub user object (``{"login", "type"}``) is software."""
    if not user:
        return False
    return user.get("type") == "Bot" or is_bot_login(str(user.get("login") or ""), extra_bots)


def is_bot_login(login: str, extra_bots: Iterable[str] = ()) -> bool:
    """Whether a login alone names software (when the user's type is not known)."""
    return bool(login) and (
        login.endswith("[bot]") or login in KNOWN_BOTS or login in set(extra_bots)
    )


#: Bots that apply the label commands people type (Prow's): their changes are verdicts.
COMMAND_BOTS = frozenset({"k8s-ci-robot", "openshift-ci-robot", "openshift-ci[bot]"})


def is_human_verdict(login: str, actor_is_bot: bool = False) -> bool:
    """Whether a label change by ``login`` is a person's verdict on the label: a person's
    own change, or one Prow applied for a person; not other software's."""
    if login in COMMAND_BOTS:
        return True
    return bool(login) and not actor_is_bot and not is_bot_login(login)


def is_self(login: str, identities: frozenset[str]) -> bool:
    """Whether ``login`` is the bot itself (``slug`` and ``slug[bot]`` are the same)."""
    bare = login.removesuffix("[bot]").lower()
    return bool(login) and any(bare == i.removesuffix("[bot]").lower() for i in identities)
