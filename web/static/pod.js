// One workspace: its header, actions and GitHub access (gator.js), the switcher to the
// other workspaces (switcher.js), and its tabs. Each
// tab is a module of its own (agent.js, terminal.js, review.js, logs.js), loaded the
// first time the tab is shown: it exports `show(pod)`, called each time its tab is
// shown, and may export `update(info)`, called with each GET /api/pods/<name>.
import {
  $, api, apiPod, badge, clearError, every, fullTime, podFromPath, relTime, setRevealed, setText,
  showError,
} from "/static/app.js";
import { startGator } from "/static/gator.js";
import { startSwitcher } from "/static/switcher.js";
import { startUpdate } from "/static/update.js";
import { renderSummary } from "/static/summary.js";

const pod = podFromPath();
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
  setText($("pod-containers"), containers.map(([role, state]) => `${role} ${String(state).toLowerCase()}`).join(" · ") || "—");
  setText($("pod-limits"), info.limits || "none"); // of the agent and the worker; "oom" above
  const egress = info.egress || { mode: "open" };
  const allowed = egress.allow ? egress.allow.join(", ") : egress.error || "proxy not running";
  setText($("pod-egress"), egress.mode === "open" ? "open" : `${egress.mode}: ${allowed}`);
  setRevealed($("pod-title"), info.title || "");
  $("title-edit").textContent = info.title ? "Edit title" : "Add a title";
  setRevealed($("pod-task"), info.task || "");
  setRevealed($("pod-message"), info.last_message || "");
  renderSummary($("pod-message").parentElement, info, { lines: true });
  const running = ["running", "degraded"].includes(String(info.status).toLowerCase());
  $("action-stop").disabled = !running;
  $("action-start").disabled = running;
  $("action-done").hidden = Boolean(info.done);
  $("action-undone").hidden = !info.done;
  for (const view of Object.values(loaded)) view.update?.(info);
}

async function loadHead() {
  try {
    renderHead(await api(apiPod(pod)));
    clearError("poll");
  } catch (err) {
    showError(err, "poll");
  }
}

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

// --- the title: set as `devaipod title` does (PUT /api/pods/<name>/title) -------------

function editTitle(on) {
  $("title-form").hidden = !on;
  $("title-edit").parentElement.hidden = on;
  if (!on) return;
  $("title-input").value = current?.title || "";
  $("title-input").focus();
}

$("title-edit").addEventListener("click", () => editTitle(true));
$("title-cancel").addEventListener("click", () => editTitle(false));
$("title-form").addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") editTitle(false);
});
$("title-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const save = ev.submitter || $("title-form").querySelector("[type=submit]");
  save.disabled = true;
  try {
    await api(apiPod(pod, "/title"), { method: "PUT", body: { title: $("title-input").value } });
    clearError();
    editTitle(false);
  } catch (err) {
    showError(err);
  } finally {
    save.disabled = false;
  }
  await loadHead();
});

// --- tabs ------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
const names = tabs.map((tab) => tab.dataset.tab);
const loading = {}; // tab → the import() of its module
const loaded = {}; // tab → its module, once loaded
let selected = null;

function view(name) {
  loading[name] ??= import(`/static/${name}.js`).then((module) => {
    loaded[name] = module;
    if (current) module.update?.(current);
    return module;
  }, (err) => {
    delete loading[name]; // the next showing tries again
    throw err;
  });
  return loading[name];
}

async function select(name, focus = false) {
  selected = name;
  for (const tab of tabs) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${tab.dataset.tab}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  history.replaceState(null, "", `#${name}`);
  try {
    const module = await view(name);
    if (selected === name) module.show(pod); // not if another tab was chosen meanwhile
  } catch (err) {
    showError(`The ${name} tab cannot load: ${err.message}`);
  }
}

tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => select(tab.dataset.tab));
  tab.addEventListener("keydown", (ev) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    if (step) select(names[(i + step + names.length) % names.length], true);
  });
});

// --- start ---------------------------------------------------------------------------

if (!pod) {
  showError("No workspace named in the address.");
} else {
  setText($("pod-name"), pod);
  every(5000, loadHead);
  startGator(pod); // reads the grants once: that starts a short-lived container
  startSwitcher(pod, loadHead); // every workspace, previous and next, "Done, next"
  startUpdate(pod, loadHead);
  const wanted = location.hash.slice(1);
  select(names.includes(wanted) ? wanted : "agent");
}
