"""What ``kubesift reconcile status`` shows, as plain data."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from kubesift.learn import registry
from kubesift.reconcile import lock, records
from kubesift.reconcile.controllers import Context, candidate, production_version
from kubesift.reconcile.desired import Desired


def gather(engine: Engine, models_dir: Path, desired: Desired, runs: int = 3) -> dict[str, Any]:
    ctx = Context(engine, models_dir, desired)
    prod = production_version(ctx)
    pointer = registry.read_canary(models_dir)
    pending = candidate(ctx)
    return {
        "desired": asdict(desired),
        "models": {
            "production": registry.ref(prod) if prod else None,
            "canary": f"{pointer['name']}@{pointer['version']} ({pointer['share']:.0%})"
            if pointer
            else None,
            "candidate": f"{registry.ref(pending[0])} ({pending[1]})" if pending else None,
        },
        "lock": asdict(lock.read(engine)),
        "runs": records.recent_runs(engine, runs),
    }
