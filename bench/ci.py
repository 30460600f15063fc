"""CI benchmark: ingest at OpenShift's daily scale, the regression report, regex search,
and detection quality on generated histories with known truth.

1. ingest: one generated day (40,000 runs × 300 test cases, ~1 % failing) written in
   Prow's layout, then ``kubesift ci import DIR`` as a process (wall, runs/s, peak RSS).
2. report: Component Readiness over a 30-day basis and 7-day sample: daily counts for
   1,000 jobs × 300 tests × 37 days (11 M rows) with injected regressions, written
   straight into the store (generating 1.5 M runs of JUnit would only time the generator).
3. search: a regex over a week of failure texts (840,000 failures, their texts with
   variable pods, IPs and times), written straight into the store.
4. quality, through the real pipeline (generate → import → report/flakes/clusters):
   regressions found, false regressions per 1,000 cells, flakes found, cluster purity,
   known-issue match top-1.
5. timeline: runs that ship OpenShift's monitor intervals (20,000 a run), a JUnit of
   300 tests, podinfo and an EventList: import time per run with its timeline, the
   stored timeline's size, and how long ``ci timeline`` takes to answer.
6. symptoms: a day of runs (40,000, 10 % failing) imported with five symptoms defined,
   then all five re-applied to that day's failed runs.
7. logsearch: 30 days of failed runs at 40,000 runs a day (5 % failing: 60,000 runs),
   each with a 64 KiB build log kept and indexed as an import keeps it, then a rare
   literal, a regex and a case-insensitive word searched over the month; the runs found
   are checked against the runs the lines were planted in.

    python bench/ci.py              # the full sizes above (tens of minutes, ~3 GB of disk)
    python bench/ci.py --quick      # 1/20 of each, under a minute on 2 cores
    python bench/ci.py --json out.json
    scripts/postgres-for-tests run .venv/bin/python bench/ci.py --quick   # on PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _measure import print_figures, run_measured
from sqlalchemy import insert, text

from kubesift.ci import clusters, flakes, regressions, search, variants
from kubesift.ci.importer import import_runs
from kubesift.ci.readiness import Settings
from kubesift.ci.save import digest, rederive
from kubesift.ci.sources import LocalSource
from kubesift.collect.service import export_repository
from kubesift.config import load_settings
from kubesift.github import TokenAuth
from kubesift.store import open_store
from kubesift.store.schema import ci_daily, ci_jobs, ci_results, ci_runs, ci_tests, ci_texts
from kubesift.testing import FakeGitHub, in_process
from kubesift.testing.cihistory import ERRORS, _fill, file_issues, generate, job_names, test_names

END = 1767225600  # 2026-01-01T00:00:00Z
END_ISO = "2025-12-31T23:00:00Z"
TOKEN = "ghp_bench0000000000000000000000000000000"


def store_env(home: Path) -> dict[str, str]:
    """The settings of a fresh store: a file under ``home``, or with
    ``KUBESIFT_TEST_POSTGRES_URL`` (an admin URL) a new PostgreSQL database per part."""
    env = {"KUBESIFT_HOME": str(home)}
    admin = os.environ.get("KUBESIFT_TEST_POSTGRES_URL")
    if admin:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        url = make_url(admin).set(drivername="postgresql+psycopg")
        name = f"kubesift_bench_{home.name.replace('-', '_')}_{os.getpid()}"
        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        env["KUBESIFT_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
    return env


def engine_for(home: Path) -> Any:
    return open_store(load_settings(store_env(home)))


def bench_ingest(tmp: Path, runs: int, tests: int) -> dict[str, float]:
    jobs = max(1, runs // 40)
    t0 = time.perf_counter()
    h = generate(
        tmp / "day",
        end=END,
        days=1,
        jobs=jobs,
        tests=tests,
        runs_per_job_day=runs // jobs,
        regressions=0,
        flakes=0,
        infra_rate=0.01,
        noise_rate=0.01,
        seed=1,
    )
    gen = time.perf_counter() - t0
    home = tmp / "ingest-home"
    env = {**os.environ, **store_env(home)}
    m = run_measured(
        [sys.executable, "-m", "kubesift", "ci", "import", str(h.root), "--json", "--workers", "2"],
        env,
    )
    if m.returncode != 0:
        raise SystemExit(f"import failed: {m.stderr[-2000:]}")
    report = json.loads(m.stdout)
    size = (home / "kubesift.db").stat().st_size if (home / "kubesift.db").exists() else 0
    shutil.rmtree(h.root, ignore_errors=True)
    return {
        "ingest_runs": report["new"],
        "ingest_results": h.results,
        "ingest_failures": report["failures"],
        "ingest_seconds": round(m.seconds, 2),
        "ingest_runs_per_s": round(report["new"] / m.seconds, 1),
        "ingest_results_per_s": round(h.results / m.seconds),
        "ingest_peak_rss_mb": round(m.peak_rss_bytes / 2**20),
        "ingest_db_mb": round(size / 2**20, 1),
        "generate_seconds": round(gen, 1),
    }


def seed_jobs_and_tests(
    engine: Any, names: list[str], tnames: list[str], rules: variants.Rules
) -> None:
    """Jobs 1..J and tests 1..T, as import would record them."""
    jobs = [
        {
            "id": i + 1,
            "name": n,
            "kind": "periodic",
            "variants": variants.key(rules.of_job(n)),
            "first_seen_at": END_ISO,
        }
        for i, n in enumerate(names)
    ]
    tests = [
        {
            "id": i + 1,
            "suite": "e2e",
            "name": n,
            "digest": digest("e2e", n),
            "component": rules.component(n),
            "lifecycle": "blocking",
        }
        for i, n in enumerate(tnames)
    ]
    with engine.begin() as conn:
        conn.execute(insert(ci_jobs), jobs)
        conn.execute(insert(ci_tests), tests)


def bench_report(
    tmp: Path, jobs: int, tests: int, regressed: int, seed: int = 3
) -> dict[str, float]:
    """Daily counts with known regressions; time the report, score it against the truth."""
    rng = random.Random(seed)
    engine = engine_for(tmp / "report-home")
    names = job_names(jobs)
    rules = variants.load()
    tnames = test_names(tests, seed)
    base_fail = [rng.choice([0.0, 0.0, 0.002, 0.005, 0.01, 0.03]) for _ in tnames]
    seed_jobs_and_tests(engine, names, tnames, rules)
    # regressions: a test on one platform; every job of that platform fails it 30 % more
    platforms = ["aws", "gcp", "azure", "metal"]
    truth = {(rng.randrange(tests) + 1, rng.choice(platforms)) for _ in range(regressed)}
    days = [time.strftime("%Y-%m-%d", time.gmtime(END - (37 - d) * 86_400)) for d in range(37)]
    rows: list[dict[str, int | str]] = []
    t0 = time.perf_counter()
    for j, name in enumerate(names):
        platform = next(p for p in platforms if f"-{p}-" in name)
        for d, day in enumerate(days):
            in_sample = d >= 30
            for t in range(tests):
                runs = 4
                rate = base_fail[t] + (0.3 if in_sample and (t + 1, platform) in truth else 0)
                fails = sum(rng.random() < rate for _ in range(runs)) if rate else 0
                rows.append(
                    {
                        "day": day,
                        "job_id": j + 1,
                        "test_id": t + 1,
                        "runs": runs,
                        "passes": runs - fails,
                        "flakes": 0,
                        "failures": fails,
                    }
                )
            if len(rows) >= 50_000:
                _flush(engine, rows)
    _flush(engine, rows)
    fill = time.perf_counter() - t0
    t0 = time.perf_counter()
    rederive(engine, rules)  # the per-variant counts, as import keeps them
    per_variant = time.perf_counter() - t0
    cols = list(rules.columns)
    with engine.begin() as conn:
        t0 = time.perf_counter()
        rep = regressions.report(conn, cols, Settings(), end=END_ISO, now="2026-01-01T00:00:00Z")
        seconds = time.perf_counter() - t0
        sippy = regressions.report(conn, cols, Settings(fdr=0), end=END_ISO, record=False)
    cells_truth = set()
    for tid, platform in truth:
        for n in names:
            if f"-{platform}-" in n:
                cells_truth.add((tid, variants.key(rules.of_job(n))))
    found = {(c.test_id, c.variants) for c in rep.regressed}
    per_cell = {(c.test_id, c.variants) for c in sippy.regressed}
    return {
        "report_sippy_per_cell_found_pct": round(
            100 * len(per_cell & cells_truth) / len(cells_truth), 1
        ),
        "report_sippy_per_cell_false_per_1000_cells": round(
            1000 * len(per_cell - cells_truth) / rep.cells_judged, 3
        ),
        "report_daily_rows": jobs * tests * 37,
        "report_fill_seconds": round(fill, 1),
        "report_rederive_seconds": round(per_variant, 1),
        "report_seconds": round(seconds, 2),
        "report_cells": rep.cells_judged,
        "report_regressed_cells_true": len(cells_truth),
        "report_found_pct": round(100 * len(found & cells_truth) / len(cells_truth), 1)
        if cells_truth
        else 100.0,
        "report_false_per_1000_cells": round(1000 * len(found - cells_truth) / rep.cells_judged, 3),
    }


def _flush(engine: Any, rows: list[dict[str, int | str]]) -> None:
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(ci_daily), rows)
        rows.clear()


def bench_search(tmp: Path, failures: int) -> dict[str, float]:
    """A week of failures (distinct texts) in the store; time a regex search over it."""
    rng = random.Random(7)
    engine = engine_for(tmp / "search-home")
    rules = variants.load()
    names = job_names(200)
    tnames = test_names(300, 7)
    runs_n = max(1, failures // 3)
    seed_jobs_and_tests(engine, names, tnames, rules)
    t0 = time.perf_counter()
    run_rows, text_rows, result_rows = [], [], []
    for r in range(runs_n):
        at = END - rng.randrange(7 * 86_400)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
        run_rows.append(
            {
                "id": r + 1,
                "source": "bench",
                "path": f"logs/x/{r}",
                "job_id": rng.randrange(200) + 1,
                "build": str(r),
                "kind": "periodic",
                "state": "failure",
                "started_at": stamp,
                "day": stamp[:10],
                "tests": 300,
                "failures": 3,
                "flakes": 0,
                "skipped": 0,
                "imported_at": stamp,
            }
        )
        for k, t in enumerate(rng.sample(range(300), 3)):
            tid = r * 3 + k + 1
            error = _fill(ERRORS[rng.randrange(len(ERRORS))], rng)
            body = f"{error}\nat {stamp} in run {r} test {t}"  # texts are distinct in the store
            text_rows.append({"id": tid, "digest": digest(body), "text": body})
            result_rows.append(
                {
                    "run_id": r + 1,
                    "test_id": t + 1,
                    "status": 12,
                    "text_id": tid,
                    "seconds": 1.0,
                    "attempts": 1,
                    "masked": False,
                }
            )
        if len(result_rows) >= 30_000:
            _insert_search(engine, run_rows, text_rows, result_rows)
    _insert_search(engine, run_rows, text_rows, result_rows)
    fill = time.perf_counter() - t0
    out: dict[str, float] = {"search_failures": runs_n * 3, "search_fill_seconds": round(fill, 1)}
    for label, pattern in (("literal", "i/o timeout"), ("regex", r"exited with code 13[0-9]")):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            res = search.search(conn, pattern, days=7, end=END_ISO, kinds=("failures",))
            out[f"search_{label}_seconds"] = round(time.perf_counter() - t0, 2)
            out[f"search_{label}_matching_runs"] = res.matching_runs
    return out


def _insert_search(engine: Any, runs: list[Any], texts: list[Any], results: list[Any]) -> None:
    with engine.begin() as conn:
        for table, rows in ((ci_runs, runs), (ci_texts, texts), (ci_results, results)):
            if rows:
                conn.execute(insert(table), rows)
    for rows in (runs, texts, results):
        rows.clear()


def bench_quality(tmp: Path, seeds: list[int]) -> dict[str, float]:
    """The real pipeline on generated histories: what was found against the truth."""
    reg_found = reg_true = false = cells = 0
    fl_found = fl_true = 0
    purity_num = purity_den = 0
    match_ok = match_n = 0
    for seed in seeds:
        root = tmp / f"quality-{seed}"
        h = generate(
            root / "tree",
            end=END,
            days=37,
            jobs=16,
            tests=60,
            regressions=6,
            flakes=6,
            noise_rate=0.001,
            seed=seed,
        )
        engine = engine_for(root / "home")
        import_runs(engine, LocalSource(h.root), variants.load(), now="2026-01-01T00:00:00Z")
        fake = FakeGitHub()
        fake.add_token(TOKEN, "bench")
        numbers = file_issues(fake, "openshift/origin", h)
        export_repository(
            engine,
            "openshift/origin",
            api_url="https://github.fake.test",
            auth=TokenAuth(TOKEN),
            transport=in_process(fake),
        )
        with engine.begin() as conn:
            rep = regressions.report(
                conn, list(variants.load().columns), end=END_ISO, now="2026-01-01T00:00:00Z"
            )
            truth = {(r.test, r.platform) for r in h.regressions}
            got = {(c.test, c.variants.split(",")[0].split(":")[1]) for c in rep.regressed}
            reg_true += len(truth)
            reg_found += len(truth & got)
            false += sum(
                1
                for c in rep.regressed
                if (c.test, c.variants.split(",")[0].split(":")[1]) not in truth
            )
            cells += rep.cells_judged
            rows = flakes.flakes(conn, end=END_ISO)
            flaky_tests = Counter(r.test for r in rows)
            fl_true += len(h.flakes)
            fl_found += sum(1 for f in h.flakes if flaky_tests[f.test] >= len(h.jobs) // 2)
            found = clusters.clusters(conn, days=37, end=END_ISO, limit=1000)
            fails = clusters.failures(conn, clusters.queries.window(37, END_ISO))
            texts = clusters.queries.texts(conn, {r["text_id"] for r in fails})
            text_of = {(r["run_id"], r["test_id"]): texts[r["text_id"]] for r in fails}
            for c in found:
                truth_errs = Counter(h.error_of_text.get(text_of[m], -1) for m in c.members)
                purity_num += truth_errs.most_common(1)[0][1]
                purity_den += c.failures
                top = c.tests[0][0]
                if c.failures >= 5 and top in numbers:
                    match_n += 1
                    match_ok += int(c.issue is not None and c.issue.number == numbers[top])
        shutil.rmtree(root, ignore_errors=True)
    return {
        "quality_histories": len(seeds),
        "regressions_found_pct": round(100 * reg_found / reg_true, 1),
        "false_regressions_per_1000_cells": round(1000 * false / cells, 3),
        "flakes_found_pct": round(100 * fl_found / fl_true, 1),
        "cluster_purity": round(purity_num / purity_den, 3) if purity_den else 0.0,
        "issue_match_top1": round(match_ok / match_n, 3) if match_n else 0.0,
        "issue_match_clusters": match_n,
    }


def bench_timeline(tmp: Path, runs: int, intervals: int) -> dict[str, float]:
    from kubesift.ci import views
    from kubesift.store.schema import ci_timelines
    from kubesift.testing.ciruns import write_timeline_run

    root = tmp / "timeline-tree"
    for n in range(runs):
        write_timeline_run(root, "periodic-e2e-aws", str(1000 + n), END - 86400 + n * 60,
                           tests=300, intervals=intervals)  # fmt: skip
    home = tmp / "timeline-home"
    os.environ.update(store_env(home))
    engine = open_store(load_settings())
    t0 = time.perf_counter()
    report = import_runs(engine, LocalSource(root), variants.load(), workers=2)
    seconds = time.perf_counter() - t0
    with engine.connect() as conn:
        sizes = conn.execute(text("select avg(length(body)), avg(intervals) from ci_timelines"))
        avg_bytes, avg_intervals = sizes.one()
        stored = conn.execute(text(f"select count(*) from {ci_timelines.name}")).scalar()
        t1 = time.perf_counter()
        for n in range(runs):
            views.run_timeline(conn, "periodic-e2e-aws", str(1000 + n))
        answer = (time.perf_counter() - t1) / runs
    shutil.rmtree(root, ignore_errors=True)
    return {
        "timeline_runs": report.new,
        "timeline_runs_stored": int(stored or 0),
        "timeline_intervals_per_run": round(float(avg_intervals or 0)),
        "timeline_import_ms_per_run": round(1000 * seconds / max(1, runs), 1),
        "timeline_stored_kb_per_run": round(float(avg_bytes or 0) / 1024, 1),
        "timeline_answer_ms": round(1000 * answer, 1),
    }


BENCH_SYMPTOMS = """
[[symptom]]
id = "api-timeout"
summary = "API server unreachable"
regex = 'dial tcp [0-9.]+:6443: i/o timeout'

