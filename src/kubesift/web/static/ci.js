// kubesift dashboard, the CI pages: Component Readiness, jobs, regressions, flakes,
// clusters, failure search, and the TestGrid-like grid. Helpers come from app.js.
"use strict";

function issueLink(row) {
  return row.issue_url ? el("a", { href: row.issue_url, rel: "noopener", class: "issue" }, row.issue) : "–";
}

const WORST = { "SignificantRegression": "bad", "ExtremeRegression": "bad", "FailedFixedRegression": "bad",
  "FixedRegression": "ok", "MissingSample": "warn",
  "ExtremeTriagedRegression": "warn", "SignificantTriagedRegression": "warn",
  "NotSignificant": "ok", "SignificantImprovement": "good", "MissingBasis": "none", "MissingBasisAndSample": "none" };

function showCell(data, component, column) {
  const cells = data.cells.filter((c) => c.component === component && c.column === column);
  const panel = document.getElementById("cell");
  panel.hidden = false;
  panel.replaceChildren(el("h2", {}, `${component} × ${column}`), table([
    { key: "test", title: "test" },
    { key: "status", title: "status" },
    { key: "p", title: "p", ratio: true },
    { key: "explanation", title: "why" },
    { key: "jobs", title: "runs", render: (c) => el("span", {}, c.jobs.map((j) =>
        el("a", { href: `/ci/grid?job=${encodeURIComponent(j)}&only=failing`, class: "job" }, j, " "))) },
    { key: "issue", title: "tracking issue", render: issueLink },
  ], cells, "Nothing regressed or improved here."));
}

async function readiness() {
  let data;
  try { data = await api("/api/ci/readiness"); } catch (e) { return showError("readiness", e); }
  fill("readiness-scope", `Sample ${data.sample.start.slice(0, 10)} to ${data.sample.end.slice(0, 10)} against ${data.basis.start.slice(0, 10)} to ${data.basis.end.slice(0, 10)}; ${fmt(data.judged)} cells judged. Click a cell for its tests.`);
  const components = Object.keys(data.components).sort();
  if (!components.length) return fill("readiness", el("p", { class: "empty" }, "No CI results to judge yet."));
  const cols = [...new Set(components.flatMap((k) => Object.keys(data.components[k])))].sort();
  const head = el("tr", {}, el("th", { scope: "col" }, "component"), cols.map((c) => el("th", { scope: "col" }, c)));
  const rows = components.map((k) => el("tr", {}, el("th", { scope: "row" }, k), cols.map((c) => {
    const status = data.components[k][c];
    if (!status) return el("td", {}, "");
    return el("td", { class: `ready ${WORST[status] || "none"}`, title: status, "data-component": k, "data-column": c,
      onclick: () => showCell(data, k, c) }, status.replace(/([a-z])([A-Z])/g, "$1 $2"));
  })));
  fill("readiness", el("table", { class: "readiness" }, el("thead", {}, head), el("tbody", {}, rows)));
}

async function ci() {
  readiness();
  triageTable();
  symptomTable();
  if (!ci.symptomsBound) { bindSymptomForm(); ci.symptomsBound = true; }
  flakeTable();
  clusterTable();
  if (!ci.bound) { bindSearch(); ci.bound = true; }
  searchFailures();
  let data, tabs = {};
  try {
    const [jobs, tabList] = await Promise.all([api("/api/ci/jobs"), api("/api/ci/tabs")]);
    data = jobs;
    for (const t of tabList.rows) tabs[t.job] = t;
  } catch (e) { return showError("jobs", e); }
  fill("jobs", table([
    { key: "name", title: "job", render: (r) => el("a", { href: `/ci/grid?job=${encodeURIComponent(r.name)}` }, r.name) },
    { key: "kind", title: "kind" },
    { key: "variants", title: "variants" },
    { key: "runs", title: "runs" },
    { key: "failed", title: "failed" },
    { key: "pass_pct", title: "passed %", render: (r) => (r.pass_pct === null ? "–" : r.pass_pct.toFixed(1)) },
    { key: "last_run", title: "last run" },
    { key: "tab", title: "tab state", render: (r) => tabCell(tabs[r.name]) },
    { key: "trend", title: "flakiness (7 d, trend)", render: (r) => trendCell(tabs[r.name]) },
  ], data.jobs, "No CI results yet: run `kubesift ci import`."));
  fill("regressions", table([
    { key: "test", title: "test" },
    { key: "component", title: "component" },
    { key: "variants", title: "variants" },
    { key: "status", title: "status" },
    { key: "opened_at", title: "opened" },
    { key: "max_failures", title: "failures" },
    { key: "symptoms", title: "symptoms (share of its failing runs)", render: (r) => symptomShares(r.symptoms) },
    { key: "issue", title: "tracking issue", render: issueLink },
    { key: "id", title: "", render: triageForm },
  ], data.regressions, "No open regressions."));
}

