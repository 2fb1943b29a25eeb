// The Review tab: the agent's commits that the workspace lacks, their diffs (hidden
// and bidirectional characters shown as markers), line comments, and Merge or Reject.
// Merge sends the range shown ({head, base}): the server merges only what was reviewed.
// A click on a diff line opens a comment box; the comments wait in a pending review
// until "Send review" sends them, with the range they were written on, as one message
// to the agent. The paths and diffs are the agent's text: shown as text, never as HTML.
import { $, api, apiPod, el, fullTime, relTime, reveal, setText } from "/static/app.js";
import { commentsView, historyView, sentView } from "/static/review-comments.js";

let pod = null;
let reviewed = null; // the review shown
// the comments not sent yet, and the range they were written on ({head, base})
const pending = { comments: [], range: null };
const CONTEXT = 3; // lines of the diff sent with a comment, the commented one last
const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

function diffView(text, path) {
  const pre = el("pre", { class: "diff" });
  let header = true; // the lines before a file's first hunk
  let old = 0, now = 0; // the next line's numbers on either side
  const shown = []; // this hunk's lines so far, for a comment's context
  for (const line of text.replace(/\n$/, "").split("\n")) {
    let kind = null, side = null, number = null;
    if (line.startsWith("diff --git ")) header = true;
    const hunk = HUNK.exec(line);
    if (hunk) {
      [kind, header] = ["hunk", false];
      [old, now] = [Number(hunk[1]), Number(hunk[2])];
      shown.length = 0;
    } else if (header) kind = "meta";
    else if (line.startsWith("\\")) kind = "meta"; // "\ No newline at end of file"
    else if (line.startsWith("-")) [kind, side, number] = ["del", "old", old++];
    else {
      [kind, side, number] = [line.startsWith("+") ? "add" : null, "new", now++];
      if (kind === null) old++;
    }
    const span = el("span", { class: kind }, ...reveal(line));
    if (side) {
      shown.push(line);
      const context = shown.slice(-CONTEXT);
      Object.assign(span.dataset, { side, line: number });
      span.classList.add("commentable");
      span.title = `comment on ${side === "old" ? "removed " : ""}line ${number}`;
      span.addEventListener("click", () => openBox(span, { path, side, line: number, context }));
    }
    pre.append(span);
  }
  return pre;
}

/** The comment box under a diff line; one at a time. */
function openBox(span, where) {
  document.querySelector(".comment-box")?.remove();
  const text = el("textarea", { rows: 3, "data-testid": "comment-text", "aria-label": `comment on line ${where.line}` });
  const box = el("div", { class: "comment-box", "data-testid": "comment-box" },
    text,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "data-testid": "comment-add", onclick: () => {
        if (!text.value.trim()) return;
        if (!pending.comments.length) pending.range = { head: reviewed?.head, base: reviewed?.base };
        pending.comments.push({ ...where, text: text.value.trim() });
        box.remove();
        renderPending();
      } }, "Add comment"),
      el("button", { type: "button", onclick: () => box.remove() }, "Cancel")));
  span.after(box);
  text.focus();
}

function renderPending() {
  const node = $("review-pending");
  node.replaceChildren(...commentsView(pending.comments, {
    title: `Your review: ${pending.comments.length} comment(s), not sent yet`,
    onRemove: (i) => { pending.comments.splice(i, 1); renderPending(); },
  }));
  if (pending.comments.length) {
    node.append(el("button", { type: "button", class: "primary", "data-testid": "review-send", onclick: sendReview },
      "Send review to the agent"));
  }
  node.hidden = pending.comments.length === 0;
  for (const span of document.querySelectorAll("pre.diff .commented")) span.classList.remove("commented");
  for (const note of document.querySelectorAll("pre.diff .inline-comment")) note.remove();
  for (const c of pending.comments) {
    const file = [...document.querySelectorAll('[data-testid="review-file"]')].find((f) => f.dataset.path === c.path);
    const span = file?.querySelector(`span[data-side="${c.side}"][data-line="${c.line}"]`);
    span?.classList.add("commented");
    span?.after(el("div", { class: "inline-comment", "data-testid": "inline-comment" }, c.text));
  }
}

async function sendReview() {
  const button = $("review-pending").querySelector("button.primary");
  if (button) button.disabled = true;
  try {
    const body = { ...pending.range, comments: pending.comments };
    await api(apiPod(pod, "/review/comments"), { method: "POST", body });
    result(`Sent ${pending.comments.length} comment(s) to the agent, on ${body.head.slice(0, 10)}.`);
    pending.comments = [];
    pending.range = null;
  } catch (err) {
    result(err.message, true);
  }
  await load();
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
  if (file.diff) details.append(diffView(file.diff, file.path));
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
    c.new ? el("span", { class: "new-badge", "data-testid": "review-commit-new", title: "made since your comments were sent" }, "new") : null,
    el("span", { class: "subject" }, ...reveal(c.subject)),
    el("span", { class: "by", title: fullTime(c.date) }, `${c.author} · ${relTime(c.date)}`))));
  $("review-files").replaceChildren(...files.map(fileView));
  sentView($("review-sent"), review.sent || [], review.rewritten);
  historyView($("review-history"), review.history || []);
  renderPending();
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
