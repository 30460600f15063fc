"""A generator of Prow job histories with known ground truth, written in Prow's GCS layout.

Every test passes unless the truth says otherwise: a **regression** makes one test fail
at a given rate on jobs of one variant from a given time; a **flake** makes a test fail
at a given rate everywhere (in-run flakes are retried and pass, as openshift-tests
does); **infrastructure failures** end a run before any test ran; a small background
rate of one-off failures stays under any detector's threshold. Failures use recurring
error texts with variable parts (pods, IPs, times), some tracked by an issue whose
title and body a maintainer would write. Used by tests, ``bench/ci.py`` and the demo.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from kubesift.testing.fakegithub import FakeGitHub

SIGS = ("node", "network", "storage", "apps", "api-machinery", "auth", "scheduling", "cli")
SUBJECTS = (
    "Pods",
    "Services",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "PersistentVolumes",
    "NetworkPolicy",
    "ConfigMap",
    "Secrets",
    "Job",
    "CronJob",
    "Probing container",
    "DNS",
    "Ingress",
    "ResourceQuota",
    "Kubectl client",
    "Garbage collector",
    "Events",
)
BEHAVIOURS = (
    "should be updated",
    "should run to completion",
    "should be restarted with a liveness probe",
    "should serve endpoints on same port and different protocols",
    "should adopt matching orphans",
    "should provide DNS for the cluster",
    "should mount a volume with default mode",
    "should enforce policy to allow traffic from pods",
    "should delete pods when the owner is gone",
    "should scale up and down",
    "should report events for a failing pod",
    "should support rolling-update to same image",
    "should create and stop a replication controller",
)
PLATFORMS = ("aws", "gcp", "azure", "metal")
NETWORKS = ("ovn", "sdn")
#: Recurring failure texts; {…} parts vary per occurrence.
ERRORS = (
    'pod "{pod}" in namespace "e2e-tests-{ns}" failed: container "app" exited with code 137',
    'Get "https://{ip}:6443/api/v1/namespaces": dial tcp {ip}:6443: i/o timeout',
    'Timed out after {secs}s waiting for deployment "web-{pod}" to have 3 available replicas',
    'expected node "{node}" to be Ready, got Unknown (lease {uuid} expired)',
    "unexpected error updating object {uuid}: the object has been modified; please apply "
    "your changes to the latest version and try again",
    'failed to pull image "registry.k8s.io/e2e-test-images/agnhost:2.{secs}": rpc error: '
    "code = Unavailable desc = connection reset by peer",
    'error waiting for service "svc-{ns}" endpoints: got 1 of 2 ready addresses from {ip}',
    'PersistentVolumeClaim "pvc-{pod}" stuck in Pending for {secs}s: no volume plugin matched',
)
INFRA_TEXT = "error: failed to acquire a cluster lease: timed out waiting for quota"


@dataclass(frozen=True)
class Regression:
    test: str
    platform: str  # the job variant it hits
    start: int  # epoch seconds
    rate: float
    error: int  # index into ERRORS


@dataclass(frozen=True)
class Flake:
    test: str
    rate: float
    error: int
    in_run: bool  # retried within the run (OpenShift) rather than failing the run


@dataclass(frozen=True)
class TrackedIssue:
    error: int
    test: str
    title: str
    body: str


@dataclass
class CIHistory:
    """What the generator wrote, and the truth the detectors are judged against."""

    root: Path
    jobs: list[str]
    tests: list[str]
    start: int
    end: int
    regressions: list[Regression] = field(default_factory=list)
    flakes: list[Flake] = field(default_factory=list)
    issues: list[TrackedIssue] = field(default_factory=list)
    runs: int = 0
    infra_runs: int = 0
    results: int = 0
    failures: int = 0
    #: failure text → the ERRORS index it came from (clustering truth)
    error_of_text: dict[str, int] = field(default_factory=dict)


def test_names(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    names: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        sig = rng.choice(SIGS)
        name = f"[sig-{sig}] {rng.choice(SUBJECTS)} {rng.choice(BEHAVIOURS)}"
        if rng.random() < 0.3:
            name += " [Conformance]"
        if name in names:
            name += f" #{len(out)}"
        names.add(name)
        out.append(name)
    return out


def job_names(count: int) -> list[str]:
    out = []
    for i in range(count):
        platform = PLATFORMS[i % len(PLATFORMS)]
        network = NETWORKS[(i // len(PLATFORMS)) % len(NETWORKS)]
        release = 16 + (i // 8) % 5  # five releases in flight, as OpenShift has
        shard = f"-shard{i // 40}" if i >= 40 else ""  # more jobs than variant combinations
        out.append(
            f"periodic-ci-openshift-release-master-ci-4.{release}-e2e-{platform}-{network}{shard}"
        )
    return out


def generate(
    root: Path,
    *,
    end: int,
    days: int = 14,
    jobs: int = 8,
    tests: int = 40,
    runs_per_job_day: int = 4,
    regressions: int = 2,
    flakes: int = 3,
    infra_rate: float = 0.02,
    noise_rate: float = 0.0005,
    presubmits: int = 0,
    seed: int = 0,
) -> CIHistory:
    """Write a history ending at ``end`` (epoch s) under ``root``; return its truth.

    Regressions start four days before ``end`` (inside the default 7-day sample).
    """
    rng = random.Random(seed)
    names = test_names(tests, seed)
    h = CIHistory(root=root, jobs=job_names(jobs), tests=names, start=end - days * 86_400, end=end)
    picked = rng.sample(names, regressions + flakes)
    for i, test in enumerate(picked[:regressions]):
        h.regressions.append(
            Regression(test, PLATFORMS[i % len(PLATFORMS)], end - 4 * 86_400, 0.6, i % len(ERRORS))
        )
    for i, test in enumerate(picked[regressions:]):
        h.flakes.append(
            Flake(test, 0.08 + 0.04 * (i % 3), (regressions + i) % len(ERRORS), in_run=i % 2 == 0)
        )
    h.issues = _issues(h, rng)
    writer = _Writer(h, rng, infra_rate, noise_rate)
    step = 86_400 // max(1, runs_per_job_day)
    build = 1_700_000_000_000_000_000 // 10**9
    for t in range(h.start, end, step):
        for job in h.jobs:
            build += 1
            writer.run(f"logs/{job}/{build}", job, t + rng.randrange(step // 2), None)
    for n in range(presubmits):
        build += 1
        job = f"pull-ci-openshift-origin-master-e2e-{PLATFORMS[n % len(PLATFORMS)]}"
        writer.run(
            f"pr-logs/pull/openshift_origin/{1000 + n}/{job}/{build}", job, end - 3600, 1000 + n
        )
    return h


def _issues(h: CIHistory, rng: random.Random) -> list[TrackedIssue]:
    """Issues a maintainer files: one per regression, one per in-run flake's error."""
    out = []
    for r in h.regressions:
        sample = _fill(ERRORS[r.error], rng)
        out.append(
            TrackedIssue(
                r.error,
                r.test,
                f"Failing test: {r.test} on {r.platform}",
                f"Which jobs are failing: e2e-{r.platform}\n\nWhich test is failing:\n{r.test}\n\n"
                f"Reason for failure:\n```\n{sample}\n```\n",
            )
        )
    for f in h.flakes[: max(1, len(h.flakes) - 1)]:  # the last flake stays untracked
        sample = _fill(ERRORS[f.error], rng)
        out.append(
            TrackedIssue(
                f.error,
                f.test,
                f"[Flaky test] {f.test}",
                f"This test flakes about {round(f.rate * 100)}% of runs.\n\n```\n{sample}\n```\n",
            )
        )
    return out


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        pod="".join(rng.choices("bcdfghjklmnpqrstvwxz2456789", k=5)),
        ns=rng.randrange(1000, 9999),
        ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        secs=rng.randrange(30, 600),
        node=f"ip-10-0-{rng.randrange(256)}-{rng.randrange(256)}.ec2.internal",
        uuid="-".join(f"{rng.getrandbits(4 * n):0{n}x}" for n in (8, 4, 4, 4, 12)),
    )