[[symptom]]
id = "oom"
summary = "Container OOM-killed"
string = "exited with code 137"

[[symptom]]
id = "node-lease"
summary = "Node lease expired"
regex = 'expected node "[^"]+" to be Ready, got Unknown \\(lease [0-9a-f-]+ expired\\)'
in = "failures"

[[symptom]]
id = "conflict"
summary = "Optimistic-lock conflict"
string = "the object has been modified"

[[symptom]]
id = "junit-present"
summary = "JUnit was written"
file = "*junit*.xml"
"""


def _pad_failed_logs(root: Path, size: int) -> int:
    """Grow each failed run's build log to ``size`` bytes of klog-like lines (a real failed
    run's kept tail is this big): the text symptoms scan. Returns the size."""
    rng = random.Random(5)
    line = "I0101 00:{:02d}:{:02d}.{:06d} 1 {}.go:{}] {} pod/{} in ns/e2e-{} ({})\n"
    words = ("sync", "reconcile", "watch", "probe", "lease", "route", "endpoint", "volume")
    for finished in root.rglob("finished.json"):
        if json.loads(finished.read_text()).get("passed") is not False:
            continue
        log = finished.parent / "build-log.txt"
        parts = [log.read_text()] if log.exists() else []
        total = sum(len(p) for p in parts)
        while total < size:
            w = rng.choice(words)
            text = line.format(rng.randrange(60), rng.randrange(60), rng.randrange(10**6), w,
                               rng.randrange(900), w, f"web-{rng.randrange(10**5)}",
                               rng.randrange(999), rng.randrange(10**9))  # fmt: skip
            parts.insert(-1 if parts else 0, text)
            total += len(text)
        log.write_text("".join(parts))
    return size