const STATUS = { 0: "not run", 1: "pass", 4: "running", 12: "fail", 13: "flaky" };

// The run as a whole: its failing and flaky tests, each opening its own failure.
function overallDetail(job, column, index) {
  const rows = (gridData.rows || []).filter((r) => r.name !== "Overall" && [12, 13].includes(r.cells[index]));
  document.querySelector("#failure pre.message").textContent =
    `${column.state}: ${fmt(column.failures)} failed, ${fmt(column.flakes)} flaked in this run.` +
    (column.symptoms.length ? `\nSymptoms: ${column.symptoms.map((s) => s.summary).join("; ")}` : "");
  fill("failure-detail", rows.length ? el("ul", {}, rows.map((r) => el("li", {},
    el("a", { href: "#failure", onclick: () => showFailure(job, column, r, index) }, r.name), ` (${STATUS[r.cells[index]]})`)))
    : el("p", {}, "No test failed: the run itself did (setup, infrastructure or a timeout)."));
}

let gridData = {};

function runHref(job, build) {
  return `/ci/run?${new URLSearchParams({ job, build })}`;
}

function showFailure(job, column, row, index) {
  const panel = document.getElementById("failure");
  panel.hidden = false;
  panel.replaceChildren(
    el("h2", {}, `${row.name}: ${STATUS[row.cells[index]]} in build ${column.build}`),
    el("p", {}, `${job} · started ${fmt(column.started_at)} · `,
      el("a", { href: runHref(job, column.build), class: "timeline-link" }, "its timeline"), " · ",
      column.url ? el("a", { href: column.url, rel: "noopener", class: "run" }, "the run") : "no run link"),
    el("pre", { class: "message" }, row.messages[index] || "(no failure text recorded)"),
    el("div", { id: "failure-detail" }));
  if (row.name === "Overall") return overallDetail(job, column, index);
  if (row.name === "Pod" && !row.suite) return; // podinfo.json's verdict: the message says it all
  if (row.cells[index] !== 12 && row.cells[index] !== 13) return;
  const query = new URLSearchParams({ job, build: column.build, suite: row.suite, test: row.name });
  api(`/api/ci/failure?${query}`).then((f) => {
    panel.querySelector("pre.message").textContent = f.text || "(no failure text recorded)";
    fill("failure-detail", clusterLine(f.cluster),
      el("p", {}, "Tracking issue: ", f.issue
        ? [el("a", { href: f.issue.url, rel: "noopener", class: "issue" }, f.issue.ref), ` (${f.issue.why})`]
        : ["none found."]),
      f.search.q ? el("p", {}, el("a", { href: `/ci?q=${encodeURIComponent(f.search.q)}#search`, class: "search-failure" },
        `Search for this failure over the last ${fmt(f.search.days)} days`), el("code", {}, ` ${f.search.q}`)) : "");
  }).catch((e) => showError("failure-detail", e));
}

function clusterLine(c) {
  if (!c) return el("p", {}, "Cluster: none (outside the clustering window).");
  return el("p", { class: "cluster" }, "Cluster ",
    el("a", { href: `/ci#cluster-${c.id}` }, c.id.slice(0, 8)),
    `: ${fmt(c.failures)} failures of ${fmt(c.tests.length)} tests in ${fmt(c.jobs.length)} jobs since ${fmt(c.first_seen)}, owned by ${c.owner}.`);
}

