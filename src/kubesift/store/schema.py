"""The store's tables (SQLAlchemy Core). Changes go through Alembic migrations.

Times are ISO 8601 UTC strings (``2026-01-02T03:04:05Z``): portable across SQLite
and PostgreSQL, ordered correctly as text, and what GitHub sends. GitHub ids are
BigInteger: they pass 2**31 (PostgreSQL's INTEGER); SQLite stores both alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

Time = String(32)

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("full_name", String(255), nullable=False, unique=True),
    Column("owner", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("github_id", BigInteger),
    Column("api_url", String(1024)),
    Column("first_seen_at", Time, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("github_id", BigInteger),
    Column("kind", String(8), nullable=False),  # issue | pr
    Column("title", Text),
    Column("body", Text),
    # open | closed | deleted | transferred | inaccessible
    Column("state", String(16), nullable=False),
    Column("author", String(255)),
    Column("author_is_bot", Boolean, nullable=False, default=False),
    Column("created_at", Time),
    Column("updated_at", Time),
    Column("closed_at", Time),
    Column("merged_at", Time),
    Column("closed_by", String(255)),
    Column("comments", Integer),
    Column("source", String(16), nullable=False),  # github | krel
    Column("raw_json", Text),
    Column("fetched_at", Time, nullable=False),
    Column("gone_at", Time),
    Column("moved_to", String(1024)),
    UniqueConstraint("repository_id", "number", name="uq_items_repo_number"),
)
Index("ix_items_repo_updated", items.c.repository_id, items.c.updated_at)
Index("ix_items_repo_created", items.c.repository_id, items.c.created_at)
Index("ix_items_merged", items.c.merged_at)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("color", String(16)),
    Column("description", Text),
    UniqueConstraint("repository_id", "name", name="uq_labels_repo_name"),
)

item_labels = Table(
    "item_labels",
    metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("label_id", ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_item_labels_label", item_labels.c.label_id)

label_events = Table(
    "label_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("github_id", BigInteger, nullable=False),
    Column("item_number", Integer, nullable=False),
    Column("event", String(16), nullable=False),  # labeled | unlabeled
    Column("label", String(255), nullable=False),
    Column("actor", String(255)),
    Column("actor_is_bot", Boolean, nullable=False),
    Column("created_at", Time, nullable=False),
    UniqueConstraint("repository_id", "github_id", name="uq_label_events_repo_gid"),
)
Index("ix_label_events_item", label_events.c.repository_id, label_events.c.item_number)

release_notes = Table(
    "release_notes",
    metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(16), primary_key=True),  # body | krel
    Column("status", String(16), nullable=False),  # note | none | missing | error
    Column("text", Text),
    Column("action_required", Boolean, nullable=False, default=False),
    Column("release", String(32)),
    Column("documentation", Text),  # JSON list of {url, description, type}
    Column("author", String(255)),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("resource", String(32), primary_key=True),  # issues | events
    Column("watermark", String(64)),
    Column("etag", String(255)),
    Column("etag_url", Text),
    Column("cursor", Text),
    Column("walk_started", String(64)),
    Column("walk_stop", String(64)),
    Column("completed_at", Time),
    Column("updated_at", Time, nullable=False),
)

# -- the labeling bot (migration 0002) ----------------------------------------------------

bot_jobs = Table(
    "bot_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(128), nullable=False, unique=True),
    Column("event", String(64), nullable=False),
    Column("action", String(32)),
    Column("repo", String(255)),
    Column("number", Integer),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Time, nullable=False),
    Column("locked_by", String(128)),
    Column("locked_until", Time),
    Column("received_at", Time, nullable=False),
    Column("finished_at", Time),
    Column("outcome", String(64)),
    Column("error", Text),
)
Index("ix_bot_jobs_status_next", bot_jobs.c.status, bot_jobs.c.next_attempt_at)
Index("ix_bot_jobs_item", bot_jobs.c.repo, bot_jobs.c.number, bot_jobs.c.status)

bot_decisions = Table(
    "bot_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", ForeignKey("bot_jobs.id", ondelete="SET NULL")),
    Column("repo", String(255), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("label", String(255), nullable=False),
    Column("score", Float, nullable=False),
    Column("action", String(16), nullable=False),  # added | present | held_back
    Column("dry_run", Boolean, nullable=False),
    Column("model", String(255)),
    Column("created_at", Time, nullable=False),
)
Index("ix_bot_decisions_item", bot_decisions.c.repo, bot_decisions.c.number)

bot_corrections = Table(
    "bot_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(128), unique=True),
    Column("repo", String(255), nullable=False),
    Column("number", Integer, nullable=False),
    Column("label", String(255), nullable=False),
    Column("action", String(16), nullable=False),  # labeled | unlabeled
    Column("actor", String(255)),
    Column("created_at", Time, nullable=False),
)
Index("ix_bot_corrections_item", bot_corrections.c.repo, bot_corrections.c.number)

bot_settings = Table(
    "bot_settings",
    metadata,
    Column("repo", String(255), primary_key=True),
    Column("families", Text),  # comma-separated; empty = all
    Column("target_precision", Float),
    Column("comment", Boolean),
    Column("dry_run", Boolean),
    Column("updated_at", Time, nullable=False),
)

# -- the reconciler -----------------------------------------------------------------------------

reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("holder", String(255), nullable=False),
    Column("steps", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # running | ok | failed | skipped
    Column("started_at", Time, nullable=False),
    Column("finished_at", Time),
    Column("error", Text),
)

reconcile_decisions = Table(
    "reconcile_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("reconcile_runs.id", ondelete="CASCADE")),
    Column("controller", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(255)),  # a repository or a model name@version
    Column("reason", Text, nullable=False),
    Column("details", Text),  # JSON
    Column("created_at", Time, nullable=False),
)
Index("ix_reconcile_decisions_subject", reconcile_decisions.c.subject, reconcile_decisions.c.id)

reconcile_locks = Table(
    "reconcile_locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(255)),
    Column("acquired_at", Time),
    Column("expires_at", Time),
)

# -- CI results ---------------------------------------------------------------------------------
# Kept per result: failures and flakes per run (with their text, deduplicated), the set of
# tests each run executed (a "roster", stored once per distinct set: runs of a job mostly run
# the same tests), and per day × job × test the counts Component Readiness and the flake
# reports read (Sippy's materialised views). Passes are never stored one row per result.

ci_jobs = Table(
    "ci_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(512), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # periodic | postsubmit | presubmit | ...
    Column("variants", String(512), nullable=False),  # Platform:aws,Topology:ha,...
    Column("first_seen_at", Time, nullable=False),
)

ci_tests = Table(
    "ci_tests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suite", String(512), nullable=False),
    Column("name", Text, nullable=False),
    Column("digest", String(40), nullable=False, unique=True),  # sha1 of suite + name
    Column("component", String(128), nullable=False),
    Column("lifecycle", String(16), nullable=False),  # blocking | informing (as first seen)
)

ci_rosters = Table(
    "ci_rosters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(40), nullable=False, unique=True),
    Column("tests", Text, nullable=False),  # sorted test ids, comma-separated
)

ci_texts = Table(
    "ci_texts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(40), nullable=False, unique=True),
    Column("text", Text, nullable=False),
)

ci_runs = Table(
    "ci_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(1024), nullable=False),  # the directory or gs:// bucket/prefix
    Column("path", String(1024), nullable=False),  # logs/<job>/<build>, relative to source
    Column("job_id", ForeignKey("ci_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("build", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # periodic | postsubmit | presubmit | ...
    Column("state", String(16), nullable=False),  # pending | success | failure | aborted | error
    Column("repo", String(255)),
    Column("pr", Integer),
    Column("pr_author", String(255)),
    Column("started_at", Time),
    Column("finished_at", Time),
    Column("day", String(10)),  # the UTC day it started (counts are kept per day)
    Column("version", String(64)),
    Column("url", String(1024)),
    Column("tests", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("flakes", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("roster_id", ForeignKey("ci_rosters.id")),
    Column("errors", Text),  # JSON list: one line per unreadable file
    Column("imported_at", Time, nullable=False),
    Column("sha", String(64)),  # the commit tested (a presubmit's PR head)
    # the Prow test pod from podinfo.json (TestGrid's Pod row): ok | failed; None: no podinfo
    Column("pod_state", String(16)),
    Column("pod_message", String(255)),
    UniqueConstraint("source", "path", name="uq_ci_runs_source_path"),
)
Index("ix_ci_runs_job_started", ci_runs.c.job_id, ci_runs.c.started_at)
Index("ix_ci_runs_day", ci_runs.c.day)
Index("ix_ci_runs_sha", ci_runs.c.sha)

ci_results = Table(
    "ci_results",
    metadata,
    Column("run_id", ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("test_id", ForeignKey("ci_tests.id", ondelete="CASCADE"), primary_key=True),
    Column("status", Integer, nullable=False),  # 12 failure | 13 flake (TestGrid's codes)
    Column("text_id", ForeignKey("ci_texts.id")),
    Column("seconds", Float),
    Column("attempts", Integer, nullable=False, default=1),
    Column("masked", Boolean, nullable=False, default=False),  # a key test failed in the run
)
Index("ix_ci_results_test", ci_results.c.test_id, ci_results.c.run_id)
Index("ix_ci_results_text", ci_results.c.text_id)

ci_daily = Table(
    "ci_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("job_id", ForeignKey("ci_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("test_id", ForeignKey("ci_tests.id", ondelete="CASCADE"), primary_key=True),
    Column("runs", Integer, nullable=False),
    Column("passes", Integer, nullable=False),  # passed outright
    Column("flakes", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
)
Index("ix_ci_daily_test", ci_daily.c.test_id, ci_daily.c.day)

# The same counts summed over the jobs that share a variant combination (presubmits left
# out): what Component Readiness reads. Rebuilt from ci_daily when the rules change.
ci_daily_variants = Table(
    "ci_daily_variants",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("variants", String(512), primary_key=True),
    Column("test_id", ForeignKey("ci_tests.id", ondelete="CASCADE"), primary_key=True),
    Column("runs", Integer, nullable=False),
    Column("passes", Integer, nullable=False),
    Column("flakes", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
)

ci_logs = Table(
    "ci_logs",
    metadata,
    Column("run_id", ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("size", BigInteger, nullable=False),  # the whole log's size
    Column("tail", LargeBinary, nullable=False),  # zlib of the last bytes kept
)

# A run's timeline (kubesift.ci.timeline): its intervals, zlib-compressed JSON.
ci_timelines = Table(
    "ci_timelines",
    metadata,
    Column("run_id", ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("intervals", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

# Symptoms (kubesift.ci.symptoms): matchers defined in a file or from the dashboard, and
# the failed runs each labels; a failed run's file list, for file matchers on history.
ci_symptoms = Table(
    "ci_symptoms",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("summary", String(200), nullable=False),
    Column("matcher", String(16), nullable=False),  # string | regex | file
    Column("pattern", Text, nullable=False),
    Column("target", String(16), nullable=False),  # any | log | failures
    Column("origin", String(16), nullable=False),  # file | dashboard
    Column("digest", String(16), nullable=False),
    Column("updated_at", Time, nullable=False),
)

ci_run_symptoms = Table(
    "ci_run_symptoms",
    metadata,
    Column("run_id", ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("symptom_id", ForeignKey("ci_symptoms.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_ci_run_symptoms_symptom", ci_run_symptoms.c.symptom_id, ci_run_symptoms.c.run_id)

# Intentional regressions (kubesift.ci.allowances): accepted pass rates per test and variants.
ci_allowances = Table(
    "ci_allowances",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("test", Text, nullable=False),
    Column("variants", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("issue", String(255), nullable=False),
    Column("successes", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("flakes", Integer, nullable=False),
    Column("added_at", Time, nullable=False),
)

# Test renames (kubesift.ci.renames): an old name recorded as the new one.
ci_renames = Table(
    "ci_renames",
    metadata,
    Column("old", Text, primary_key=True),
    Column("new", Text, nullable=False),
    Column("added_at", Time, nullable=False),
)

ci_run_files = Table(
    "ci_run_files",
    metadata,
    Column("run_id", ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("files", Integer, nullable=False),
    Column("paths", LargeBinary, nullable=False),  # zlib of the paths, one per line
)

# Failed runs' build logs as chunks (kubesift.ci.logs): zlib on SQLite (indexed by the FTS5
# trigram table ci_log_grams, migration 0009), plain text on PostgreSQL (a pg_trgm index).
ci_log_chunks = Table(
    "ci_log_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("ci_runs.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("body", LargeBinary),
    Column("text", Text),
    UniqueConstraint("run_id", "seq", name="uq_ci_log_chunks_run_seq"),
    sqlite_autoincrement=True,  # ids never reused: the contentless index keeps old rowids
)

ci_regressions = Table(
    "ci_regressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("test_id", ForeignKey("ci_tests.id", ondelete="CASCADE"), nullable=False),
    Column("variants", Text, nullable=False),
    Column("component", String(128), nullable=False),
    Column("status", Integer, nullable=False),  # Sippy's status value when last seen
    Column("p", Float),
    Column("explanation", Text),
    Column("opened_at", Time, nullable=False),
    Column("closed_at", Time),
    Column("last_failure", Time),
    Column("max_failures", Integer, nullable=False, default=0),
    Column("issue", String(255)),  # owner/name#N when triaged
    Column("triaged_at", Time),
)
Index("ix_ci_regressions_cell", ci_regressions.c.test_id, ci_regressions.c.variants)

# Triages (Sippy's): an issue that tracks one or more regressions, resolved by a person (the
# fix merged) or automatically 5 days after all its regressions closed.
ci_triages = Table(
    "ci_triages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue", String(255), nullable=False),  # owner/name#N
    Column("type", String(16), nullable=False),  # ci-infra | product-infra | product | test
    Column("description", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("resolved_at", Time),
    Column("resolution", String(32)),  # user | regressions-rolled-off
)

ci_triage_regressions = Table(
    "ci_triage_regressions",
    metadata,
    Column("triage_id", ForeignKey("ci_triages.id", ondelete="CASCADE"), primary_key=True),
    Column("regression_id", ForeignKey("ci_regressions.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_ci_triage_regressions_regression", ci_triage_regressions.c.regression_id)

# Alert triage: signals in, incidents (the unit of a decision), feedback, the page outbox,
# log templates and the needs-a-human models.
alert_incidents = Table(
    "alert_incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_key", String(1024), nullable=False),  # cluster/namespace/workload/name
    Column("source", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("namespace", String(255), nullable=False),
    Column("workload", String(255), nullable=False),
    Column("cluster", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("runbook", String(1024), nullable=False),
    Column("opened_at", Time, nullable=False),
    Column("last_at", Time, nullable=False),
    Column("closed_at", Time),
    Column("open_keys", Text, nullable=False),  # JSON list of the alert keys still firing
    Column("signals", Integer, nullable=False),
    Column("flaps", Integer, nullable=False),
    Column("decision", String(16), nullable=False),  # page | digest | record | drop
    Column("shadow", Boolean, nullable=False),  # decided, but nothing was suppressed
    Column("score", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("model", String(64), nullable=False),
    Column("features", Text, nullable=False),  # JSON: the snapshot taken at decision time
    Column("explanation", Text, nullable=False),  # JSON list of [feature, weight]
    Column("digested_at", Time),
)
Index("ix_alert_incidents_group", alert_incidents.c.group_key, alert_incidents.c.last_at)
Index("ix_alert_incidents_opened", alert_incidents.c.opened_at)
Index(
    "ix_alert_incidents_name",
    alert_incidents.c.name,
    alert_incidents.c.namespace,
    alert_incidents.c.opened_at,
)

alert_signals = Table(
    "alert_signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup", String(255), nullable=False, unique=True),
    Column("source", String(16), nullable=False),
    Column("key", String(512), nullable=False),
    Column("name", String(255), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", Time, nullable=False),
    Column("received_at", Time, nullable=False),
    Column("namespace", String(255), nullable=False),
    Column("workload", String(255), nullable=False),
    Column("pod", String(255), nullable=False),
    Column("node", String(255), nullable=False),
    Column("cluster", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("link", String(2048), nullable=False),
    Column("labels", Text, nullable=False),  # JSON
    Column("occurrences", Integer, nullable=False),
    Column("group_key", String(1024), nullable=False),  # Alertmanager's groupKey
    Column("truncated", Integer, nullable=False),
    Column("template_id", Integer),
    Column("incident_id", ForeignKey("alert_incidents.id", ondelete="SET NULL")),
)
# The fire-time counts (alerts/history.py): about a workload, of one alert, cluster-wide.
Index(
    "ix_alert_signals_workload_at",
    alert_signals.c.namespace,
    alert_signals.c.workload,
    alert_signals.c.at,
)
Index("ix_alert_signals_at", alert_signals.c.at)
Index("ix_alert_signals_key_at", alert_signals.c.key, alert_signals.c.at)
Index("ix_alert_signals_incident", alert_signals.c.incident_id)

alert_feedback = Table(
    "alert_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("alert_incidents.id", ondelete="CASCADE"), nullable=False),
    Column("needs_human", Boolean, nullable=False),
    Column("explicit", Boolean, nullable=False),
    Column("via", String(16), nullable=False),  # cli | http | slack | silence | resolved
    Column("user", String(255), nullable=False),
    Column("at", Time, nullable=False),
    Column("note", Text, nullable=False),
)
Index("ix_alert_feedback_incident", alert_feedback.c.incident_id)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("alert_incidents.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # page | resolved
    Column("created_at", Time, nullable=False),
    Column("sent_at", Time),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    UniqueConstraint("incident_id", "kind", name="uq_alert_outbox_incident_kind"),
)

alert_templates = Table(
    "alert_templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tokens", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_at", Time, nullable=False),
    Column("last_at", Time, nullable=False),
)

alert_issues = Table(
    "alert_issues",
    metadata,
    Column("group_key", String(1024), primary_key=True),  # namespace/workload/name
    Column("repo", String(255), nullable=False),
    Column("number", Integer, nullable=False),
    Column("occurrences", Integer, nullable=False),  # as of the last update
    Column("updated_at", Time, nullable=False),
)

alert_models = Table(
    "alert_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Time, nullable=False),
    Column("status", String(16), nullable=False),  # candidate | production | retired | rejected
    Column("body", Text, nullable=False),  # JSON: weights, thresholds, metadata
    Column("metrics", Text, nullable=False),  # JSON: forward-fold figures
    Column("reason", Text, nullable=False),
)
