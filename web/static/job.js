// A background job of the control plane (creating a workspace, rebuilding one): follow
// its lines over SSE into a log, and its outcome into a result line.
import { api, el, podUrl, stream } from "/static/app.js";

function finish(result, job, link) {
  result.replaceChildren();
  if (job.state === "succeeded") {
    result.className = "ok-text";
    result.append(`${link.text}: `, job.pod
      ? el("a", { href: podUrl(job.pod), "data-testid": "job-pod-link" }, job.pod)
      : "(no name reported)");
  } else {
    result.className = "error-text";
    result.append(job.error || `the job ${job.state}`);
  }
  result.dataset.state = job.state;
}

/** Follow job ID into LOG (a <pre>) and RESULT (its outcome, data-state = the job's state);
 * the server replays every line on each (re)connection. Resolves with the ended job. */
export async function followJob(id, log, result, link = { text: "Workspace ready" }) {
  log.textContent = "";
  result.replaceChildren("Working…");
  result.className = "muted";
  result.dataset.state = "running";
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
  if (!ended) {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    if (job.state === "running") {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return followJob(id, log, result, link);
    }
    log.textContent = job.lines.join("\n") + (job.lines.length ? "\n" : "");
    ended = job;
  }
  finish(result, ended, link);
  return ended;
}
