// The sidecar's login page: install the service worker that adds this session's
// key to every request of this origin, wait until it controls the page, then
// go on to OpenCode's UI. Without a service worker (the page is not a secure
// context, e.g. plain http on an address other than 127.0.0.1 or localhost)
// nothing of the agent can be shown: say so.
"use strict";

function say(text) {
  document.getElementById("status").textContent = text;
}

async function start() {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const key = meta("devaipod-key");
  const next = meta("devaipod-next");
  if (!("serviceWorker" in navigator)) {
    say("This browser cannot open the agent here: it needs a service worker, which " +
        "browsers allow on https, http://127.0.0.1 and http://localhost only. Open the " +
        "control plane through one of those (e.g. an SSH tunnel to 127.0.0.1).");
    return;
  }
  const script = `/_devaipod/sw.js?key=${encodeURIComponent(key)}`;
  const wanted = new URL(script, location.href).href;
  const controlled = () => navigator.serviceWorker.controller?.scriptURL === wanted;
  const ready = new Promise((resolve) => {
    if (controlled()) resolve();
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (controlled()) resolve();
    });
  });
  await navigator.serviceWorker.register(script, { scope: "/" });
  await ready;
  location.replace(next);
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((err) => say(`The agent's UI cannot start: ${err.message}`));
});
