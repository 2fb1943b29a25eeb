// The new-workspace page: POST /api/pods, then follow the job's progress over SSE.
import { api, clearError, el, podUrl, scopes, setText, showError, stream } from "/static/app.js";

const form = document.getElementById("new-form");
const button = document.getElementById("create-button");
const section = document.getElementById("job");
const log = document.getElementById("job-log");
const result = document.getElementById("job-result");

function spec() {
  const data = new FormData(form);
  const text = (key) => String(data.get(key) || "").trim();
  const body = { source: text("source"), mode: text("mode") || "run" };
  for (const key of ["task", "image", "name"]) if (text(key)) body[key] = text(key);
  const gator = scopes(text("gator"));
  if (gator.length) body.gator = gator;
  return body;
}

function busy(on) {
  button.disabled = on;
  setText(button, on ? "Creating…" : "Create workspace");
}

function finish(job) {
  busy(false);
  result.replaceChildren();
  if (job.state === "succeeded") {
    result.className = "ok-text";
    result.append("Workspace ready: ",
      job.pod ? el("a", { href: podUrl(job.pod), "data-testid": "job-pod-link" }, job.pod) : "(no name reported)");
  } else {
    result.className = "error-text";
    result.append(job.error || `the job ${job.state}`);
  }
  result.dataset.state = job.state;
}

/** Follow a job: the server replays every line on each (re)connection. */
async function follow(id) {
  section.hidden = false;
  log.textContent = "";
  result.replaceChildren("Working…");
  result.className = "muted";
  result.dataset.state = "running";
  busy(true);
  history.replaceState(null, "", `/new?job=${encodeURIComponent(id)}`);
  let ended = null;
  try {
    await stream(`/api/jobs/${encodeURIComponent(id)}/events`, (type, data) => {
      if (type === "line") {
        const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.append(String(data) + "\n");
        if (stick) log.scrollTop = log.scrollHeight;
      } else if (type === "end") {
        ended = data;
      }
    });
  } catch {
    // the stream broke: the job's state says what to do
  }
  if (ended) return finish(ended);
  try {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    if (job.state === "running") setTimeout(() => follow(id), 2000);
    else {
      log.textContent = job.lines.join("\n") + (job.lines.length ? "\n" : "");
      finish(job);
    }
  } catch (err) {
    busy(false);
    showError(err);
  }
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!form.reportValidity()) return;
  clearError();
  busy(true);
  try {
    const { job } = await api("/api/pods", { method: "POST", body: spec() });
    follow(job);
    section.scrollIntoView({ block: "start" });
  } catch (err) {
    busy(false);
    showError(err);
  }
});

const resumed = new URLSearchParams(location.search).get("job");
if (resumed) follow(resumed);
