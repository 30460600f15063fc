// kubesift dashboard: every table is filled from the JSON API under /api/.
"use strict";

// A link target from data is kept only when it is http(s) or a path of this site: a
// "javascript:" (or "data:", "vbscript:"...) URL never becomes a link. The page's CSP
// refuses such URLs too; this keeps the link from being drawn at all.
function safeHref(value) {
  const text = String(value).trim();
  if (text.startsWith("/") && !text.startsWith("//")) return text;
  if (text.startsWith("#") || text.startsWith("?")) return text;
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "href" || k === "src") {
      const safe = safeHref(v);
      if (safe !== null) node.setAttribute(k, safe);
    } else if (k === "style") node.style.cssText = String(v); // CSSOM: allowed by the CSP
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function ratio(value) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return `[${value.map(ratio).join(", ")}]`;
  return typeof value === "number" ? value.toFixed(3) : String(value);
}

function fmt(value) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(3);
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.map(fmt).join(", ");
  return String(value);
}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// An action: a POST with the token from the header's field (kept in session storage).
function act(path, body) {
  const token = document.getElementById("token");
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token ? token.value : ""}` },
    body: JSON.stringify(body || {}),
  });
}

function table(columns, rows, empty) {
  if (!rows.length) return el("p", { class: "empty" }, empty || "Nothing here yet.");
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c.title)));
  const body = rows.map((row) =>
    el("tr", {}, columns.map((c) => {
      const value = c.render ? c.render(row) : c.ratio ? ratio(row[c.key]) : fmt(row[c.key]);
      return el("td", { class: typeof row[c.key] === "number" ? "num" : null }, value);
    })),
  );
  return el("table", {}, el("thead", {}, head), el("tbody", {}, body));
}

function fill(id, ...nodes) {
  const target = document.getElementById(id);
  target.replaceChildren(...nodes);
}

function card(title, value, href, detail) {
  const kind = typeof value === "number" ? "value" : "value text";
  const body = [el("div", { class: kind }, fmt(value)), el("div", { class: "title" }, title)];
  if (detail) body.push(el("div", { class: "detail" }, detail));
  return href ? el("a", { class: "card", href }, body) : el("div", { class: "card" }, body);
}

function params() {
  return new URLSearchParams(window.location.search);
}

function bindFilters(load) {
  const form = document.getElementById("filters");
  if (!form) return;
  const current = params();
  for (const field of form.elements) {
    if (field.name && current.has(field.name)) field.value = current.get(field.name);
  }
  const submit = (event) => {
    if (event) event.preventDefault();
    const next = new URLSearchParams();
    for (const field of form.elements) if (field.name && field.value) next.set(field.name, field.value);
    history.replaceState(null, "", next.toString() ? `?${next}` : window.location.pathname);
    load();
  };
  form.addEventListener("submit", submit);
  form.addEventListener("change", submit);
}

function pager(result, load) {
  const pages = Math.max(1, Math.ceil(result.total / result.per_page));
  const go = (page) => () => {
    const next = params();
    next.set("page", page);
    history.replaceState(null, "", `?${next}`);
    load();
  };
  fill("pager",
    el("button", { disabled: result.page <= 1, onclick: go(result.page - 1) }, "‹ newer"),
    el("span", {}, ` page ${fmt(result.page)} of ${fmt(pages)} (${fmt(result.total)}) `),
    el("button", { disabled: result.page >= pages, onclick: go(result.page + 1) }, "older ›"));
}

function showError(id, error) {
  fill(id, el("p", { class: "error", role: "alert" }, `Could not load: ${error.message}`));
}

// -- pages --------------------------------------------------------------------------------------

async function overview() {
  let data;
  try { data = await api("/api/overview"); } catch (e) { return showError("cards", e); }
  const notes = data.models["release-notes"] || {};
  const items = data.models.items || {};
  const bot = data.bot.decisions;
  const alerts = data.alerts.incidents;
  const held = (alerts.digest || 0) + (alerts.record || 0) + (alerts.drop || 0);
  fill("cards",
    card("items in the store", data.repositories.reduce((n, r) => n + r.issues + r.pull_requests, 0), "/project"),
    card("production model", notes.production || "none", "/models", notes.canary ? `canary ${notes.canary}` : `${fmt(notes.versions)} versions`),
    card("items model", items.production || "none", "/models?source=items"),
    card("bot labels added (7 days)", bot.added || 0, "/bot", `${fmt(data.bot.corrections)} human corrections`),
    card("CI runs (7 days)", Object.values(data.ci.runs).reduce((a, b) => a + b, 0), "/ci", `${fmt(data.ci.runs.failure || 0)} failed · ${fmt(data.ci.open_regressions)} open regressions`),
    card("alerts paged", alerts.page || 0, "/alerts?decision=page", `${fmt(held)} held back`));
  fill("repositories", table([
    { key: "full_name", title: "repository" },
    { key: "issues", title: "issues" },
    { key: "pull_requests", title: "pull requests" },
    { key: "open", title: "open" },
    { key: "labels", title: "labels" },
    { key: "release_notes", title: "release notes" },
    { key: "last_sync", title: "last sync" },
  ], data.repositories, "The store is empty: run `kubesift export --repo OWNER/NAME`."));
}

// Which registry a models page reads: a source, and for items optionally one repository's own.
function registryQuery() {
  const p = params();
  const q = new URLSearchParams({ source: p.get("source") || "release-notes" });
  if (p.get("repo")) q.set("repo", p.get("repo"));
  return q.toString();
}

async function models() {
  const reg = registryQuery();
  let data, deployed;
  try {
    [data, deployed] = await Promise.all([api(`/api/models?${reg}`), api("/api/models/deployed")]);
  } catch (e) { return showError("versions", e); }
  fill("deployed", table([
    { key: "trained_on", title: "trained on" },
    { key: "ref", title: "production model", render: (r) => {
      const q = new URLSearchParams({ source: r.source });
      if (r.repo) q.set("repo", r.repo);
      return el("a", { href: `/models/${r.name}/${r.version}?${q}` }, r.ref);
    } },
    { key: "fit", title: "fit" },
    { key: "acting_labels", title: "acting labels", render: (r) => `${r.acting_labels}/${r.labels}` },
    { key: "group", title: "group" },
    { key: "f1_at_0.5", title: "F1 at 0.5" },
    { key: "f1_acting", title: "F1 acting" },
    { key: "acting_precision", title: "acting precision" },
    { key: "acting_recall", title: "acting recall" },
    { key: "split", title: "evaluated on" },
  ], deployed.rows, "No models yet: run `kubesift train`."));
  fill("versions", table([
    { key: "ref", title: "version", render: (r) => el("a", { href: `/models/${r.name}/${r.version}?${reg}` }, r.ref) },
    { key: "state", title: "state", render: (r) => (r.production ? "production" : r.canary ? "canary" : "") },
    { key: "fit", title: "fit" },
    { key: "created", title: "created" },
    { key: "split", title: "evaluated on" },
    { key: "calibration", title: "thresholds" },
    { key: "labels", title: "labels" },
    { key: "abstains", title: "abstain" },
  ], data.rows, "No models yet: run `kubesift train`."));
  const w = data.online_weekly;
  fill("deployed-weekly", ...(w.rows.length
    ? timeChart(weekly(w))
    : [el("p", { class: "empty" }, "The deployed versions have no judged decisions yet.")]));
  fill("reconciler", reconcilerTable(data.reconciler, "The reconciler has not run yet: `kubesift reconcile --once`."));
}

function reconcilerTable(rows, empty) {
  return table([
    { key: "started_at", title: "pass started" },
    { key: "step", title: "step" },
    { key: "action", title: "decision" },
    { key: "subject", title: "about" },
    { key: "reason", title: "why" },
  ], rows, empty);
}

async function model() {
  const main = document.getElementById("app");
  const reg = registryQuery();
  const path = `/api/models/${main.dataset.name}/${main.dataset.version}?${reg}`;
  let d;
  try { d = await api(path); } catch (e) { return showError("facts", e); }
  const m = d.metadata;
  const facts = [
    ["model", d.ref], ["fit", m.fit || "evaluation"], ["source", m.source || "release-notes"],
    ["labels", `${fmt(m.labels.length)} (${fmt(d.abstains.length)} abstain)`],
    ["promise", `precision ≥ ${fmt(m.target_precision)} per acting label`],
    ["thresholds", m.calibration || "out-of-fold"],
    ["evaluated on", d.split ? `${d.split} (${fmt(d.test_items)} test items)` : "– (a production fit: see its evaluation run)"],
    ["created", m.created], ["data hash", (m.data_hash || "").slice(0, 16)],
  ];
  if (params().get("repo")) facts.splice(3, 0, ["repository", `${params().get("repo")} (its own model)`]);
  if (m.encoder) facts.push(["sentence encoder", m.encoder.slice(0, 12)]);
  fill("facts", el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, fmt(v))])),
    el("p", {}, el("a", { href: `${d.card}?${reg}` }, "The model card as written at training (HTML)")));
  fill("promises", table([
    { key: "label", title: "label" },
    { key: "threshold", ratio: true, title: "acts at" },
    { key: "promised", ratio: true, title: "promised precision" },
    { key: "interval", ratio: true, title: "interval" },
    { key: "forward_recall", ratio: true, title: "forward recall" },
    { key: "lift", title: "lift over base rate", render: (r) => (r.lift === null || r.lift === undefined ? "–" : `×${r.lift.toFixed(2)}`) },
    { key: "labelled_share", title: "labels", render: (r) => (r.labelled_share === null || r.labelled_share === undefined ? "–" : `${(100 * r.labelled_share).toFixed(0)} %`) },
    { key: "delivered_precision", ratio: true, title: "delivered precision" },
    { key: "delivered_recall", ratio: true, title: "delivered recall" },
  ], d.promises.filter((r) => r.threshold !== null), "No label acts."));
  fill("abstains", table([
    { key: "label", title: "label" },
    { key: "abstains_because", title: "why it never acts" },
  ], d.promises.filter((r) => r.threshold === null), "Every label acts."));
  fill("evaluation", table([
    { key: "model", title: "model" }, { key: "group", title: "group" },
    { key: "f1_at_0.5", ratio: true, title: "F1 at 0.5" }, { key: "f1_best", ratio: true, title: "F1 at best-F1 thresholds" },
    { key: "acting_precision", ratio: true, title: "acting precision" }, { key: "acting_recall", ratio: true, title: "acting recall" },
  ], d.evaluation, "A production fit without an evaluation run."));
  fill("state", stateLine(d, reg));
  fill("curves", d.pr_curves ? el("img", { src: `${d.pr_curves}?${reg}`, alt: "precision–recall curves per label", class: "curves" })
    : el("p", { class: "empty" }, "No curves were drawn for this version."));
  const w = d.online_weekly;
  fill("online-weekly", ...(w.rows.length && w.labels.length
    ? timeChart(weekly(w))
    : [el("p", { class: "empty" }, "No week has judged decisions yet.")]));
  fill("online", table([
    { key: "label", title: "label" }, { key: "added", title: "added" },
    { key: "kept", title: "kept" }, { key: "removed", title: "removed by a human" },
    { key: "precision", title: "online precision", render: (r) => (r.judged ? ratio(r.precision) : "no feedback yet") },
  ], d.online, "No decisions by this version yet."));
  fill("reconciler", reconcilerTable(d.reconciler, "The reconciler has decided nothing about this version."));
}

// Online precision per ISO week (a share: its axis runs from 0 to 1).
function weekly(w) {
  return { title: "online precision per week", columns: w.columns, rows: w.rows, xlabel: "week (Monday)", ylabel: "online precision", yRange: [0, 1] };
}

function stateLine(d, reg) {
  const s = d.state;
  const words = s.production ? "In production."
    : s.canary ? `Canary: ${fmt(Math.round(s.canary_share * 100))} % of the bot's items since ${fmt(s.canary_since)}; production is ${s.production_ref}.`
      : `Not deployed; production is ${s.production_ref}.`;
  if (s.production || !document.getElementById("token")) return words;
  const promote = async () => {
    const status = document.getElementById("model-status");
    try {
      const r = await act(`/api/models/${d.metadata.name}/${d.metadata.version}/promote?${reg}`);
      status.textContent = `Promoted: ${r.production} is now in production.`;
      model();
    } catch (e) {
      status.textContent = `Not promoted: ${e.message}`;
    }
  };
  return [words, " ", el("button", { id: "promote", onclick: promote }, "promote to production")];
}

