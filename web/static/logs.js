// The Logs tab: a container's log, followed over server-sent events (read with fetch(),
// which sends the key), the last MAX_LOG_LINES lines kept.
import { $, apiPod, el, setText, stream } from "/static/app.js";

const MAX_LOG_LINES = 5000;
let pod = null;
let following = null; // the AbortController of the stream shown

async function open() {
  if (following) following.abort();
  const controller = new AbortController();
  following = controller;
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
  if (following !== controller) return; // replaced by another container's log
  following = null;
  pre.append(el("span", { class: "note" }, `— the log stream ended${why ? `: ${why}` : ""} —\n`));
  setText($("logs-status"), "stopped —");
  $("logs-reconnect").hidden = false;
}

/** The first showing follows the agent's log; later ones leave the stream shown alone. */
export function show(name) {
  if (pod) return;
  pod = name;
  $("logs-container").addEventListener("change", open);
  $("logs-reconnect").addEventListener("click", open);
  open();
}

/** Offer the pod's containers only. */
export function update(info) {
  for (const option of $("logs-container").options) {
    option.hidden = !(option.value in (info.containers || {}));
  }
}