def bench_symptoms(tmp: Path, runs: int, tests: int) -> dict[str, float]:
    """A day of runs (10 % failing) imported with five symptoms defined, then the five
    re-applied to that history (what changing a symptom costs)."""
    from kubesift.ci import symptom_store
    from kubesift.ci import symptoms as sym

    jobs = max(1, runs // 40)
    h = generate(tmp / "symptom-day", end=END, days=1, jobs=jobs, tests=tests,
                 runs_per_job_day=runs // jobs, regressions=0, flakes=0, infra_rate=0.05,
                 seed=3)  # fmt: skip
    padded = _pad_failed_logs(h.root, 240 * 1024)
    os.environ.update(store_env(tmp / "symptom-home"))
    engine = open_store(load_settings())
    defined = sym.parse_file(BENCH_SYMPTOMS)
    symptom_store.define(engine, defined, "file", replace_all=True)
    t0 = time.perf_counter()
    report = import_runs(engine, LocalSource(h.root), variants.load(), workers=2)
    imported = time.perf_counter() - t0
    t1 = time.perf_counter()
    done = symptom_store.reapply(engine, defined)
    reapplied = time.perf_counter() - t1
    shutil.rmtree(h.root, ignore_errors=True)
    return {
        "symptoms_day_runs": report.new,
        "symptoms_log_kib_per_failed_run": round(padded / 1024),
        "symptoms_failed_runs": done.runs_examined,
        "symptoms_import_seconds": round(imported, 2),
        "symptoms_labels": sum(done.matched.values()),
        "symptoms_reapply_seconds": round(reapplied, 2),
        "symptoms_reapply_runs_per_s": round(done.runs_examined / max(reapplied, 1e-9)),
    }


LOG_NEEDLES = {
    # pattern → (line planted, one run in N gets it)
    "rare": (
        r"possibly due to connection lost",
        "etcdserver: request timed out, possibly due to connection lost\n",
        1000,
    ),
    "regex": (
        r"unable to upgrade connection: container [a-z0-9-]+ not found",
        "error: unable to upgrade connection: container web-7 not found\n",
        20,
    ),
    "ignore-case": (r"oomkilled", "Container app was OOMKilled (exit 137)\n", 50),
}


def bench_logsearch(tmp: Path, runs: int, log_kib: int, days: int = 30) -> dict[str, float]:
    """``runs`` failed runs over ``days`` days, each with a ``log_kib`` KiB build log kept
    and indexed as an import keeps it (kubesift.ci.logs.save); then each pattern of
    :data:`LOG_NEEDLES` searched over the whole window."""
    from kubesift.ci import logs

    rng = random.Random(11)
    engine = engine_for(tmp / "logsearch-home")
    names = job_names(200)
    seed_jobs_and_tests(engine, names, test_names(10, 7), variants.load())
    words = ("sync", "reconcile", "watch", "probe", "lease", "route", "endpoint", "volume")
    pool = [
        f"I0101 {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}."
        f"{rng.randrange(10**6):06d} 1 {rng.choice(words)}.go:{rng.randrange(900)}] "
        f"{rng.choice(words)} pod/web-{rng.randrange(10**5)} in ns/e2e-{rng.randrange(999)} "
        f"({rng.randrange(10**9)})\n"
        for _ in range(20_000)
    ]
    truth = {k: 0 for k in LOG_NEEDLES}
    t0 = time.perf_counter()
    size = 0
    batch: list[tuple[dict[str, Any], list[bytes]]] = []
    for r in range(runs):
        at = END - rng.randrange(days * 86_400)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
        lines = rng.choices(pool, k=log_kib * 1024 // 100)
        for key, (_pattern, line, every) in LOG_NEEDLES.items():
            if rng.randrange(every) == 0:
                lines.insert(rng.randrange(len(lines)), line)
                truth[key] += 1
        data = "".join(lines).encode()
        size += len(data)
        run = {"id": r + 1, "source": "bench", "path": f"logs/x/{r}",
               "job_id": rng.randrange(200) + 1, "build": str(r), "kind": "periodic",
               "state": "failure", "started_at": stamp, "day": stamp[:10], "tests": 10,
               "failures": 1, "flakes": 0, "skipped": 0, "imported_at": stamp}  # fmt: skip
        batch.append((run, logs.split(data)))
        if len(batch) >= 200 or r == runs - 1:
            with engine.begin() as conn:
                conn.execute(insert(ci_runs), [b[0] for b in batch])
                for run_row, chunks in batch:
                    logs.save(conn, run_row["id"], chunks)
            batch = []
    fill = time.perf_counter() - t0
    out: dict[str, float] = {
        "logsearch_failed_runs": runs,
        "logsearch_days": days,
        "logsearch_log_mib": round(size / 2**20),
        "logsearch_fill_seconds": round(fill, 1),
        "logsearch_fill_mib_per_s": round(size / 2**20 / fill, 1),
    }
    for key, (pattern, _line, _every) in LOG_NEEDLES.items():
        with engine.connect() as conn:
            t1 = time.perf_counter()
            res = search.search(conn, pattern, days=days, end=END_ISO, kinds=("logs",))
            out[f"logsearch_{key}_seconds"] = round(time.perf_counter() - t1, 2)
        out[f"logsearch_{key}_matching_runs"] = res.matching_runs
        out[f"logsearch_{key}_planted_runs"] = truth[key]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/20 of each size")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    parser.add_argument(
        "--only",
        choices=["ingest", "report", "search", "quality", "timeline", "symptoms", "logsearch"],
        action="append",
    )
    args = parser.parse_args()
    scale = 20 if args.quick else 1
    parts = args.only or [
        "ingest", "report", "search", "quality", "timeline", "symptoms", "logsearch"
    ]  # fmt: skip
    figures: dict[str, float] = {
        "quick": float(args.quick),
        "postgresql": float(bool(os.environ.get("KUBESIFT_TEST_POSTGRES_URL"))),
    }
    with tempfile.TemporaryDirectory(prefix="kubesift-bench-ci-") as tmp_s:
        tmp = Path(tmp_s)
        runs: dict[str, Any] = {
            "ingest": lambda: bench_ingest(tmp, 40_000 // scale, 300),
            "report": lambda: bench_report(tmp, 1_000 // scale, 300, 40 // max(1, scale // 4)),
            "search": lambda: bench_search(tmp, 840_000 // scale),
            "quality": lambda: bench_quality(tmp, [11] if args.quick else [11, 12, 13]),
            "timeline": lambda: bench_timeline(tmp, 200 // scale, 20_000),
            "symptoms": lambda: bench_symptoms(tmp, 40_000 // scale, 100),
            # a month of failed runs at 40,000 runs a day, 5 % failing: 60,000 logs
            "logsearch": lambda: bench_logsearch(tmp, 60_000 // scale, 64),
        }
        for part in parts:
            got = runs[part]()
            figures.update(got)
            print(f"[{part}] " + json.dumps(got), file=sys.stderr, flush=True)
    print_figures(figures, args.json)


if __name__ == "__main__":
    main()
