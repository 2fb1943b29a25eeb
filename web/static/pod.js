// One workspace: its header and actions, and the tabs Agent, Terminal, Review, Logs.
import {
  api, apiPod, badge, clearError, el, every, fullTime, podFromPath, relTime, reveal, scopes,
  setRevealed, setText, showError, stream,
} from "/static/app.js";

const pod = podFromPath();
const $ = (id) => document.getElementById(id);
let current = null; // the last GET /api/pods/<name>

// --- header and actions ------------------------------------------------------------

function renderHead(info) {
  current = info;
  document.title = `${info.short || info.name} · devaipod`;
  setText($("pod-name"), info.short || info.name);
  $("pod-name").title = info.name;
  badge(info.agent, $("pod-state")).title = `pod ${info.status || "unknown"}`;
  setText($("pod-repo"), info.repo || info.source || "—");
  setText($("pod-mode"), info.mode || "—");
  setText($("pod-status"), info.status || "—");
  setText($("pod-created"), relTime(info.created) || "—");
  $("pod-created").title = fullTime(info.created);
  setText($("pod-activity"), relTime(info.last_activity) || "—");
  $("pod-activity").title = fullTime(info.last_activity);
  const containers = Object.entries(info.containers || {}).sort();
  for (const option of $("logs-container").options) {
    option.hidden = !(option.value in (info.containers || {}));
  }
  setText($("pod-containers"), containers.map(([role, state]) => `${role} ${String(state).toLowerCase()}`).join(" · ") || "—");
  setRevealed($("pod-task"), info.task || info.title || "");
  setRevealed($("pod-message"), info.last_message || "");
  const running = ["running", "degraded"].includes(String(info.status).toLowerCase());
  $("action-stop").disabled = !running;
  $("action-start").disabled = running;
  $("action-done").hidden = Boolean(info.done);
  $("action-undone").hidden = !info.done;
}

async function loadHead() {
  try {
    renderHead(await api(apiPod(pod)));
    clearError("poll");
  } catch (err) {
    showError(err, "poll");
  }
}

// --- GitHub access (the pod's gator) -------------------------------------------------

function renderGator(info) {
  $("gator").hidden = !info.enabled;
  setText($("gator-grants"), (info.grants || []).join(" · ") || "none granted");
}

async function loadGator() {
  try {
    renderGator(await api(apiPod(pod, "/gator")));
  } catch (err) {
    showError(err);
  }
}

$("gator").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const add = scopes($("gator-add").value);
  if (!add.length) return;
  const button = $("gator").querySelector("button");
  button.disabled = true;
  try {
    renderGator(await api(apiPod(pod, "/gator"), { method: "POST", body: { add } }));
    $("gator-add").value = "";
    clearError();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
});

async function act(action, button) {
  const label = current ? current.short || current.name : pod;
  if (action === "delete" && !confirm(`Delete the workspace ${label}, its containers and its volumes?`)) return;
  button.disabled = true;
  try {
    await api(apiPod(pod, `/${action}`), { method: "POST" });
    clearError();
    if (action === "delete") return location.assign("/");
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
  await loadHead();
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => act(button.dataset.action, button));
}

// --- tabs ------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
const started = new Set();
const onShow = { agent: showAgent, terminal: showTerminal, review: loadReview, logs: showLogs };

function select(name, focus = false) {
  for (const tab of tabs) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${tab.dataset.tab}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  history.replaceState(null, "", `#${name}`);
  const first = !started.has(name);
  started.add(name);
  onShow[name](first);
}

tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => select(tab.dataset.tab));
  tab.addEventListener("keydown", (ev) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    if (step) select(tabs[(i + step + tabs.length) % tabs.length].dataset.tab, true);
  });
});

// --- Agent -------------------------------------------------------------------------

