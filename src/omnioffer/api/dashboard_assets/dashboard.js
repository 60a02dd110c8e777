// The experiments dashboard: reads /v1/experiments and each experiment's
// /v1/experiments/{id}/results, and draws the tables, CI bars and the lift-over-time
// plot itself (SVG). No inline script or style: the page's CSP allows 'self' only.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const METRIC_LABELS = {
  response_rate: "response rate",
  redemption_rate: "redemption rate",
  revenue_per_exposed: "revenue / exposed",
};
const COLORS = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280"];

// The formats a person reads; tests/e2e/test_dashboard.py formats the API's numbers alike.
function rate(x) { return (100 * x).toFixed(2) + "%"; }
function money(x) { return x.toFixed(2); }
function signed(x, unit) { return (x >= 0 ? "+" : "") + (100 * x).toFixed(2) + unit; }
function liftText(e, value) {
  if (value === null || value === undefined) return "n/a";
  return signed(value, e.scale === "absolute" ? " pp" : "%");
}
function pText(p) { return p === null || p === undefined ? "n/a" : p.toPrecision(3); }

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

async function getJson(path) {
  const key = document.getElementById("key").value.trim();
  const headers = key ? { "X-API-Key": key } : {};
  const answer = await fetch(path, { headers });
  const body = await answer.json();
  if (!answer.ok) throw new Error(`${path}: ${answer.status} ${body.detail || body.title || ""}`);
  return body;
}

function armRow(name, m, attrs) {
  const tr = el("tr", attrs);
  tr.append(el("td", {}, name));
  const cells = [
    ["exposed_customers", String(m.exposed_customers)],
    ["decisions", String(m.decisions)],
    ["impressions", String(m.impressions)],
    ["clicks", String(m.clicks)],
    ["redemptions", String(m.redemptions)],
    ["response_rate", rate(m.response_rate)],
    ["redemption_rate", rate(m.redemption_rate)],
    ["revenue_per_exposed", money(m.revenue_per_exposed)],
  ];
  for (const [field, text] of cells) tr.append(el("td", { "data-field": field }, text));
  return tr;
}

function armsTable(rows) {
  const table = el("table", { class: "arms" });
  const head = el("tr");
  for (const h of ["variant", "exposed", "decisions", "impressions", "clicks", "redemptions",
                   "response rate", "redemption rate", "revenue / exposed"]) {
    head.append(el("th", {}, h));
  }
  table.append(head, ...rows);
  return table;
}

// One CI bar: the interval as a bar, the estimate as a dot, 0 as a line.
function ciBar(e, span) {
  const w = 180, h = 16, mid = w / 2;
  const x = (v) => mid + (v / span) * (mid - 6);
  const svg = svgEl("svg", { width: w, height: h, class: "ci-bar", role: "img" });
  svg.append(svgEl("line", { x1: mid, x2: mid, y1: 0, y2: h, stroke: "#9aa3b2" }));
  if (e.ci_low !== null && e.ci_high !== null) {
    const color = e.ci_low > 0 ? "#2f855a" : e.ci_high < 0 ? "#b3261e" : "#5b6475";
    svg.append(svgEl("rect", { x: x(e.ci_low), y: 5, width: Math.max(1, x(e.ci_high) - x(e.ci_low)),
                               height: 6, fill: color, opacity: 0.5 }));
  }
  if (e.lift !== null) svg.append(svgEl("circle", { cx: x(e.lift), cy: 8, r: 3, fill: "#1d2433" }));
  return svg;
}

function liftRows(owner, lifts, adjusted, attrsOf) {
  const rows = [];
  for (const [metric, e] of Object.entries(lifts)) {
    const span = Math.max(1e-9, ...[e.lift, e.ci_low, e.ci_high]
      .filter((v) => v !== null).map((v) => Math.abs(v))) * 1.1;
    const tr = el("tr", attrsOf(metric));
    tr.append(el("td", {}, `${owner}: ${METRIC_LABELS[metric] || metric}`));
    tr.append(el("td", { "data-field": "lift" }, liftText(e, e.lift)));
    const ci = e.ci_low === null ? "n/a" : `[${liftText(e, e.ci_low)}, ${liftText(e, e.ci_high)}]`;
    tr.append(el("td", { "data-field": "ci" }, ci));
    const bar = el("td", { "data-field": "ci_bar" });
    bar.append(ciBar(e, span));
    tr.append(bar);
    tr.append(el("td", { "data-field": "p_value" }, pText(e.p_value)));
    const key = `${owner}/${metric}`;
    tr.append(el("td", { "data-field": "p_adjusted" }, pText(adjusted ? adjusted[key] : null)));
    tr.append(el("td", { "data-field": "method", class: "method" }, e.method));
    if (e.note) tr.append(el("td", { class: "note" }, e.note));
    rows.push(tr);
  }
  return rows;
}

function liftTable(rows) {
  const table = el("table", { class: "lifts" });
  const head = el("tr");
  for (const h of ["vs control", "lift", "95 % CI", "", "p", "p (BH)", "method"]) {
    head.append(el("th", {}, h));
  }
  table.append(head, ...rows);
  return table;
}

