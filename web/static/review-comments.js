// The Review tab's lists of line comments: the pending review, the rounds sent to the
// agent since the last merge, and the merged reviews kept as a record. A comment's path
// and context are the agent's text: shown as text (hidden characters made visible).
import { el, fullTime, relTime, reveal } from "/static/app.js";

function where(c) {
  return `${c.path}:${c.line}${c.side === "old" ? " (removed line)" : ""}`;
}

/** A title and one item per comment (a Remove button each when `onRemove` is given). */
export function commentsView(comments, { title, onRemove = null, testid = "comment-item" } = {}) {
  if (!comments.length) return [];
  return [
    el("h2", {}, title),
    el("ul", { class: "comment-list" }, ...comments.map((c, i) => el("li", { "data-testid": testid },
      el("code", { class: "where" }, ...reveal(where(c))),
      el("span", { class: "text" }, c.text),
      onRemove ? el("button", { type: "button", class: "link", "data-testid": "comment-remove", onclick: () => onRemove(i) }, "Remove") : null))),
  ];
}

/** The comments sent since the last merge, round by round. */
export function sentView(node, rounds, rewritten) {
  node.replaceChildren();
  for (const round of rounds) {
    node.append(...commentsView(round.comments || [], {
      title: `Sent to the agent ${relTime(round.time)}, on ${String(round.head || "").slice(0, 10)}`,
      testid: "sent-comment",
    }));
  }
  if (rewritten) {
    node.append(el("p", { class: "error-text", "data-testid": "review-rewritten" },
      "The commit you commented on is not in this range any more: the agent rewrote its branch. Every commit is new."));
  }
  node.hidden = node.childElementCount === 0;
}

/** The merged reviews, newest first: the range, the merge, the comments. */
export function historyView(node, history) {
  node.replaceChildren();
  if (!history.length) {
    node.hidden = true;
    return;
  }
  node.append(el("h2", {}, "Merged reviews"),
    ...history.map((past) => el("details", { class: "past-review", "data-testid": "past-review", dataset: { head: past.head || "" } },
      el("summary", { title: fullTime(past.time) },
        `${relTime(past.time)}: ${String(past.base || "").slice(0, 10)}..${String(past.head || "").slice(0, 10)}`
        + ` merged (workspace at ${String(past.merged || "").slice(0, 10)}), ${(past.comments || []).length} comment(s)`),
      ...commentsView(past.comments || [], { title: "Comments", testid: "past-comment" }))));
  node.hidden = false;
}