async function grid() {
  const query = params();
  const job = query.get("job") || "";
  let data;
  try { data = await api(`/api/ci/grid?${query}`); } catch (e) { return showError("grid", e); }
  gridData = data;
  document.querySelector("h1").textContent = `CI grid: ${job}`;
  api(`/api/ci/tabs?${new URLSearchParams({ job })}`).then((t) => {
    const tab = t.rows[0];
    fill("tab-state", tabCell(tab), ` ${tab.reason}; flakiness ${tab.flakiness.toFixed(2)} % over 7 days, ${tab.trend.replace("_", " ").toLowerCase()} from ${tab.flakiness_before.toFixed(2)} %.`);
  }).catch((e) => showError("tab-state", e));
  const head = el("tr", {}, el("th", { scope: "col" }, "test"),
    data.columns.map((c) => el("th", { scope: "col", class: "build", title: `${c.started_at || ""}: the run's timeline` },
      el("a", { href: runHref(job, c.build) }, c.build.slice(-4)),
      c.symptoms.length ? el("span", { class: "symptom-mark", title: `symptoms: ${c.symptoms.map((s) => s.summary).join("; ")}`,
        "data-symptoms": c.symptoms.map((s) => s.id).join(" ") }, "◆") : null)));
  const rows = data.rows.map((row) => el("tr", { class: row.alert ? "alerting" : null },
    el("th", { scope: "row", title: row.suite }, row.name, row.alert ? el("span", { class: "badge" }, ` failing ×${row.alert.fail_count}`) : null),
    row.cells.map((status, i) => el("td", {
      class: `cell s${status}`,
      title: `${STATUS[status]}${row.messages[i] ? `: ${row.messages[i]}` : ""}`,
      "data-status": STATUS[status],
      onclick: () => showFailure(job, data.columns[i], row, i),
    }))));
  fill("grid", data.columns.length
    ? el("table", { class: "testgrid" }, el("thead", {}, head), el("tbody", {}, rows))
    : el("p", { class: "empty" }, "No runs of this job yet."));
}


function triageForm(regression) {
  if (!document.getElementById("token")) return "";
  const input = el("input", { type: "text", placeholder: "owner/name#123", size: 16, "aria-label": "tracking issue" });
  const send = async (event) => {
    event.preventDefault();
    const status = document.getElementById("ci-status");
    try {
      await act(`/api/ci/regressions/${regression.id}/triage`, { issue: input.value });
      status.textContent = `Regression ${regression.id} is tracked by ${input.value}.`;
      ci();
    } catch (e) {
      status.textContent = `Not triaged: ${e.message}`;
    }
  };
  return el("form", { class: "triage", onsubmit: send }, input, el("button", { type: "submit" }, "triage"));
}

async function flakeTable() {
  let data;
  try { data = await api("/api/ci/flakes"); } catch (e) { return showError("flakes", e); }
  fill("flakes", table([
    { key: "test", title: "test" },
    { key: "job", title: "job", render: (r) => el("a", { href: `/ci/grid?job=${encodeURIComponent(r.job)}&only=flaky` }, r.job) },
    { key: "runs", title: "runs" },
    { key: "flakes", title: "flaked (passed on retry)" },
    { key: "flake_pct", title: "flake %", render: (r) => r.flake_pct.toFixed(1) },
    { key: "flip_flakiness", title: "flips %", render: (r) => r.flip_flakiness.toFixed(1) },
    { key: "working_pct", title: "working %", render: (r) => r.working_pct.toFixed(1) },
  ], data.rows.slice(0, 50), "No flaky test in the last 7 days."));
}