// Lift in response rate over time, one line (and CI band) per treatment variant.
function timeline(points) {
  const w = 720, h = 200, pad = 36, right = 90;
  const svg = svgEl("svg", { width: w, height: h, class: "timeline", role: "img",
                             "data-points": points.length });
  if (!points.length) return svg;
  const ts = points.map((p) => p.ts);
  const values = points.flatMap((p) => [p.lift, p.ci_low, p.ci_high]).filter((v) => v !== null);
  const t0 = Math.min(...ts), t1 = Math.max(...ts);
  const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  const x = (t) => pad + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - pad - right);
  const y = (v) => h - pad - ((v - lo) / ((hi - lo) || 1)) * (h - 2 * pad);
  svg.append(svgEl("line", { x1: pad, x2: w - right, y1: y(0), y2: y(0), stroke: "#9aa3b2" }));
  const axis = (v, yy) => {
    const t = svgEl("text", { x: 2, y: yy + 3 });
    t.textContent = signed(v, " pp");
    svg.append(t);
  };
  axis(hi, y(hi)); axis(lo, y(lo));
  const variants = [...new Set(points.map((p) => p.variant))];
  variants.forEach((variant, i) => {
    const mine = points.filter((p) => p.variant === variant && p.lift !== null);
    const color = COLORS[i % COLORS.length];
    const band = mine.filter((p) => p.ci_low !== null);
    if (band.length) {
      const upper = band.map((p) => `${x(p.ts)},${y(p.ci_high)}`);
      const lower = band.slice().reverse().map((p) => `${x(p.ts)},${y(p.ci_low)}`);
      svg.append(svgEl("polygon", { points: upper.concat(lower).join(" "), fill: color,
                                    opacity: 0.15 }));
    }
    svg.append(svgEl("polyline", { points: mine.map((p) => `${x(p.ts)},${y(p.lift)}`).join(" "),
                                   fill: "none", stroke: color, "stroke-width": 2,
                                   "data-variant": variant }));
    const label = svgEl("text", { x: w - right + 4, y: mine.length ? y(mine[mine.length - 1].lift) : pad });
    label.textContent = variant;
    svg.append(label);
  });
  return svg;
}

function experimentSection(summary, r) {
  const section = el("section", { class: "experiment", "data-experiment": r.experiment_id });
  section.append(el("h2", {}, `${r.experiment_id} (${summary.status})`));
  if (summary.description) section.append(el("p", { class: "note" }, summary.description));
  const rows = r.variants.map((v) => armRow(v.name + (v.control ? " (control)" : ""), v.metrics,
                                            { "data-variant": v.name }));
  section.append(armsTable(rows));
  const adjusted = r.fdr ? r.fdr.adjusted : null;
  const lifts = r.variants.filter((v) => !v.control).flatMap((v) =>
    liftRows(v.name, v.lift, adjusted, (metric) => ({ "data-variant": v.name, "data-metric": metric })));
  section.append(liftTable(lifts));
  if (r.srm) {
    section.append(el("p", { class: r.srm.mismatch ? "srm-mismatch" : "srm-ok", "data-field": "srm" },
      `sample ratio ${r.srm.mismatch ? "MISMATCH" : "ok"} (p = ${pText(r.srm.p_value)}, ${r.srm.method})`));
  }
  section.append(el("h3", {}, "lift in response rate over time"));
  section.append(timeline(r.timeline));
  if (r.holdout) {
    section.append(el("h3", {}, "universal holdout vs everyone served"));
    section.append(armsTable([
      armRow("held out", r.holdout.held_out, { "data-holdout": "held_out" }),
      armRow("served", r.holdout.served, { "data-holdout": "served" }),
    ]));
    section.append(liftTable(liftRows("served", r.holdout.lift, null,
                                      (metric) => ({ "data-holdout-lift": metric }))));
  }
  section.append(el("p", { class: "note" },
    `${r.mode} mode; ${r.decisions_read} decisions and ${r.events_read} events read; ` +
    `attribution ${r.attribution_days} days`));
  return section;
}

async function load() {
  const status = document.getElementById("status");
  const main = document.getElementById("experiments");
  status.className = "";
  status.textContent = "loading…";
  document.body.removeAttribute("data-loaded");
  try {
    const mode = document.getElementById("mode").value;
    const channel = document.getElementById("channel").value.trim();
    const list = (await getJson("/v1/experiments")).experiments;
    const params = new URLSearchParams({ mode });
    if (channel) params.set("channel", channel);
    const sections = [];
    for (const summary of list) {
      const r = await getJson(`/v1/experiments/${encodeURIComponent(summary.id)}/results?${params}`);
      sections.push(experimentSection(summary, r));
    }
    main.replaceChildren(...sections);
    status.textContent = `${list.length} experiment(s), ${mode} mode`;
    document.body.setAttribute("data-mode", mode);
    document.body.setAttribute("data-loaded", "true");
  } catch (err) {
    status.className = "error";
    status.textContent = String(err.message || err);
    document.body.setAttribute("data-loaded", "error");
  }
}

document.getElementById("key").value = sessionStorage.getItem("omnioffer-key") || "";
document.getElementById("controls").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("omnioffer-key", document.getElementById("key").value.trim());
  load();
});
load();
