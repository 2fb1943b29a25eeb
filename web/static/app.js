// Shared helpers for the control plane's pages (see web/API.md).

// The session's key: handed out once, in the URL fragment of the login's redirect
// (/#key=...), and kept in localStorage, which is per origin (port included): a page
// on another port of this host gets the session cookie from the browser, never this.
const KEY_ITEM = "devaipod-key";
export const KEY_HEADER = "X-Devaipod-Key";

(function takeKey() {
  const found = /^#key=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!found) return;
  localStorage.setItem(KEY_ITEM, found[1]);
  history.replaceState(null, "", location.pathname + location.search);
})();

export function apiKey() {
  return localStorage.getItem(KEY_ITEM) || "";
}

function loginAgain() {
  localStorage.removeItem(KEY_ITEM);
  location.assign("/login");
}

async function failure(res) {
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  const why = (data && data.error) || text.trim().slice(0, 300) || res.statusText;
  return new Error(`${why} (${res.status})`);
}

async function request(path, init) {
  init.credentials = "same-origin";
  init.headers[KEY_HEADER] = apiKey();
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new Error(`cannot reach the server (${err.message})`);
  }
  if (res.status === 401) {
    loginAgain();
    throw new Error("log in first");
  }
  return res;
}

/** Fetch JSON from the API with the session's cookie and key; throws Error(message) on failure. */
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await request(path, init);
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Follow a server-sent event stream (EventSource cannot send the key): calls
 * `onEvent(type, data)` with each event's data parsed as JSON (the server encodes every
 * `data:` line so); resolves when the stream ends; throws Error(message) when refused. */
export async function stream(path, onEvent, { signal } = {}) {
  const res = await request(path, { headers: { Accept: "text/event-stream" }, signal });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  let event = "message";
  let data = [];
  const line = (text) => {
    if (text === "") {
      if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      [event, data] = ["message", []];
      return;
    }
    const colon = text.indexOf(":");
    if (colon === 0) return; // a comment (keep-alive)
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? "" : text.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    const lines = pending.split(/\r\n|\r(?!$)|\n/); // a CR at the very end may be half a CRLF
    pending = lines.pop();
    lines.forEach(line);
  }
}

/** The top bar's "Log out": revoke the session, forget the key and the cookie. */
async function logout() {
  try {
    await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { [KEY_HEADER]: apiKey() } });
  } finally {
    localStorage.removeItem(KEY_ITEM);
    location.assign("/login");
  }
}

document.getElementById("logout-button")?.addEventListener("click", logout);

export const $ = (id) => document.getElementById(id);

/** Make an element: el("a", {href: "/", class: "x", dataset: {pod: "p"}}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

/** Set a node's text only when it differs (keeps selections and avoids repaints). */
export function setText(node, text) {
  text = text ?? "";
  if (node.textContent !== text) node.textContent = text;
}

