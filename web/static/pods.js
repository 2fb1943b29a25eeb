// The workspaces page: GET /api/pods every 2 s, rows updated in place; Prune deletes the
// workspaces marked done, once a confirmation has listed them (GET, then POST /api/prune).
import {
  api, badge, clearError, el, every, fullTime, podUrl, relTime, reveal, setRevealed, setText,
  showError,
} from "/static/app.js";
import { renderSummary } from "/static/summary.js";

const body = document.getElementById("pods-body");
const loading = document.getElementById("pods-loading");
const empty = document.getElementById("pods-empty");

const COLUMNS = ["name", "agent", "repo", "task", "age", "activity", "message"];

function newRow(pod) {
  const cells = Object.fromEntries(COLUMNS.map((c) => [c, el("td", { class: c })]));
  cells.name.append(el("a", { href: podUrl(pod.name), "data-testid": "pod-link" }));
  cells.agent.append(badge(pod.agent));
  cells.repo.classList.add("clip");
  cells.task.classList.add("clip");
  cells.message.classList.add("clip");
  cells.age.classList.add("time");
  cells.activity.classList.add("time");
  return el("tr", { dataset: { pod: pod.short || pod.name }, "data-testid": "pod-row" },
    ...COLUMNS.map((c) => cells[c]));
}

function fill(row, pod) {
  const cell = (c) => row.querySelector(`td.${c}`);
  const link = cell("name").firstChild;
  setText(link, pod.short || pod.name);
  link.title = pod.name;
  badge(pod.agent, cell("agent").firstChild).title = `pod ${pod.status || "unknown"}`;
  renderSummary(cell("agent"), pod);
  setText(cell("repo"), pod.repo || pod.source || "");
  cell("repo").title = pod.source || "";
  setRevealed(cell("task"), pod.title || pod.task || ""); // a title given is the better name
  cell("task").title = [pod.title, pod.task].filter(Boolean).join("\n");
  setText(cell("age"), relTime(pod.created));
  cell("age").title = fullTime(pod.created);
  setText(cell("activity"), relTime(pod.last_activity) || "—");
  cell("activity").title = fullTime(pod.last_activity);
  setRevealed(cell("message"), pod.last_message || "");
  cell("message").title = pod.last_message || "";
  row.classList.toggle("is-done", pod.agent === "done" || pod.done === true);
}

function render(pods) {
  const old = new Map([...body.rows].map((r) => [r.dataset.pod, r]));
  const rows = pods.map((pod) => {
    const key = pod.short || pod.name;
    const row = old.get(key) || newRow(pod);
    old.delete(key);
    fill(row, pod);
    return row;
  });
  for (const gone of old.values()) gone.remove();
  rows.forEach((row, i) => {
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
  });
  loading.hidden = true;
  empty.hidden = pods.length > 0;
}

async function refresh() {
  try {
    render(await api("/api/pods"));
    clearError("poll");
  } catch (err) {
    showError(err, "poll");
  }
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

every(2000, refresh);