async function bot() {
  const query = params();
  let data;
  try { data = await api(`/api/bot/decisions?${query}`); } catch (e) { return showError("decisions", e); }
  fill("decisions", table([
    { key: "created_at", title: "when" },
    { key: "item", title: "item", render: (r) => el("a", { href: r.url, rel: "noopener" }, `${r.repo}#${r.number}`) },
    { key: "kind", title: "kind" },
    { key: "label", title: "label" },
    { key: "score", ratio: true, title: "score" },
    { key: "action", title: "action", render: (r) => `${r.action}${r.dry_run ? " (shadow)" : ""}` },
    { key: "corrected", title: "corrected by a human" },
    { key: "model", title: "model" },
  ], data.rows, "The bot has not decided anything yet."));
  pager(data, bot);
}

function answerButtons(incident) {
  const send = (needsHuman) => async () => {
    const status = document.getElementById("status");
    try {
      await act(`/api/alerts/incidents/${incident.id}/feedback`, { needs_human: needsHuman });
      status.textContent = `Recorded: incident ${incident.id} ${needsHuman ? "needed" : "did not need"} a human.`;
      alerts();
    } catch (e) {
      status.textContent = `Not recorded: ${e.message}`;
    }
  };
  if (!document.getElementById("token")) return "";
  return el("span", { class: "actions" },
    el("button", { onclick: send(true), title: "This needed a human" }, "needed"),
    el("button", { onclick: send(false), title: "Nobody had to act" }, "not needed"));
}