class _Writer:
    def __init__(self, h: CIHistory, rng: random.Random, infra: float, noise: float) -> None:
        self.h, self.rng, self.infra, self.noise = h, rng, infra, noise
        self.flakes = {f.test: f for f in h.flakes}
        self.regs = {r.test: r for r in h.regressions}
        self.passing = {n: f'  <testcase name={quoteattr(n)} time="1.5"/>\n' for n in h.tests}

    def run(self, path: str, job: str, started: int, pr: int | None) -> None:
        d = self.h.root / path
        (d / "artifacts").mkdir(parents=True, exist_ok=True)
        h = self.h
        h.runs += 1
        infra = self.rng.random() < self.infra
        cases, failed = ([], 0) if infra else self._cases(job, started)
        passed = not infra and failed == 0
        (d / "started.json").write_text(json.dumps({"timestamp": started}))
        (d / "finished.json").write_text(
            json.dumps(
                {
                    "timestamp": started + 3000,
                    "passed": passed,
                    "result": "SUCCESS" if passed else "FAILURE",
                }
            )
        )
        refs: dict[str, object] = {"org": "openshift", "repo": "origin"}
        if pr is not None:
            refs["pulls"] = [{"number": pr, "author": "dev1", "sha": "abc123"}]
        kind = "presubmit" if pr is not None else "periodic"
        (d / "prowjob.json").write_text(
            json.dumps({"spec": {"type": kind, "job": job, "refs": refs}})
        )
        log = f"running {job}\n" + (INFRA_TEXT if infra else f"{failed} tests failed") + "\n"
        (d / "build-log.txt").write_text(log)
        if infra:
            h.infra_runs += 1
            return
        body = "".join(cases)
        (d / "artifacts" / "junit_e2e_01.xml").write_text(
            f'<testsuites>\n<testsuite name="openshift-tests" tests="{len(h.tests)}">\n'
            f"{body}</testsuite>\n</testsuites>\n"
        )

    def _cases(self, job: str, t: int) -> tuple[list[str], int]:
        out, failed = [], 0
        for name in self.h.tests:
            self.h.results += 1
            err = self._failure(name, job, t)
            if err is None:
                out.append(self.passing[name])
                continue
            text = _fill(ERRORS[err[0]], self.rng)
            self.h.error_of_text[text] = err[0]
            case = (
                f'  <testcase name={quoteattr(name)} time="2.0">'
                f"<failure>{escape(text)}</failure></testcase>\n"
            )
            out.append(case)
            if err[1]:  # retried in the run and passed: a flake
                out.append(self.passing[name])
            else:
                failed += 1
                self.h.failures += 1
        return out, failed

    def _failure(self, name: str, job: str, t: int) -> tuple[int, bool] | None:
        r = self.regs.get(name)
        if (
            r is not None
            and t >= r.start
            and f"-{r.platform}-" in job
            and self.rng.random() < r.rate
        ):
            return r.error, False
        f = self.flakes.get(name)
        if f is not None and self.rng.random() < f.rate:
            return f.error, f.in_run
        if self.rng.random() < self.noise:
            return self.rng.randrange(len(ERRORS)), False
        return None


