// The pod's GitHub access, in its header: the grants its service-gator holds, and a
// form to add one (POST /api/pods/<name>/gator).
import { $, api, apiPod, clearError, scopes, setText, showError } from "/static/app.js";

function render(info) {
  $("gator").hidden = !info.enabled;
  setText($("gator-grants"), (info.grants || []).join(" · ") || "none granted");
}

async function grant(pod, ev) {
  ev.preventDefault();
  const add = scopes($("gator-add").value);
  if (!add.length) return;
  const button = $("gator").querySelector("button");
  button.disabled = true;
  try {
    render(await api(apiPod(pod, "/gator"), { method: "POST", body: { add } }));
    $("gator-add").value = "";
    clearError();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

/** Show the grants (read once: each read starts a short-lived container) and take new ones. */
export async function startGator(pod) {
  $("gator").addEventListener("submit", (ev) => grant(pod, ev));
  try {
    render(await api(apiPod(pod, "/gator")));
  } catch (err) {
    showError(err);
  }
}
