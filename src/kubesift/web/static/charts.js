// Charts drawn with uPlot (vendored from npm under /static/vendor/uplot, MIT): lines over
// time with dated axes, bars for categories, one unit per axis, a legend that shows the
// values under the cursor, and a caption with the latest values in words. Helpers (el,
// fmt) come from app.js.
"use strict";

const PALETTE = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#57606a"];

// As wide as the box the chart is drawn in (known once it is in the page).
function chartWidth(holder) {
  const box = holder.parentElement;
  return Math.max(320, Math.min(1200, (box && box.clientWidth) || 640) - 24);
}

function tickText(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? v.toLocaleString("en-US") : +v.toFixed(3);
}

function dayText(seconds) {
  return seconds === null || seconds === undefined ? "–" : new Date(seconds * 1000).toISOString().slice(0, 10);
}

// The x value of a row as Unix seconds: "2026-12-07", "2026-12", an ISO week "2026-W49"
// (its Monday) or a full ISO time.
function when(text) {
  const week = /^(\d{4})-W(\d{2})$/.exec(text);
  if (week) {
    const jan4 = Date.UTC(+week[1], 0, 4);
    const monday = jan4 - (((new Date(jan4).getUTCDay() + 6) % 7) * 86400000);
    return (monday + (+week[2] - 1) * 7 * 86400000) / 1000;
  }
  // Times without a zone are UTC, as everything kubesift stores is.
  const zoned = /T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
  const t = Date.parse(/^\d{4}-\d{2}$/.test(text) ? `${text}-01` : zoned);
  return Number.isNaN(t) ? null : t / 1000;
}

function numericColumns(spec) {
  return spec.columns.slice(1).filter((c) => spec.rows.some((r) => typeof r[c] === "number")).slice(0, 6);
}

// Lines over time. spec: {title, columns (x first), rows, xlabel, units: {column: unit},
// fill (an area under each line), yRange ([min, max] for shares)}.
function timeChart(spec) {
  const x = spec.columns[0];
  const cols = numericColumns(spec);
  const rows = spec.rows.filter((r) => when(String(r[x])) !== null);
  const units = cols.map((c) => (spec.units || {})[c] || spec.ylabel || "");
  const distinct = [...new Set(units)].slice(0, 2);
  const scales = { x: { time: true } };
  distinct.forEach((u, i) => {
    scales[`y${i}`] = spec.yRange ? { range: () => spec.yRange } : { range: (self, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] };
  });
  const axes = [
    { label: spec.xlabel || x, space: 70 },
    ...distinct.map((u, i) => ({ scale: `y${i}`, label: u, side: i ? 1 : 3, grid: { show: i === 0 }, values: (self, ticks) => ticks.map(tickText), size: 60 })),
  ];
  const series = [
    { label: spec.xlabel || x, value: (self, v) => (spec.xlabel === "hour" && v !== null && v !== undefined ? new Date(v * 1000).toISOString().slice(0, 16).replace("T", " ") : dayText(v)) },
    ...cols.map((c, k) => ({
      label: distinct.length > 1 ? `${c} (${units[k]})` : c,
      scale: `y${Math.max(0, distinct.indexOf(units[k]))}`,
      stroke: PALETTE[k],
      fill: spec.fill ? `${PALETTE[k]}22` : undefined,
      width: 1.5,
      points: { show: !spec.bars && rows.length <= 60 },
      paths: spec.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      value: (self, v) => (v === null || v === undefined ? "–" : tickText(v)),
    })),
  ];
  const data = [rows.map((r) => when(String(r[x]))), ...cols.map((c) => rows.map((r) => (typeof r[c] === "number" ? r[c] : null)))];
  return draw(spec, { scales, axes, series }, data, latest(spec, rows, cols, units));
}

// Bars for categories (labels, users, kinds): one bar per category, the names on the
// axis. Two numeric columns stand side by side; more are flattened to "category · column".
function barChart(spec) {
  const label = spec.columns[0];
  let cols = numericColumns(spec);
  let rows = spec.rows.slice(0, 20);
  if (cols.length > 2) {
    rows = rows.flatMap((r) => cols.map((c) => ({ [label]: `${r[label]} · ${c}`, count: r[c] })));
    cols = ["count"];
  }
  const names = rows.map((r) => String(r[label]));
  const n = names.length;
  const unit = (spec.units || {})[cols[0]] || "";
  // barh (top-N) analyses name their categories in ylabel, as matplotlib draws them.
  const category = (spec.chart === "barh" ? spec.ylabel : spec.xlabel) || label;
  const axes = [
    { label: category, splits: () => names.map((_, i) => i), values: () => names.map((s) => (s.length > 18 ? `${s.slice(0, 17)}…` : s)), rotate: n > 5 ? -35 : 0, size: n > 5 ? 110 : 40, gap: 4 },
    { label: unit, values: (self, ticks) => ticks.map(tickText), size: 60 },
  ];
  const series = [
    { label: category, value: (self, v) => (v === null || v === undefined ? "–" : names[Math.round(v)] || "–") },
    ...cols.map((c, k) => ({
      label: c, fill: `${PALETTE[k]}cc`, stroke: PALETTE[k], width: 1, points: { show: false },
      paths: uPlot.paths.bars({ size: [cols.length > 1 ? 0.35 : 0.7, 60], align: cols.length > 1 ? (k ? 1 : -1) : 0 }),
      value: (self, v) => (v === null || v === undefined ? "–" : tickText(v)),
    })),
  ];
  const data = [names.map((_, i) => i), ...cols.map((c) => rows.map((r) => (typeof r[c] === "number" ? r[c] : 0)))];
  const scales = { x: { time: false, range: () => [-0.5, n - 0.5] }, y: { range: (self, lo, hi) => [0, hi > 0 ? hi * 1.08 : 1] } };
  const top = rows.slice(0, 3).map((r) => `${r[label]} ${cols.map((c) => fmt(r[c])).join(" / ")}`).join(", ");
  const height = n > 5 ? 320 : 240; // room for the slanted names
  return draw(spec, { scales, axes, series, height }, data, `${unit ? `${unit}: ` : ""}${top}${n > 3 ? ", …" : ""}.`);
}

function latest(spec, rows, cols, units) {
  if (!rows.length) return "";
  const last = rows[rows.length - 1];
  const share = Boolean(spec.yRange); // a share (precision) reads as 0.917, with no unit
  const parts = cols.map((c, k) => [c, k]).filter(([c]) => typeof last[c] === "number")
    .map(([c, k]) => (share ? `${c} ${last[c].toFixed(3)}` : `${c} ${fmt(last[c])}${units[k] && units[k] !== c ? ` ${units[k]}` : ""}`));
  return `Latest (${last[spec.columns[0]]}): ${parts.join(" · ")}.`;
}

function draw(spec, parts, data, caption) {
  const holder = el("div", { class: "uplot-holder", "aria-label": spec.title, role: "img" });
  const note = el("p", { class: "note caption" }, caption);
  const opts = {
    width: 640, height: 240, legend: { live: true }, cursor: { points: { size: 6 } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"), ...parts,
  };
  // Drawn once the holder is in the page (uPlot measures its axes there).
  queueMicrotask(() => { holder.chart = new uPlot({ ...opts, width: chartWidth(holder) }, data, holder); });
  return [holder, note];
}
