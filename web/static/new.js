// The new-workspace page: POST /api/pods (one job per source), then follow each job's
// progress over SSE (job.js). The options are `devaipod run`'s; the server checks them
// as the CLI does (request.from_options) and answers its message.
import { api, clearError, scopes, setText, showError } from "/static/app.js";
import { followJob } from "/static/job.js";

const form = document.getElementById("new-form");
const button = document.getElementById("create-button");
const jobs = document.getElementById("jobs");
const template = document.getElementById("job-template");
const TEXT = ["task", "image", "name", "title", "network", "devcontainer_json",
  "service_gator_image", "pull"];
const CHECKS = ["use_default_devcontainer", "no_auto_approve", "service_gator_ro", "trust_source"];

function spec() {
  const data = new FormData(form);
  const text = (key) => String(data.get(key) || "").trim();
  const body = { source: text("source"), mode: text("mode") || "run" };
  for (const key of TEXT) if (text(key)) body[key] = text(key);
  for (const key of CHECKS) if (data.get(key)) body[key] = true;
  const gator = scopes(text("gator"));
  if (gator.length) body.gator = gator;
  const mcp = text("mcp").split("\n").map((s) => s.trim()).filter(Boolean);
  if (mcp.length) body.mcp = mcp;
  return body;
}

function busy(on) {
  button.disabled = on;
  setText(button, on ? "Creating…" : "Create workspace");
}

/** A card per job, each following its own progress. */
async function followAll(ids, sources = []) {
  jobs.replaceChildren();
  busy(true);
  history.replaceState(null, "", `/new?job=${ids.map(encodeURIComponent).join(",")}`);
  const runs = ids.map((id, n) => {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.job = id;
    setText(card.querySelector('[data-testid="job-source"]'), sources[n] || "");
    jobs.append(card);
    return followJob(id, card.querySelector('[data-testid="job-log"]'),
      card.querySelector('[data-testid="job-result"]')).catch(showError);
  });
  jobs.firstElementChild?.scrollIntoView({ block: "start" });
  await Promise.all(runs);
  busy(false);
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!form.reportValidity()) return;
  clearError();
  busy(true);
  const body = spec();
  try {
    const answer = await api("/api/pods", { method: "POST", body });
    followAll(answer.jobs || [answer.job], body.source.split(/\s+/).filter(Boolean)
      .filter((s, n, all) => all.indexOf(s) === n));
  } catch (err) {
    busy(false);
    showError(err);
  }
});

const resumed = new URLSearchParams(location.search).get("job");
if (resumed) followAll(resumed.split(",").filter(Boolean));