async function loadAgent() {
  setText($("agent-status"), "Asking for the agent's address…");
  try {
    const { url } = await api(apiPod(pod, "/agent"));
    $("agent-frame").src = url;
    $("agent-frame").hidden = false;
    // the sidecar keeps its key in a service worker: browsers allow those on https,
    // http://127.0.0.1 and http://localhost only
    setText($("agent-status"), window.isSecureContext ? ""
      : "The agent's UI needs this page opened on http://127.0.0.1, http://localhost or https.");
  } catch (err) {
    $("agent-frame").hidden = true;
    $("agent-frame").removeAttribute("src");
    setText($("agent-status"), `The agent's UI is not available: ${err.message}`);
  }
}

function showAgent(first) {
  if (first) loadAgent();
}

$("agent-reload").addEventListener("click", loadAgent);

// --- Terminal ----------------------------------------------------------------------

let terminal = null; // a TerminalView, once terminal.js (and xterm.js) loaded
let terminalUrl = null; // terminal.js's terminalUrl()

function terminalState(state, detail) {
  const status = $("terminal-status");
  setText(status, { connecting: "connecting…", connected: "connected", disconnected: "disconnected —" }[state]);
  status.title = detail || "";
  $("terminal-reconnect").hidden = state !== "disconnected";
  $("terminal").dataset.state = state;
}

function connectTerminal() {
  if (terminal) terminal.connect(terminalUrl(pod, $("terminal-kind").value));
}

async function showTerminal(first) {
  if (!first) {
    terminal?.fit();
    terminal?.focus();
    return;
  }
  try {
    const module = await import("/static/terminal.js");
    terminalUrl = module.terminalUrl;
    terminal = new module.TerminalView($("terminal"), terminalState);
    connectTerminal();
  } catch (err) {
    setText($("terminal-status"), `The terminal cannot load (is xterm.js installed? make web): ${err.message}`);
  }
}

$("terminal-kind").addEventListener("change", connectTerminal);
$("terminal-reconnect").addEventListener("click", connectTerminal);

// --- Review ------------------------------------------------------------------------

function diffView(text) {
  const pre = el("pre", { class: "diff" });
  let header = true; // the lines before a file's first hunk
  for (const line of text.replace(/\n$/, "").split("\n")) {
    let kind = null;
    if (line.startsWith("diff --git ")) header = true;
    if (line.startsWith("@@")) [kind, header] = ["hunk", false];
    else if (header) kind = "meta";
    else if (line.startsWith("+")) kind = "add";
    else if (line.startsWith("-")) kind = "del";
    else if (line.startsWith("\\")) kind = "meta"; // "\ No newline at end of file"
    pre.append(el("span", { class: kind }, ...reveal(line)));
  }
  return pre;
}

function fileView(file) {
  const status = (file.status || "?").slice(0, 1);
  const path = file.old_path ? `${file.old_path} → ${file.path}` : file.path;
  const summary = el("summary", {},
    el("span", { class: `status status-${status}`, title: { A: "added", D: "deleted", M: "modified", R: "renamed" }[status] || status }, status),
    el("span", { class: "path mono" }, ...reveal(path)),
    file.binary ? el("span", { class: "muted" }, "binary") : null,
    el("span", { class: "adds", "aria-label": `${file.additions || 0} added lines` }, `+${file.additions || 0}`),
    el("span", { class: "dels", "aria-label": `${file.deletions || 0} removed lines` }, `−${file.deletions || 0}`));
  const details = el("details", { class: "file", open: true, dataset: { path: file.path }, "data-testid": "review-file" }, summary);
  if (file.diff) details.append(diffView(file.diff));
  if (file.truncated) details.append(el("p", { class: "muted" }, "(the diff is cut short here)"));
  return details;
}

let reviewed = null; // the review shown: Merge sends its range, which the server checks

