// The Agent tab: OpenCode's web UI in a frame, served by the pod's sidecar on a port
// of its own (GET /api/pods/<name>/agent gives its address and a ticket).
import { $, api, apiPod, setText } from "/static/app.js";

let pod = null;

async function load() {
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

/** The first showing loads the frame; later ones keep it as it is (Reload reloads). */
export function show(name) {
  if (pod) return;
  pod = name;
  $("agent-reload").addEventListener("click", load);
  load();
}