function why(incident) {
  const w = incident.why || {};
  const top = (w.top || []).map((t) => (Array.isArray(t) ? t[0] : t)).slice(0, 3).join(", ");
  // Why it was paged or held, what tipped it, why it opened when it did, why its signals
  // are one incident ([alerts.quiet] and the grouping, docs/alerts.md).
  const parts = [w.reason, top, w.opened, w.grouped && `grouped: ${w.grouped}`];
  return parts.filter(Boolean).join(" · ");
}

async function alerts() {
  const query = params();
  let data;
  try { data = await api(`/api/alerts/incidents?${query}`); } catch (e) { return showError("incidents", e); }
  const d = data.decisions, q = data.quality;
  const verdict = (value, why) => (value === null ? why : `from ${fmt(q.answered)} answered incidents`);
  fill("summary",
    card("paged", d.page, "?decision=page"),
    card("in a digest", d.digest, "?decision=digest"),
    card("recorded", d.record, "?decision=record"),
    card("dropped (heartbeats)", d.drop, "?decision=drop"),
    card("precision of pages", q.precision === null ? "no answers yet" : q.precision, null, verdict(q.precision, q.why.precision)),
    card("recall of needed a human", q.recall === null ? "no answers yet" : q.recall, null, verdict(q.recall, q.why.recall)),
    card("missed pages", q.missed_pages, "?missed=1", "answered 'needed a human', not paged"));
  fill("summary-line",
    `${fmt(q.incidents)} incidents = ${fmt(d.page)} paged + ${fmt(d.digest)} in a digest + ${fmt(d.record)} recorded + ${fmt(d.drop)} dropped; `
    + `precision and recall judge the latest answer to each incident (explicit or a silence).`);
  fill("incidents", table([
    { key: "opened_at", title: "opened" },
    { key: "name", title: "alert" },
    { key: "severity", title: "severity" },
    { key: "namespace", title: "namespace" },
    { key: "decision", title: "decision", render: (r) => [`${r.decision}${r.shadow ? " (shadow)" : ""}`,
      r.missed_page ? el("span", { class: "badge missed", title: "answered 'needed a human' but not paged" }, " missed page") : ""] },
    { key: "score", ratio: true, title: "score" },
    { key: "why", title: "why", render: why },
    { key: "feedback", title: "answers", render: (r) => fmt(r.feedback.length) },
    { key: "act", title: "", render: answerButtons },
  ], data.rows, query.get("missed") ? "No missed page." : "No incidents yet."));
  pager(data, alerts);
  if (data.page === 1) {
    fill("templates", table([
      { key: "tokens", title: "log template" },
      { key: "count", title: "lines" },
      { key: "last_at", title: "last seen" },
    ], data.templates, "No log lines yet."));
  }
}