function renderReview(review) {
  reviewed = review;
  const commits = review.commits || [];
  const files = review.files || [];
  const summary = review.branch ? `agent branch ${review.branch}` : "";
  const range = review.base && review.head ? ` · ${review.base.slice(0, 10)}..${review.head.slice(0, 10)}` : "";
  setText($("review-summary"), summary + range);
  $("review-commits").replaceChildren(...commits.map((c) => el("li", { dataset: { sha: c.sha }, "data-testid": "review-commit" },
    el("code", { class: "sha" }, c.sha.slice(0, 10)),
    el("span", { class: "subject" }, ...reveal(c.subject)),
    el("span", { class: "by", title: fullTime(c.date) }, `${c.author} · ${relTime(c.date)}`))));
  $("review-files").replaceChildren(...files.map(fileView));
  $("review-empty").hidden = commits.length > 0 || Boolean(review.error);
  $("review-commits-title").hidden = commits.length === 0;
  $("review-files-title").hidden = files.length === 0;
  $("merge-button").disabled = commits.length === 0;
  $("reject-button").disabled = commits.length === 0;
  if (review.error) reviewResult(review.error, true);
}

function reviewResult(text, error = false) {
  const node = $("review-result");
  node.hidden = !text;
  node.className = error ? "error-text" : "ok-text";
  setText(node, text);
}

async function loadReview() {
  setText($("review-summary"), "Loading…");
  try {
    renderReview(await api(apiPod(pod, "/review")));
  } catch (err) {
    setText($("review-summary"), "");
    reviewResult(err.message, true);
  }
}

async function verdict(what) {
  if (what === "reject" && !confirm("Reject the agent's commits? Its branch is reset to the workspace's.")) return;
  $("merge-button").disabled = $("reject-button").disabled = true;
  try {
    const body = what === "merge" ? { head: reviewed?.head, base: reviewed?.base } : undefined;
    const answer = await api(apiPod(pod, `/review/${what}`), { method: "POST", body });
    reviewResult(what === "merge" ? `Merged into the workspace${answer.head ? ` (now at ${answer.head.slice(0, 10)})` : ""}.`
      : "Rejected: the agent's branch is back at the workspace's.");
  } catch (err) {
    reviewResult(err.message, true);
  }
  await loadReview();
}

$("review-refresh").addEventListener("click", () => { reviewResult(""); loadReview(); });
$("merge-button").addEventListener("click", () => verdict("merge"));
$("reject-button").addEventListener("click", () => verdict("reject"));

// --- Logs --------------------------------------------------------------------------

const MAX_LOG_LINES = 5000;
let logs = null; // the AbortController of the stream shown

async function openLogs() {
  if (logs) logs.abort();
  const controller = new AbortController();
  logs = controller;
  const pre = $("logs-pre");
  const container = $("logs-container").value;
  pre.replaceChildren();
  $("logs-reconnect").hidden = true;
  setText($("logs-status"), "following");
  let why = "";
  try {
    await stream(apiPod(pod, `/logs?container=${encodeURIComponent(container)}&tail=200&follow=1`), (_type, line) => {
      const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(String(line) + "\n");
      while (pre.childNodes.length > MAX_LOG_LINES) pre.firstChild.remove();
      if (stick) pre.scrollTop = pre.scrollHeight;
    }, { signal: controller.signal });
  } catch (err) {
    why = err.message;
  }
  // The stream has no end event: when it stops, stop here too (a reconnection
  // would print the last 200 lines again).
  if (logs !== controller) return; // replaced by another container's log
  logs = null;
  pre.append(el("span", { class: "note" }, `— the log stream ended${why ? `: ${why}` : ""} —\n`));
  setText($("logs-status"), "stopped —");
  $("logs-reconnect").hidden = false;
}

function showLogs(first) {
  if (first) openLogs();
}

$("logs-container").addEventListener("change", openLogs);
$("logs-reconnect").addEventListener("click", openLogs);

// --- start ---------------------------------------------------------------------------

if (!pod) {
  showError("No workspace named in the address.");
} else {
  setText($("pod-name"), pod);
  every(5000, loadHead);
  loadGator(); // once: reading the grants starts a short-lived container
  const wanted = location.hash.slice(1);
  select(onShow[wanted] ? wanted : "agent");
}
