"""Wiring for the long-running parts: the receiver process, the Events watcher, plain
log files. Clients are built here, from settings passed in, never at import."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

import httpx
from sqlalchemy.engine import Engine

from kubesift import asgi
from kubesift.alerts.auth import Auth
from kubesift.alerts.ingest import Outcome, Settings, Triage
from kubesift.alerts.notify import Notifier, Target
from kubesift.alerts.quiet import Quiet
from kubesift.alerts.signals import Signal, log_signal
from kubesift.timeutil import utcnow_iso

log = logging.getLogger("kubesift.alerts")


def target_from(env: Mapping[str, str]) -> Target | None:
    if env.get("KUBESIFT_ALERTS_SLACK_WEBHOOK"):
        return Target(env["KUBESIFT_ALERTS_SLACK_WEBHOOK"], "slack")
    if env.get("KUBESIFT_ALERTS_WEBHOOK"):
        return Target(env["KUBESIFT_ALERTS_WEBHOOK"], "webhook")
    return None


def serve(
    engine: Engine,
    auth: Auth,
    env: Mapping[str, str],
    *,
    host: str = "0.0.0.0",
    port: int = 9095,
    shadow: bool = False,
    digest_every: float = 3600.0,
    quiet: Quiet | None = None,
) -> None:
    """Run the receivers and the notifier in this process until interrupted."""
    from kubesift.alerts.app import create_app
    from kubesift.alerts.intake import Intake
    from kubesift.alerts.metrics import AlertMetrics

    stop = threading.Event()
    with httpx.Client(timeout=10.0) as client:
        notifier = Notifier(engine, target_from(env), client)
        triage = Triage(Settings(shadow=shadow, quiet=quiet or Quiet()))
        intake = Intake(engine, triage, on_commit=notifier.wake.set)
        app = create_app(engine, intake, auth, AlertMetrics())
        sender = threading.Thread(target=notifier.run, args=(stop, digest_every),
                                  name="alerts-notify", daemon=True)  # fmt: skip
        sender.start()
        notifier.wake.set()  # pages queued before a restart go out now
        try:
            asgi.run(app, port, host)
        finally:
            stop.set()


def ingest(engine: Engine, triage: Triage, found: Sequence[Signal]) -> Outcome:
    with engine.begin() as conn:
        return triage.ingest(conn, found)


def ingest_log_lines(
    engine: Engine,
    lines: Sequence[str],
    *,
    namespace: str,
    pod: str,
    container: str = "",
    quiet: Quiet | None = None,
) -> Outcome:
    """The error lines of a plain log file (stamped now: plain files carry no metadata)."""
    quiet = quiet or Quiet()
    at = utcnow_iso()
    found = []
    for n, line in enumerate(lines, start=1):
        s = log_signal(line, at, namespace=namespace, pod=pod, container=container,
                       min_level=quiet.log_level)  # fmt: skip
        if s is not None:
            # Identical lines stamped alike are distinct lines of the file, not re-sends.
            found.append(replace(s, dedup=f"{s.dedup}:{n}"))
    return ingest(engine, Triage(Settings(quiet=quiet)), found)


def watch(engine: Engine, *, kubeconfig: str | None, server: str | None,
          field_selector: str, quiet: Quiet | None = None) -> None:  # fmt: skip
    """Watch Events into the store until interrupted."""
    from kubernetes import client, config

    from kubesift.alerts.watch import watch_events

    if server:
        api = client.ApiClient(client.Configuration(host=server))
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config(config_file=kubeconfig)
        api = client.ApiClient()
    triage = Triage(Settings(quiet=quiet or Quiet()))
    stop = threading.Event()
    try:

        def sink(found: list[Signal]) -> None:
            ingest(engine, triage, found)

        stats = watch_events(api, sink, stop, field_selector=field_selector)
    except KeyboardInterrupt:
        stop.set()
        return
    log.info("watch ended: %s", stats)
