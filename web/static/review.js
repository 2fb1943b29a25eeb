// The Review tab: the agent's commits that the workspace lacks, their diffs (hidden
// and bidirectional characters shown as markers), and Merge or Reject. Merge sends the
// range shown ({head, base}): the server merges only what was reviewed.
import { $, api, apiPod, el, fullTime, relTime, reveal, setText } from "/static/app.js";

let pod = null;
let reviewed = null; // the review shown

function diffView(text) {
  const pre = el("pre", { class: "diff" });
  let header = true; // the lines before a file's first hunk
  for (const line of text.replace(/\n$/, "").split("\n")) {
    let kind = null;
    if (line.startsWith("diff --git ")) header = true;
    if (line.startsWith("@@")) [kind, header] = ["hunk", false];
    else if (header) kind = "meta";
    else if (line.startsWith("+")) kind = "add";
    else if (line.startsWith("-")) kind = "del";
    else if (line.startsWith("\\")) kind = "meta"; // "\ No newline at end of file"
    pre.append(el("span", { class: kind }, ...reveal(line)));
  }
  return pre;
}

function fileView(file) {
  const status = (file.status || "?").slice(0, 1);
  const path = file.old_path ? `${file.old_path} → ${file.path}` : file.path;
  const summary = el("summary", {},
    el("span", { class: `status status-${status}`, title: { A: "added", D: "deleted", M: "modified", R: "renamed" }[status] || status }, status),
    el("span", { class: "path mono" }, ...reveal(path)),
    file.binary ? el("span", { class: "muted" }, "binary") : null,
    el("span", { class: "adds", "aria-label": `${file.additions || 0} added lines` }, `+${file.additions || 0}`),
    el("span", { class: "dels", "aria-label": `${file.deletions || 0} removed lines` }, `−${file.deletions || 0}`));
  const details = el("details", { class: "file", open: true, dataset: { path: file.path }, "data-testid": "review-file" }, summary);
  if (file.diff) details.append(diffView(file.diff));
  if (file.truncated) details.append(el("p", { class: "muted" }, "(the diff is cut short here)"));
  return details;
}

function render(review) {
  reviewed = review;
  const commits = review.commits || [];
  const files = review.files || [];
  const summary = review.branch ? `agent branch ${review.branch}` : "";
  const range = review.base && review.head ? ` · ${review.base.slice(0, 10)}..${review.head.slice(0, 10)}` : "";
  setText($("review-summary"), summary + range);
  $("review-commits").replaceChildren(...commits.map((c) => el("li", { dataset: { sha: c.sha }, "data-testid": "review-commit" },
    el("code", { class: "sha" }, c.sha.slice(0, 10)),
    el("span", { class: "subject" }, ...reveal(c.subject)),
    el("span", { class: "by", title: fullTime(c.date) }, `${c.author} · ${relTime(c.date)}`))));
  $("review-files").replaceChildren(...files.map(fileView));
  $("review-empty").hidden = commits.length > 0 || Boolean(review.error);
  $("review-commits-title").hidden = commits.length === 0;
  $("review-files-title").hidden = files.length === 0;
  $("merge-button").disabled = commits.length === 0;
  $("reject-button").disabled = commits.length === 0;
  if (review.error) result(review.error, true);
}

function result(text, error = false) {
  const node = $("review-result");
  node.hidden = !text;
  node.className = error ? "error-text" : "ok-text";
  setText(node, text);
}

async function load() {
  setText($("review-summary"), "Loading…");
  try {
    render(await api(apiPod(pod, "/review")));
  } catch (err) {
    setText($("review-summary"), "");
    result(err.message, true);
  }
}

async function verdict(what) {
  if (what === "reject" && !confirm("Reject the agent's commits? Its branch is reset to the workspace's.")) return;
  $("merge-button").disabled = $("reject-button").disabled = true;
  try {
    const body = what === "merge" ? { head: reviewed?.head, base: reviewed?.base } : undefined;
    const answer = await api(apiPod(pod, `/review/${what}`), { method: "POST", body });
    result(what === "merge" ? `Merged into the workspace${answer.head ? ` (now at ${answer.head.slice(0, 10)})` : ""}.`
      : "Rejected: the agent's branch is back at the workspace's.");
  } catch (err) {
    result(err.message, true);
  }
  await load();
}

/** Each showing loads the review afresh. */
export function show(name) {
  if (!pod) {
    pod = name;
    $("review-refresh").addEventListener("click", () => { result(""); load(); });
    $("merge-button").addEventListener("click", () => verdict("merge"));
    $("reject-button").addEventListener("click", () => verdict("reject"));
  }
  load();
}