async function clusterTable() {
  let data;
  try { data = await api("/api/ci/clusters"); } catch (e) { return showError("clusters", e); }
  fill("clusters-scope", `${fmt(data.failures)} failures in ${fmt(data.total)} clusters over ${fmt(data.days)} days; the largest ${fmt(data.rows.length)}:`);
  fill("clusters", table([
    { key: "id", title: "cluster", render: (r) => el("span", { id: `cluster-${r.id}` }, r.id.slice(0, 8)) },
    { key: "failures", title: "failures" },
    { key: "text", title: "failure text", render: (r) => el("code", { title: r.text }, r.text.slice(0, 140)) },
    { key: "tests", title: "tests", render: (r) => r.tests.slice(0, 3).map((t) => t.name).join(", ") },
    { key: "jobs", title: "jobs", render: (r) => fmt(r.jobs.length) },
    { key: "first_seen", title: "since" },
    { key: "owner", title: "owner" },
    { key: "symptoms", title: "symptoms (share of its runs)", render: (r) => symptomShares(r.symptoms) },
    { key: "issue", title: "tracking issue", render: (r) => (r.issue ? el("a", { href: r.issue.url, rel: "noopener", class: "issue", title: r.issue.why }, `${r.issue.repo}#${r.issue.number}`) : "–") },
  ], data.rows, "No failures to cluster."));
  if (window.location.hash.startsWith("#cluster-")) {
    const target = document.getElementById(window.location.hash.slice(1));
    if (target) target.closest("tr").classList.add("focus");
  }
}

// "When did it start": matching runs per hour or day, as bars over time.
function histogram(h) {
  const counts = h.counts;
  if (!counts.length) return [el("p", { class: "empty" }, "No run matched.")];
  const first = counts.find((c) => c.runs);
  const spec = { title: "matching runs over time", columns: ["at", "runs"], rows: counts, xlabel: h.bucket, ylabel: `matching runs per ${h.bucket}`, bars: true };
  const [chart] = timeChart(spec);
  return [chart, el("p", { class: "note" }, first ? `First seen in this window: ${first.at} (per ${h.bucket}).` : "")];
}

async function searchFailures() {
  const q = params().get("q");
  const form = document.getElementById("search");
  if (q) form.elements.q.value = q;
  if (!q) return;
  fill("search-results", el("p", { class: "loading" }, "Searching…"));
  let r;
  try { r = await api(`/api/ci/search?q=${encodeURIComponent(q)}`); } catch (e) { return showError("search-results", e); }
  fill("search-results",
    el("p", { class: "headline" }, `${r.headline}.`),
    ...histogram(r.histogram),
    table([
      { key: "job", title: "job", render: (j) => el("a", { href: `/ci/grid?job=${encodeURIComponent(j.job)}&only=failing` }, j.job) },
      { key: "matching_runs", title: "runs matched" },
      { key: "pct_of_runs", title: "% of runs", render: (j) => j.pct_of_runs.toFixed(1) },
      { key: "pct_of_failures", title: "% of failures", render: (j) => j.pct_of_failures.toFixed(1) },
      { key: "first_seen", title: "first" },
      { key: "last_seen", title: "last" },
    ], r.jobs, "No job matched."),
    el("h3", {}, "Issues that mention it"),
    table([
      { key: "ref", title: "issue", render: (i) => el("a", { href: i.url, rel: "noopener", class: "issue" }, `${i.repo}#${i.number}`) },
      { key: "title", title: "title" },
      { key: "state", title: "state" },
    ], r.issues, "No issue mentions it: file one."));
}

function bindSearch() {
  const form = document.getElementById("search");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = params();
    next.set("q", form.elements.q.value);
    history.replaceState(null, "", `?${next}#search`);
    searchFailures();
  });
}

// -- a run's timeline ---------------------------------------------------------------------------

const KIND_ORDER = ["run", "container", "suite", "test", "node", "pod", "alert", "disruption", "operator", "event"];
const MAX_LANES = 300;

function timelineLanes(intervals) {
  const lanes = new Map();
  for (const i of intervals) {
    const key = `${i.kind}\u0000${i.row}`;
    if (!lanes.has(key)) lanes.set(key, { kind: i.kind, row: i.row, bars: [], failed: false });
    const lane = lanes.get(key);
    lane.bars.push(i);
    lane.failed = lane.failed || i.failed;
  }
  const rank = (k) => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length);
  // failed lanes first within their kind, then by when they start
  return [...lanes.values()].sort((a, b) => rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind)
    || (b.failed - a.failed) || a.bars[0].from.localeCompare(b.bars[0].from));
}

