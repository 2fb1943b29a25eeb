// The Audit tab: the workspace's audit trail (gator calls, pushes, what humans did),
// newest first. Much of it is the agent's text: shown as text, hidden characters revealed.
import { $, apiPod, api, el, fullTime, reveal, setText } from "/static/app.js";

const SHOWN = ["time", "kind", "by"];
let pod = null;

function what(ev) {
  return Object.entries(ev).filter(([key]) => !SHOWN.includes(key))
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(",") : value}`)
    .join("  ");
}

function row(ev) {
  const refused = ev.decision === "refused" || ev.decision === "denied";
  return el("tr", { class: refused ? "refused" : null, "data-testid": "audit-row",
    dataset: { kind: ev.kind } },
  el("td", { title: fullTime(ev.time) }, String(ev.time)),
  el("td", {}, String(ev.kind)), el("td", {}, String(ev.by)),
  el("td", {}, ...reveal(what(ev))));
}

async function load() {
  setText($("audit-status"), "loading…");
  try {
    const { events } = await api(apiPod(pod, "/audit"));
    $("audit-rows").replaceChildren(...events.slice().reverse().map(row));
    setText($("audit-status"), `${events.length} event${events.length === 1 ? "" : "s"}`);
  } catch (err) {
    setText($("audit-status"), `cannot read the audit trail: ${err.message}`);
  }
}

/** Each showing reads the trail again. */
export function show(name) {
  if (!pod) $("audit-refresh").addEventListener("click", load);
  pod = name;
  load();
}
