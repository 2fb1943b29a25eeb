// The workspaces page: GET /api/pods every 2 s, rows updated in place (never a new
// table); narrowed and ordered here, in the browser: the search (podlist.js's terms), a
// chip per agent state, the sort (kept for the pod page's switcher). A failing poll shows
// "disconnected — retrying" until one works again. Prune deletes the workspaces marked
// done, once a confirmation has listed them (GET, then POST /api/prune).
// Every text the agent may have written is set as text (setRevealed), never as HTML.
import {
  $, api, badge, el, every, fullTime, needsAttention, podUrl, relTime, reveal, setRevealed,
  setText, showError, clearError,
} from "/static/app.js";
import {
  CHIP_LABELS, CHIPS, chipCounts, inChip, matches, parseQuery, saveSort, savedSort, SORTS,
  sortPods,
} from "/static/podlist.js";
import { renderSummary } from "/static/summary.js";

const body = $("pods-body");
const COLUMNS = ["name", "agent", "repo", "task", "ports", "age", "activity", "message"];
const params = new URLSearchParams(location.search);
const view = { query: params.get("q") || "", chip: params.get("state") || "all", sort: savedSort() };
let pods = null; // the last GET /api/pods

function newRow(pod) {
  const cells = Object.fromEntries(COLUMNS.map((c) => [c, el("td", { class: c })]));
  const copy = el("button", { type: "button", class: "copy link", "data-testid": "copy-name",
    title: "Copy the name (for devaipod attach, ssh ...)" }, "copy");
  copy.addEventListener("click", () => copyName(copy, copy.closest("tr").dataset.pod));
  cells.name.append(el("a", { href: podUrl(pod.name), "data-testid": "pod-link" }), " ", copy);
  cells.agent.append(badge(pod.agent), " ", el("span", { class: "attention", "data-testid": "attention", hidden: true }, "needs you"));
  for (const c of ["repo", "task", "message"]) cells[c].classList.add("clip");
  for (const c of ["age", "activity"]) cells[c].classList.add("time");
  return el("tr", { dataset: { pod: pod.short || pod.name }, "data-testid": "pod-row" },
    ...COLUMNS.map((c) => cells[c]));
}

/** A published port as a link: the host the browser reached this page at, its host port. */
function portLink(p) {
  const host = Number(p.host_port);
  if (!Number.isInteger(host) || host <= 0 || host > 65535) return null;
  return el("a", { href: `http://${location.hostname}:${host}/`, target: "_blank", rel: "noopener noreferrer",
    "data-testid": "port-link", title: `the workspace's port ${p.port}, published on host port ${host}` },
  String(p.port));
}

function fillPorts(cell, ports) {
  const key = (ports || []).map((p) => `${p.port}>${p.host_port}`).join(" ");
  if (cell.dataset.ports === key) return;
  cell.dataset.ports = key;
  cell.replaceChildren(...(ports || []).map(portLink).filter(Boolean).flatMap((a, i) => (i ? [" ", a] : [a])));
}

function fill(row, pod) {
  const cell = (c) => row.querySelector(`td.${c}`);
  const link = cell("name").firstChild;
  setText(link, pod.short || pod.name);
  link.title = pod.name;
  badge(pod.agent, cell("agent").firstChild).title = `pod ${pod.status || "unknown"}`;
  const waits = needsAttention(pod);
  const flag = cell("agent").querySelector(".attention");
  flag.hidden = !waits;
  flag.title = pod.agent === "error" ? "The agent failed: look at it" : "The agent is waiting for you";
  row.classList.toggle("needs-attention", waits);
  renderSummary(cell("agent"), pod);
  setText(cell("repo"), pod.repo || pod.source || "");
  cell("repo").title = pod.source || "";
  setRevealed(cell("task"), pod.title || pod.task || ""); // a title given is the better name
  cell("task").title = [pod.title, pod.task].filter(Boolean).join("\n");
  fillPorts(cell("ports"), pod.ports);
  setText(cell("age"), relTime(pod.created));
  cell("age").title = fullTime(pod.created);
  setText(cell("activity"), relTime(pod.last_activity) || "—");
  cell("activity").title = fullTime(pod.last_activity);
  setRevealed(cell("message"), pod.last_message || "");
  cell("message").title = pod.last_message || "";
  row.classList.toggle("is-done", pod.agent === "done" || pod.done === true);
}

// --- search, chips, sort ---------------------------------------------------------------

function makeChips() {
  $("pods-chips").replaceChildren(...CHIPS.map((chip) => el("button", {
    type: "button", class: "chip", dataset: { chip }, "data-testid": `chip-${chip}`,
    "aria-pressed": "false", onclick: () => choose(view.chip === chip ? "all" : chip),
  }, el("span", { class: `dot dot-${chip}` }), CHIP_LABELS[chip] || chip, " ",
  el("span", { class: "count", "data-testid": "chip-count" }, "0"))));
}

function showChips(counts) {
  for (const button of $("pods-chips").children) {
    const chip = button.dataset.chip;
    button.setAttribute("aria-pressed", String(view.chip === chip));
    setText(button.querySelector(".count"), String(counts[chip]));
    button.classList.toggle("none", !counts[chip]);
  }
}

function choose(chip) {
  view.chip = CHIPS.includes(chip) ? chip : "all";
  apply();
}

