// What an agent is doing now, from a Pod of GET /api/pods: its status line ("running
// bash: make test", "waiting for permission", ...) and the last lines of its output.
// The server made each one printable line (devaipod.agent.state.clean); they go into the
// page as text only (textContent), never as markup.
import { el, setText } from "/static/app.js";

(function stylesheet() {
  if (document.querySelector('link[href="/static/summary.css"]')) return;
  document.head.append(el("link", { rel: "stylesheet", href: "/static/summary.css" }));
})();

// status lines that say no more than the state's badge
const BARE = ["starting", "working", "idle"];

/** The status line worth showing: nothing when it is only a state. */
export function statusLine(pod) {
  const line = typeof pod.agent_status === "string" ? pod.agent_status : "";
  return BARE.includes(line) || line === pod.agent ? "" : line;
}

/** Render POD's summary into its box inside HOST (made the first time): the status line
 * and, with `lines`, the last lines of output; the lines are always the box's tooltip. */
export function renderSummary(host, pod, { lines = false } = {}) {
  let box = host.querySelector(":scope > .agent-summary");
  if (!box) {
    box = el("div", { class: "agent-summary", "data-testid": "agent-summary" },
      el("div", { class: "agent-summary-status", "data-testid": "agent-summary-status" }),
      el("pre", { class: "agent-summary-lines", "data-testid": "agent-summary-lines" }));
    host.append(box);
  }
  const output = Array.isArray(pod.agent_lines) ? pod.agent_lines.map(String) : [];
  const [status, shown] = box.children;
  setText(status, statusLine(pod));
  setText(shown, lines ? output.join("\n") : "");
  shown.hidden = !lines || output.length === 0;
  box.title = output.join("\n");
  box.dataset.tool = typeof pod.agent_tool === "string" ? pod.agent_tool : "";
  box.hidden = !status.textContent && shown.hidden;
  return box;
}
