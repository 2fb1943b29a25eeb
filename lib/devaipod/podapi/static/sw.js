// The sidecar's service worker: adds this browser session's key to every request
// of this origin (OpenCode's web UI cannot add a header itself). The key is in the
// worker's own URL, so it survives the browser stopping and restarting the worker.
"use strict";

const KEY = new URL(self.location.href).searchParams.get("key") || "";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function withKey(request) {
  const headers = new Headers(request.headers);
  headers.set("X-Devaipod-Key", KEY);
  const init = {
    method: request.method,
    headers,
    mode: "same-origin", // a no-cors request would drop the header
    credentials: "same-origin",
    cache: request.cache === "only-if-cached" ? "default" : request.cache,
    redirect: request.mode === "navigate" ? "manual" : request.redirect,
    signal: request.signal,
  };
  if (!["GET", "HEAD"].includes(request.method)) init.body = await request.arrayBuffer();
  return fetch(new Request(request.url, init));
}

self.addEventListener("fetch", (event) => {
  if (new URL(event.request.url).origin !== self.location.origin) return;
  event.respondWith(withKey(event.request));
});
