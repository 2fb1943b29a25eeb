// The pod's "update available": GET /api/pods/<name>/update compares the agent's image
// with the configured one; Recreate runs `devaipod rebuild` as a job (POST .../rebuild)
// and follows it (job.js). The volumes, and so the agent's commits, are kept.
import { $, api, apiPod, clearError, setText, showError } from "/static/app.js";
import { followJob } from "/static/job.js";

async function check(pod) {
  try {
    const state = await api(apiPod(pod, "/update"));
    $("pod-update").hidden = !state.update;
    setText($("update-reason"), state.reason || "");
  } catch (err) {
    showError(err);
  }
}

async function recreate(pod, reload) {
  if (!confirm("Recreate the workspace's containers (its volumes, git trees and the agent's commits are kept)?")) return;
  const button = $("action-recreate");
  button.disabled = true;
  clearError();
  try {
    const { job } = await api(apiPod(pod, "/rebuild"), { method: "POST" });
    $("rebuild-job").hidden = false;
    const box = $("rebuild-job");
    await followJob(job, box.querySelector("pre"), box.querySelector("p"), { text: "Recreated" });
    await reload();
    await check(pod);
    $("agent-reload").click(); // the Agent tab, if it was shown: the new sidecar's address
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

/** Check once (each check inspects images), and offer Recreate when the image changed. */
export function startUpdate(pod, reload) {
  $("action-recreate").addEventListener("click", () => recreate(pod, reload));
  check(pod);
}
