// The pod page's switcher: every workspace in a dropdown (its agent's state shown),
// previous and next (keys [ and ]) in the order last chosen on the pods page, and
// "Done, next": POST /api/pods/<name>/done (what `devaipod done` does), then the next one.
// A person goes through every agent's work without going back to the list.
import {
  $, api, apiPod, clearError, el, every, needsAttention, plain, podUrl, setText, showError,
} from "/static/app.js";
import { neighbours, savedSort, sortPods } from "/static/podlist.js";

let order = []; // GET /api/pods, sorted
let shownKey = null; // what the options were made from (kept while it is the same)

function stateOf(pod) {
  return needsAttention(pod) ? "attention" : pod.agent || "unknown";
}

function option(pod) {
  const state = pod.agent || "unknown";
  const parts = [`● ${pod.short || pod.name}`, needsAttention(pod) ? `${state}, needs you` : state];
  if (pod.title || pod.task) parts.push(plain(pod.title || pod.task, 60)); // agent-written: text only
  return el("option", { value: pod.name, class: `opt-${stateOf(pod)}`, dataset: { state } },
    parts.join(" — "));
}

function show(current) {
  const select = $("switch-select");
  const key = JSON.stringify(order.map((p) => [p.name, p.agent, p.title, p.task]));
  if (key !== shownKey && document.activeElement !== select) { // an open list is left alone
    shownKey = key;
    select.replaceChildren(...order.map(option));
  }
  select.value = current;
  const { prev, next, index } = neighbours(order, current);
  $("switch-prev").disabled = !prev;
  $("switch-next").disabled = !next;
  if (prev) $("switch-prev").title = `${prev.short || prev.name} (key [)`;
  if (next) $("switch-next").title = `${next.short || next.name} (key ])`;
  setText($("switch-pos"), index < 0 ? "" : `${index + 1} of ${order.length}`);
  const here = order[index];
  $("switch-dot").className = `dot dot-${here ? stateOf(here) : "unknown"}`;
  $("switch-dot").title = here ? here.agent : "";
  $("switch-done").disabled = Boolean(here?.done);
}

function go(pod) {
  if (pod) location.assign(podUrl(pod.name) + location.hash); // the same tab there
}

async function doneNext(current, button, reload) {
  const { next } = neighbours(order, current); // before the mark moves it in the order
  button.disabled = true;
  try {
    await api(apiPod(current, "/done"), { method: "POST" });
    clearError();
    if (next) return go(next);
    await reload();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

function typing(target) {
  return target.closest?.("input, textarea, select, [contenteditable], .terminal-box");
}

/** Start the switcher for the page of `current`; `reload()` refreshes the page's head. */
export function startSwitcher(current, reload) {
  const refresh = async () => {
    try {
      order = sortPods(await api("/api/pods"), savedSort());
      show(current);
    } catch (err) {
      console.warn("switcher:", err.message); // the page's own poll shows the trouble
    }
  };
  $("switch-select").addEventListener("change", (ev) => {
    if (ev.target.value !== current) go(order.find((p) => p.name === ev.target.value));
  });
  $("switch-prev").addEventListener("click", () => go(neighbours(order, current).prev));
  $("switch-next").addEventListener("click", () => go(neighbours(order, current).next));
  $("switch-done").addEventListener("click", (ev) => doneNext(current, ev.currentTarget, async () => {
    await reload();
    await refresh();
  }));
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    const step = { "[": "prev", "]": "next" }[ev.key];
    if (step) go(neighbours(order, current)[step]);
  });
  every(5000, refresh);
}