// Bars for categories, lines (an area for shares of a whole) over time, a table for the
// per-sig facets: each analysis says which it is.
function chartOf(a) {
  if (!a.rows.length) return [el("p", { class: "empty" }, a.note || "No data for this chart.")];
  if (a.chart === "barh" || a.chart === "bars") return barChart(a);
  if (a.chart === "facets") return [table(a.columns.map((c) => ({ key: c, title: c })), a.rows.slice(0, 40))];
  return timeChart({ ...a, fill: a.chart === "area" });
}

async function project() {
  let data;
  try { data = await api(`/api/project?${params()}`); } catch (e) { return showError("scope", e); }
  fill("scope", data.items ? `${fmt(data.items)} items (issues and pull requests matching the filters). The legend under each chart shows the values under the cursor; drag across a chart to zoom, double-click to reset.`
    : "No items match: export a repository (`kubesift export --repo OWNER/NAME`) or widen the filters.");
  fill("charts", ...data.analyses.map((a) => el("section", { class: "chart-box", id: a.name },
    el("h2", {}, a.title), a.note ? el("p", { class: "note" }, a.note) : null, ...chartOf(a))));
}

function rememberToken() {
  const token = document.getElementById("token");
  if (!token) return;
  token.value = sessionStorage.getItem("kubesift-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("kubesift-token", token.value));
}

document.addEventListener("DOMContentLoaded", () => {
  rememberToken();
  const page = document.getElementById("app").dataset.page;
  // ci, grid and run live in ci.js, loaded after this file.
  const pages = { overview, project, models, model, bot, ci, grid, run, alerts };
  const load = pages[page];
  if (load) {
    bindFilters(load);
    load();
  }
});