// Characters that show nothing, or reorder what follows (Trojan Source): agent-written
// text could show one thing and be another. Each is shown as a marker, ⟪U+202E⟫.
const HIDDEN = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** `text` as nodes, with every hidden or bidirectional control character made visible. */
export function reveal(text) {
  const nodes = [];
  let at = 0;
  for (const found of text.matchAll(HIDDEN)) {
    if (found.index > at) nodes.push(text.slice(at, found.index));
    const code = found[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    nodes.push(el("span", { class: "hidden-char", title: "an invisible or bidirectional control character", "data-testid": "hidden-char" }, `⟪U+${code}⟫`));
    at = found.index + found[0].length;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return nodes;
}

/** Set a node's agent-written text, hidden characters made visible (only when it differs). */
export function setRevealed(node, text) {
  text = text ?? "";
  if (node.dataset.text === text) return;
  node.dataset.text = text;
  node.replaceChildren(...reveal(text));
}

// --- the error banner --------------------------------------------------------

let bannerSource = null;

function banner() {
  let node = document.getElementById("error-banner");
  if (!node) {
    node = el("div", { id: "error-banner", class: "banner", role: "alert", "data-testid": "error-banner", hidden: true },
      el("span"),
      el("button", { type: "button", "aria-label": "Dismiss", onclick: () => clearError() }, "×"));
    (document.querySelector("main") || document.body).prepend(node);
  }
  return node;
}

/** Show an error; `source` lets a poller clear its own error once it works again. */
export function showError(message, source = null) {
  const node = banner();
  node.querySelector("span").textContent = String(message instanceof Error ? message.message : message);
  node.hidden = false;
  bannerSource = source;
}

export function clearError(source = undefined) {
  if (source !== undefined && source !== bannerSource) return;
  const node = document.getElementById("error-banner");
  if (node) node.hidden = true;
  bannerSource = null;
}

// --- time ---------------------------------------------------------------------

/** A Date from an ISO string or a Unix time in seconds or milliseconds; null if none. */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "" when unknown. */
export function relTime(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return "";
  const s = Math.round((now - date.getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A local, full date for tooltips. */
export function fullTime(value) {
  const date = toDate(value);
  return date ? date.toLocaleString() : "";
}

// --- agent state ----------------------------------------------------------------

export const STATES = ["starting", "working", "idle", "error", "stopped", "done"];

/** Update (or make) the colored badge for an agent state. */
export function badge(state, node = el("span", { "data-testid": "state-badge" })) {
  const known = STATES.includes(state) ? state : "unknown";
  node.className = `badge badge-${known}`;
  node.dataset.state = known;
  setText(node, state || "unknown");
  return node;
}

/** The pod name of a /pods/<name> page. */
export function podFromPath(path = location.pathname) {
  const parts = path.split("/").filter(Boolean);
  return parts[0] === "pods" && parts[1] ? decodeURIComponent(parts[1]) : null;
}

export function podUrl(name) {
  return `/pods/${encodeURIComponent(name)}`;
}

export function apiPod(name, rest = "") {
  return `/api/pods/${encodeURIComponent(name)}${rest}`;
}

/** Run `fn` now and every `ms` after it finishes; skipped while the tab is hidden. */
export function every(ms, fn) {
  let timer = null;
  let running = false;
  const tick = async () => {
    if (running) return;
    clearTimeout(timer);
    running = true;
    try {
      if (!document.hidden) await fn();
    } finally {
      running = false;
    }
    timer = setTimeout(tick, ms);
  };
  document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
  tick();
  return () => clearTimeout(timer);
}

/** "github:o/r:read,draft, gh:read-all" → ["github:o/r:read,draft", "gh:read-all"]:
 * split at commas, but a piece without a ":" is a permission of the scope before it. */
export function scopes(text) {
  const out = [];
  for (const piece of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    if (!piece.includes(":") && out.length) out[out.length - 1] += `,${piece}`;
    else out.push(piece);
  }
  return out;
}

// --- attention: the tab's title, and opt-in notifications ------------------------
// Every page with the top bar follows GET /api/pods (the server answers all clients
// from one cached list). The title counts the agents waiting on a person, "(2) ...";
// with "Notify me" on, an agent that goes from working to idle, or to error, makes a
// browser notification: plain text, from the pod's name and its last message.

const NOTIFY_ITEM = "devaipod-notify";
export const ATTENTION = ["idle", "error"];
let seen = null; // pod → its agent state at the last look

/** Does this /api/pods entry wait on a person (its agent idle after its work, failed, or
 * waiting for a permission)? The title's count, the pods page's badge and chip, and the
 * switcher all ask this. */
export function needsAttention(pod) {
  return ATTENTION.includes(pod.agent)
    || String(pod.agent_status || "").startsWith("waiting for permission");
}

/** Agent-written text for a notification: one line, hidden characters shown, short. */
export function plain(text, max = 120) {
  const line = String(text ?? "").replace(/[\u0000-\u001F\u007F-\u009F]+/g, " ")
    .replace(HIDDEN, (c) => `⟪U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}⟫`)
    .replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function notifying() {
  return "Notification" in window && Notification.permission === "granted"
    && localStorage.getItem(NOTIFY_ITEM) === "1";
}

/** What happened to a pod between two looks: "idle", "error" or null (nothing to tell). */
export function change(before, now) {
  if (before === undefined || before === now) return null;
  if (now === "idle" && before === "working") return "idle";
  return now === "error" ? "error" : null;
}

function notify(pod, what) {
  const name = pod.short || pod.name;
  const title = what === "error" ? `${plain(name, 60)}: the agent failed` : `${plain(name, 60)}: the agent is waiting`;
  try {
    const note = new Notification(title, { body: plain(pod.last_message), tag: `devaipod-${name}` });
    note.onclick = () => { window.focus(); location.assign(podUrl(pod.name)); };
  } catch (err) {
    console.warn("no notification:", err);
  }
}

/** Take a new list of pods: the title's count, and a notification per agent that now waits. */
export function attend(pods) {
  const waiting = pods.filter(needsAttention).length;
  const title = document.title.replace(/^\(\d+\) /, ""); // a page may have renamed itself
  document.title = waiting ? `(${waiting}) ${title}` : title;
  const now = new Map(pods.map((p) => [p.name, p.agent]));
  if (seen && notifying()) {
    for (const pod of pods) {
      const what = change(seen.get(pod.name), pod.agent);
      if (what) notify(pod, what);
    }
  }
  seen = now;
}

function showNotifyButton(button) {
  const on = notifying();
  button.hidden = !("Notification" in window);
  button.setAttribute("aria-pressed", on ? "true" : "false");
  setText(button, on ? "Notifications on" : "Notify me");
  button.title = on ? "Notifying you when an agent waits or fails; click to stop"
    : "A browser notification when an agent waits or fails";
}

async function toggleNotify(button) {
  if (notifying()) {
    localStorage.removeItem(NOTIFY_ITEM);
  } else {
    const answer = await Notification.requestPermission();
    if (answer === "granted") localStorage.setItem(NOTIFY_ITEM, "1");
    else showError("the browser does not allow notifications for this page (see its site settings)");
  }
  showNotifyButton(button);
}

(function watchAgents() {
  const button = document.getElementById("notify-button");
  if (!button) return; // the login page
  showNotifyButton(button);
  button.addEventListener("click", () => toggleNotify(button));
  // not `every`: a hidden tab is when a notification matters (browsers slow its timers)
  const look = async () => {
    try {
      attend(await api("/api/pods"));
    } catch (err) {
      console.warn("attention:", err.message);
    }
    setTimeout(look, 3000);
  };
  look();
})();