function keepInAddress() {
  const q = new URLSearchParams();
  if (view.query.trim()) q.set("q", view.query.trim());
  if (view.chip !== "all") q.set("state", view.chip);
  const search = q.toString();
  history.replaceState(null, "", location.pathname + (search ? `?${search}` : ""));
}

function showSort() {
  $("pods-sort").value = view.sort;
  for (const th of document.querySelectorAll("th[data-sort]")) {
    if (th.dataset.sort === view.sort) th.setAttribute("aria-sort", th.dataset.sort === "name" ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

function sortBy(sort) {
  view.sort = sort in SORTS ? sort : "activity";
  saveSort(view.sort);
  apply();
}

// --- the table ------------------------------------------------------------------------------

/** Rows for `list` (made or updated in place), ordered and shown as the view says. */
function render(list) {
  pods = list;
  const old = new Map([...body.rows].map((r) => [r.dataset.pod, r]));
  const rows = new Map();
  for (const pod of list) {
    const key = pod.short || pod.name;
    const row = old.get(key) || newRow(pod);
    old.delete(key);
    fill(row, pod);
    rows.set(pod.name, row);
  }
  for (const gone of old.values()) gone.remove();
  const terms = parseQuery(view.query);
  let shown = 0;
  sortPods(list, view.sort).forEach((pod, i) => {
    const row = rows.get(pod.name);
    row.hidden = !(inChip(pod, view.chip) && matches(pod, terms));
    shown += row.hidden ? 0 : 1;
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
  });
  showChips(chipCounts(list));
  showSort();
  setText($("pods-count"), shown === list.length ? `${list.length}` : `${shown} of ${list.length}`);
  $("pods-count").title = "workspaces shown";
  $("pods-loading").hidden = true;
  $("pods-empty").hidden = list.length > 0;
  $("pods-none").hidden = !list.length || shown > 0;
}

function apply() {
  keepInAddress();
  if (pods) render(pods);
  else showChips(chipCounts([]));
}

function connected(ok, why = "") {
  const node = $("connection");
  node.hidden = ok;
  node.title = ok ? "" : `GET /api/pods failed: ${why}; the list below is the last one seen`;
  document.querySelector(".table-wrap").classList.toggle("stale", !ok);
}

async function refresh() {
  try {
    render(await api("/api/pods"));
    connected(true);
  } catch (err) {
    connected(false, err.message);
  }
}

// --- copy a name --------------------------------------------------------------------------

async function copyName(button, name) {
  try {
    if (!navigator.clipboard) throw new Error("no clipboard here (a page not on https or localhost)");
    await navigator.clipboard.writeText(name);
    setText(button, "copied");
  } catch (err) {
    setText(button, "copy failed");
    button.title = err.message;
  }
  setTimeout(() => setText(button, "copy"), 1500);
}

// --- prune -----------------------------------------------------------------------------

const dialog = document.getElementById("prune-dialog");
const pruneButton = document.getElementById("prune-button");
let toPrune = []; // the names the confirmation lists: the server deletes those still done

async function askPrune() {
  pruneButton.disabled = true;
  try {
    const found = await api("/api/prune");
    toPrune = found.map((w) => w.name);
    const list = document.getElementById("prune-list");
    list.replaceChildren(...found.map((w) => {
      const item = el("li", { "data-testid": "prune-item", dataset: { pod: w.short || w.name } },
        el("b", {}, w.short || w.name));
      const about = w.title || w.task;
      if (about) item.append(" — ", ...reveal(about));
      return item;
    }));
    document.getElementById("prune-none").hidden = found.length > 0;
    document.getElementById("prune-some").hidden = found.length === 0;
    document.getElementById("prune-confirm").hidden = found.length === 0;
    clearError();
    dialog.showModal();
  } catch (err) {
    showError(err);
  } finally {
    pruneButton.disabled = false;
  }
}

dialog.addEventListener("close", async () => {
  if (dialog.returnValue !== "prune" || !toPrune.length) return;
  pruneButton.disabled = true;
  try {
    const { pruned } = await api("/api/prune", { method: "POST", body: { names: toPrune } });
    const kept = toPrune.filter((name) => !pruned.includes(name));
    if (kept.length) showError(`Kept, no longer marked done: ${kept.join(", ")}`);
    else clearError();
  } catch (err) {
    showError(err);
  } finally {
    pruneButton.disabled = false;
    toPrune = [];
  }
  await refresh();
});

pruneButton.addEventListener("click", askPrune);

// --- start ------------------------------------------------------------------------------

makeChips();
$("pods-sort").replaceChildren(...Object.entries(SORTS).map(([value, label]) => el("option", { value }, label)));
$("pods-sort").addEventListener("change", (ev) => sortBy(ev.target.value));
for (const th of document.querySelectorAll("th[data-sort]")) {
  th.querySelector("button").addEventListener("click", () => sortBy(th.dataset.sort));
}
const search = $("pods-search");
search.value = view.query;
search.addEventListener("input", () => { view.query = search.value; apply(); });
$("pods-clear").addEventListener("click", () => { view.query = search.value = ""; choose("all"); });
document.addEventListener("keydown", (ev) => { // "/" goes to the search, as on many sites
  if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.target.closest?.("input, textarea, select, [contenteditable]")) return;
  ev.preventDefault();
  search.focus();
});
choose(view.chip);
every(2000, refresh);