DECOYS = (
    ("kubelet: i/o timeout talking to the runtime on Windows nodes", "Seen once on a dev cluster."),
    ("Deployment rollout stuck with 3 available replicas", "Steps to reproduce: scale to 3."),
    ("Services: document session affinity timeouts", "The docs do not say what happens."),
    ("e2e framework: make pod name suffixes shorter", "pod names like web-7mhpx are hard to read"),
    ("Flaky test tracking umbrella for sig-network", "Collects flakes; see the project board."),
    ("NetworkPolicy ingress rules ignore named ports", "Reproducer attached."),
    ("Image pulls from registry.k8s.io are slow in CI", "connection reset by peer sometimes"),
    ("PersistentVolumeClaim events are confusing", "Pending claims say nothing useful"),
)


def file_issues(fake: FakeGitHub, repo: str, history: CIHistory) -> dict[str, int]:
    """File ``history``'s tracked issues (open), a closed duplicate of the first, and
    decoys that share words but track nothing, in the fake GitHub ``fake``.

    Returns each tracked test → its open issue's number.
    """
    owner, name = repo.split("/")
    fake.create_repo(owner, name)
    numbers: dict[str, int] = {}
    for title, body in DECOYS:
        fake.create_item(repo, title=title, body=body, kind="issue")
    for i, issue in enumerate(history.issues):
        if i == 0:  # an older report of the same failure, closed long ago
            fake.create_item(repo, title=issue.title, body=issue.body, state="closed")
        item = fake.create_item(repo, title=issue.title, body=issue.body, kind="issue")
        numbers[issue.test] = item.number
    return numbers
