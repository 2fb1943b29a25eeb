// The pod's GitHub access, in its header: the grants its service-gator holds, a choice
// of one to take back, and a form to add scopes or replace them all
// (POST /api/pods/<name>/gator {"add"|"revoke"|"set": [...]}, as `devaipod gator
// add|revoke|set`). The gator reads its grants again at its next call.
import { $, api, apiPod, clearError, el, scopes, setText, showError } from "/static/app.js";

let pod = null;

function render(info) {
  $("gator").hidden = !info.enabled;
  const grants = info.grants || [];
  setText($("gator-grants"), grants.join(" · ") || "none granted");
  $("gator-revoke-choice").replaceChildren(...grants.map((g) => el("option", { value: g }, g)));
  $("gator-revoke-choice").hidden = $("gator-revoke").hidden = !grants.length;
}

async function change(what, values) {
  const buttons = $("gator").querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  try {
    render(await api(apiPod(pod, "/gator"), { method: "POST", body: { [what]: values } }));
    if (what !== "revoke") $("gator-add").value = "";
    clearError();
  } catch (err) {
    showError(err);
  } finally {
    for (const b of $("gator").querySelectorAll("button")) b.disabled = false;
  }
}

function grant(ev) {
  ev.preventDefault();
  const add = scopes($("gator-add").value);
  if (add.length) change("add", add);
}

function replaceAll() {
  const set = scopes($("gator-add").value);
  const what = set.length ? set.join(" · ") : "no grant at all";
  if (confirm(`Replace every grant by: ${what}?`)) change("set", set);
}

/** Show the grants (read once: each read starts a short-lived container) and take changes. */
export async function startGator(name) {
  pod = name;
  $("gator").addEventListener("submit", grant);
  $("gator-set").addEventListener("click", replaceAll);
  $("gator-revoke").addEventListener("click", () => {
    const grant = $("gator-revoke-choice").value;
    if (grant) change("revoke", [grant]);
  });
  try {
    render(await api(apiPod(pod, "/gator")));
  } catch (err) {
    showError(err);
  }
}
