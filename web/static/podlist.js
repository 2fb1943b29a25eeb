// The list of workspaces as the pages narrow and order it: the pods page's search, chips
// and sort, and the pod page's switcher (which walks the pods in the order last chosen on
// the pods page). Pure functions of GET /api/pods entries, but for the saved sort.
import { needsAttention } from "/static/app.js";

const SORT_ITEM = "devaipod-sort";

// The chips of the pods page: "all", "attention" (app.js's notion), then agent states.
export const CHIPS = ["all", "attention", "working", "idle", "error", "starting", "stopped",
  "done", "unknown"];
export const CHIP_LABELS = { all: "all", attention: "needs attention" };

/** Does `pod` belong under `chip`? */
export function inChip(pod, chip) {
  if (!chip || chip === "all") return true;
  if (chip === "attention") return needsAttention(pod);
  if (chip === "unknown") return !CHIPS.includes(pod.agent);
  return pod.agent === chip;
}

/** chip → how many of `pods` it holds. */
export function chipCounts(pods) {
  return Object.fromEntries(CHIPS.map((chip) => [chip, pods.filter((p) => inChip(p, chip)).length]));
}

// `repo:TEXT`, `task:TEXT`, `state:STATE` (also `name:`, `title:`), a value in double
// quotes may hold spaces; any other word is free text. Every term must match (AND).
const KEYS = ["repo", "task", "state", "name", "title"];
const TOKEN = /(\w+):"([^"]*)"?|(\w+):(\S+)|"([^"]*)"?|(\S+)/g;

/** "repo:octo fix \"two words\"" → [{key: "repo", value: "octo"}, {key: "", value: "fix"}, ...] */
export function parseQuery(text) {
  const terms = [];
  for (const m of String(text || "").matchAll(TOKEN)) {
    const key = (m[1] || m[3] || "").toLowerCase();
    const value = m[2] ?? m[4] ?? m[5] ?? m[6] ?? "";
    const term = key && !KEYS.includes(key) ? { key: "", value: m[0].replace(/"/g, "") }
      : { key, value };
    if (term.value) terms.push({ key: term.key, value: term.value.toLowerCase() });
  }
  return terms;
}

function fields(pod, key) {
  switch (key) {
    case "repo": return [pod.repo, pod.source];
    case "task": return [pod.task];
    case "title": return [pod.title];
    case "name": return [pod.name, pod.short];
    default: return [pod.name, pod.short, pod.title, pod.repo, pod.source, pod.task];
  }
}

/** Does `pod` match every term (parseQuery's)? `state:` is a prefix of the agent's state,
 * or `state:attention`; the others are substrings, case-insensitive. */
export function matches(pod, terms) {
  return terms.every(({ key, value }) => {
    if (key === "state") {
      return "attention".startsWith(value) ? needsAttention(pod)
        : String(pod.agent || "unknown").toLowerCase().startsWith(value);
    }
    return fields(pod, key).some((f) => String(f || "").toLowerCase().includes(value));
  });
}

// --- order --------------------------------------------------------------------------

export const SORTS = {
  activity: "last activity",
  created: "created",
  name: "name",
  state: "state",
};
// the state sort: what waits on a person first, what is over last
const STATE_ORDER = ["error", "idle", "working", "starting", "unknown", "stopped", "done"];

const when = (value) => (value ? Date.parse(value) || 0 : 0);
const nameOf = (pod) => pod.short || pod.name || "";

const KEYFNS = {
  name: (a, b) => nameOf(a).localeCompare(nameOf(b)),
  created: (a, b) => when(b.created) - when(a.created), // newest first
  activity: (a, b) => when(b.last_activity || b.created) - when(a.last_activity || a.created),
  state: (a, b) => {
    const rank = (p) => {
      const i = STATE_ORDER.indexOf(p.agent);
      return i < 0 ? STATE_ORDER.indexOf("unknown") : i;
    };
    return rank(a) - rank(b);
  },
};

/** A copy of `pods` in the order `sort` (a key of SORTS); ties by name. */
export function sortPods(pods, sort) {
  const first = KEYFNS[sort] || KEYFNS.activity;
  return [...pods].sort((a, b) => first(a, b) || KEYFNS.name(a, b));
}

export function savedSort() {
  const sort = localStorage.getItem(SORT_ITEM);
  return sort in SORTS ? sort : "activity";
}

export function saveSort(sort) {
  localStorage.setItem(SORT_ITEM, sort);
}

/** The pods before and after `name` in `ordered` (wrapping around); null when alone. */
export function neighbours(ordered, name) {
  const i = ordered.findIndex((p) => p.name === name);
  if (i < 0 || ordered.length < 2) return { prev: null, next: null, index: i };
  const at = (k) => ordered[(k + ordered.length) % ordered.length];
  return { prev: at(i - 1), next: at(i + 1), index: i };
}