async function run() {
  const query = params();
  const job = query.get("job") || "", build = query.get("build") || "";
  let t;
  try { t = await api(`/api/ci/timeline?${new URLSearchParams({ job, build })}`); } catch (e) { return showError("timeline", e); }
  document.querySelector("h1").textContent = `CI run: ${job} #${build}`;
  const sources = Object.entries(t.sources).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") || "none";
  fill("run-summary", `${t.state}: ${fmt(t.count)} intervals from ${sources}; ${fmt(t.failed_tests.length)} failed tests. `,
    el("a", { href: `/ci/grid?job=${encodeURIComponent(job)}` }, "the job's grid"),
    t.url ? [" · ", el("a", { href: t.url, rel: "noopener", class: "run" }, "the run on Prow")] : "",
    t.symptoms.length ? el("span", { class: "symptoms" }, ` · symptoms: ${t.symptoms.map((s) => s.summary).join("; ")}`) : "");
  const kind = query.get("kind"), onlyFailed = query.get("only") === "failed";
  const shown = t.intervals.filter((i) => (!kind || i.kind === kind) && (!onlyFailed || (i.kind === "test" && i.failed)));
  const times = t.intervals.flatMap((i) => [Date.parse(i.from), Date.parse(i.to)]);
  const start = Math.min(...times), span = Math.max(1, Math.max(...times) - start);
  const pct = (ms) => `${(100 * (ms - start) / span).toFixed(3)}%`;
  const lanes = timelineLanes(shown);
  const nodes = [el("div", { class: "axis" }, el("span", {}, t.intervals.length ? t.intervals[0].from.slice(11, 19) : ""),
    el("span", {}, `${(span / 60000).toFixed(1)} min`), el("span", {}, t.intervals.length ? new Date(start + span).toISOString().slice(11, 19) : ""))];
  let lastKind = null;
  for (const lane of lanes.slice(0, MAX_LANES)) {
    if (lane.kind !== lastKind) { nodes.push(el("div", { class: "kind" }, lane.kind)); lastKind = lane.kind; }
    const bars = lane.bars.map((i) => {
      const from = Date.parse(i.from), to = Date.parse(i.to);
      return el("div", {
        class: `bar ${i.failed ? "failed" : i.level}`, "data-source": i.source,
        style: `left: ${pct(from)}; width: ${(100 * (to - from) / span).toFixed(3)}%`,
        title: `${i.from.slice(11, 23)}–${i.to.slice(11, 23)} · ${i.source}: ${i.text}`,
      });
    });
    nodes.push(el("div", { class: `lane ${lane.failed ? "failed" : ""}`, "data-kind": lane.kind },
      el("span", { class: "name", title: lane.row }, lane.row), el("div", { class: "track" }, bars)));
  }
  fill("timeline", ...(lanes.length ? nodes : [el("p", { class: "empty" },
    t.count ? "No interval matches these filters." : "This run shipped nothing with times (no JUnit timestamps, podinfo, interval or event files).")]));
  const notes = [];
  if (lanes.length > MAX_LANES) notes.push(`${fmt(lanes.length - MAX_LANES)} more lanes not drawn: choose a kind above.`);
  if (t.failed_unplaced.length) notes.push(`Failed tests without a start time in what the run shipped: ${t.failed_unplaced.join("; ")}.`);
  if (t.unplaced) notes.push(`${fmt(t.unplaced)} tests have no start time and are not drawn.`);
  if (t.dropped) notes.push(`${fmt(t.dropped)} intervals over the per-run cap were not kept.`);
  for (const e of t.errors) notes.push(e);
  fill("timeline-notes", ...notes.map((n) => el("p", { class: "note" }, n)));
}

// -- symptoms -----------------------------------------------------------------------------------

