"""The reconcile steps, in the order they run (names only: the CLI lists them without
importing the controllers and the ML stack behind them)."""

from __future__ import annotations

STEPS = ("export", "train", "evaluate", "promote", "canary", "rollback", "alerts")