function symptomShares(list) {
  if (!list || !list.length) return "–";
  return el("span", { class: "symptoms" }, ...list.slice(0, 4).flatMap((s, i) => [i ? "; " : "",
    el("span", { title: s.id }, `${s.summary} ${(100 * s.share).toFixed(0)}%`)]));
}

async function symptomTable() {
  let data;
  try { data = await api("/api/ci/symptoms"); } catch (e) { return showError("symptoms", e); }
  fill("symptoms", table([
    { key: "id", title: "id" },
    { key: "summary", title: "summary" },
    { key: "matcher", title: "matcher" },
    { key: "pattern", title: "pattern", render: (r) => el("code", {}, r.pattern) },
    { key: "in", title: "in" },
    { key: "runs", title: "failed runs" },
    { key: "origin", title: "defined in" },
  ], data.rows, "No symptoms yet: `kubesift ci symptoms load FILE`, or define one below with the token."));
  const form = document.getElementById("symptom-form");
  if (form) form.hidden = !document.getElementById("token");
}

function bindSymptomForm() {
  const form = document.getElementById("symptom-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = (name) => form.elements.namedItem(name).value;
    const body = { id: f("id").trim(), summary: f("summary").trim(), [f("matcher")]: f("pattern") };
    if (f("matcher") !== "file" && f("in")) body.in = f("in");
    const status = document.getElementById("symptom-status");
    try {
      const done = await act("/api/ci/symptoms", body);
      status.textContent = `Symptom ${body.id} applied to ${fmt(done.runs_examined)} failed runs: it labels ${fmt(done.matched[body.id] || 0)}.`;
      ci();
    } catch (e) {
      status.textContent = `Not defined: ${e.message}`;
    }
  });
}

// -- TestGrid's tab summary ---------------------------------------------------------------------

const TAB_CLASS = { PASSING: "good", FLAKY: "warn", FAILING: "bad", STALE: "none", PENDING: "none" };

function tabCell(tab) {
  if (!tab) return "–";
  return el("span", { class: `tab ready ${TAB_CLASS[tab.state] || "none"}`, title: tab.reason }, tab.state);
}

function trendCell(tab) {
  if (!tab) return "–";
  const arrow = { UP: "↑", DOWN: "↓", NO_CHANGE: "→" }[tab.trend];
  return el("span", { title: `previous 7 days: ${tab.flakiness_before.toFixed(2)} %` }, `${tab.flakiness.toFixed(2)} % ${arrow}`);
}

// -- triages ------------------------------------------------------------------------------------

async function triageTable() {
  let data;
  try { data = await api("/api/ci/triages"); } catch (e) { return showError("triages", e); }
  fill("triages", table([
    { key: "issue", title: "issue", render: (t) => { const url = issueUrl(t.issue); return url ? el("a", { href: url, rel: "noopener", class: "issue" }, t.issue) : t.issue; } },
    { key: "type", title: "type" },
    { key: "regressions", title: "regressions", render: (t) => t.regressions.map((r) => `#${r.id} ${r.test}${r.closed_at ? " (closed)" : ""}`).join("; ") },
    { key: "failing_runs", title: "failing runs" },
    { key: "symptoms", title: "symptoms (share of failing runs)", render: (t) => symptomShares(t.symptoms) },
    { key: "created_at", title: "since" },
    { key: "id", title: "", render: resolveButton },
  ], data.rows, "No open triages: triage a regression below with its tracking issue."));
}

function issueUrl(ref) {
  const m = /^([\w.-]+\/[\w.-]+)#(\d+)$/.exec(ref || "");
  return m ? `https://github.com/${m[1]}/issues/${m[2]}` : null;
}

function resolveButton(triage) {
  if (!document.getElementById("token")) return "";
  const send = async () => {
    const status = document.getElementById("ci-status");
    try {
      await act(`/api/ci/triages/${triage.id}/resolve`, {});
      status.textContent = `Triage ${triage.id} (${triage.issue}) resolved: its regressions show as fixed until they fail again.`;
      ci();
    } catch (e) {
      status.textContent = `Not resolved: ${e.message}`;
    }
  };
  return el("button", { type: "button", class: "resolve", onclick: send }, "fix merged");
}
