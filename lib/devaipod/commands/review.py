"""devaipod review: the agent's commits the workspace lacks; merge them or drop them."""

from __future__ import annotations

import click

from devaipod.clikit import command, emit_json, json_option, say, workspace_argument

SHORT = 12


def render(review: dict) -> list[str]:
    """The review as lines of text (the agent's words in them: print with ``say``)."""
    base, head = review.get("base"), review.get("head")
    lines = [f"range    {base or '(none)'}..{head or '(none)'}"]
    if review.get("branch"):
        lines.append(f"branch   {review['branch']} (the agent's)")
    if review.get("error"):
        lines.append(f"note     {review['error']}")
    commits, files = review.get("commits") or [], review.get("files") or []
    lines += record_lines(review)
    if not commits and not review.get("error"):
        lines.append("nothing to review: the agent has no commits the workspace lacks")
        return lines
    lines.append(f"commits  {len(commits)}")
    lines += [f"  {(c.get('sha') or '')[:SHORT]}  {one_line(c.get('subject') or '')}"
              + ("  (new since your comments)" if c.get("new") else "") for c in commits]
    if files:
        added = sum(f.get("additions") or 0 for f in files)
        deleted = sum(f.get("deletions") or 0 for f in files)
        lines.append(f"files    {len(files)}, +{added} -{deleted}")
        lines += [f"  {file_line(f)}" for f in files]
    return lines


def record_lines(review: dict) -> list[str]:
    """The comments sent since the last merge, and the merged reviews (newest first)."""
    lines = []
    for sent in review.get("sent") or []:
        lines.append(f"sent     {len(sent.get('comments') or [])} comment(s) on "
                     f"{(sent.get('head') or '')[:SHORT]} at {sent.get('time')}")
    if review.get("rewritten"):
        lines.append("note     the commit you commented on is not in the range any more: "
                     "the agent rewrote its branch; every commit is new")
    for past in review.get("history") or []:
        lines.append(f"merged   {(past.get('base') or '')[:SHORT]}.."
                     f"{(past.get('head') or '')[:SHORT]} at {past.get('time')}, "
                     f"{len(past.get('comments') or [])} comment(s)")
    return lines


def file_line(entry: dict) -> str:
    """``M      +10     -2  path`` (``old -> new`` for a rename; ``binary`` for a binary
    file's counts)."""
    counts = ("binary" if entry.get("binary")
              else f"{'+' + str(entry.get('additions') or 0):>6} "
                   f"{'-' + str(entry.get('deletions') or 0):>6}")
    path = one_line(entry.get("path") or "")
    if entry.get("old_path"):
        path = f"{one_line(entry['old_path'])} -> {path}"
    return f"{entry.get('status') or '?':<2} {counts:>13}  {path}"


def one_line(text: str) -> str:
    """A path or subject on one line: newlines shown as \\n (the rest by ``say``)."""
    return text.replace("\n", "\\n")


def verdict(merge: bool, reject: bool, comment: tuple[str, ...] = ()) -> str | None:
    if sum((merge, reject, bool(comment))) > 1:
        raise click.UsageError("give one of --merge, --reject or --comment")
    return "merge" if merge else "reject" if reject else "comment" if comment else None


def line_comments(review: dict, args: tuple[str, ...]) -> list[dict]:
    """--comment FILE:LINE:TEXT, each with its context from the review's diff of FILE."""
    from devaipod.workspace import comments

    diffs = {f.get("path"): f.get("diff") or "" for f in review.get("files") or []}
    found = []
    for arg in args:
        try:
            path, line, text = comments.parse_arg(arg)
        except comments.CommentError as exc:
            raise click.UsageError(str(exc)) from None
        if path not in diffs:
            raise click.UsageError(f"--comment: {path} is not among the files the review shows")
        found.append({"path": path, "line": line, "text": text,
                      "context": list(comments.context_of(diffs[path], line))})
    return found


@command("review")
@workspace_argument
@click.option("--merge", is_flag=True,
              help="Merge the commits shown into the workspace (if the agent's branch "
              "has not moved since).")
@click.option("--reject", is_flag=True,
              help="Reset the agent's branch to the workspace's, dropping its commits.")
@click.option("--comment", "comment", multiple=True, metavar="FILE:LINE:TEXT",
              help="Ask the agent to change line LINE of FILE (as the diff numbers it); "
              "repeat it: all go in one message.")
@json_option
def cli(workspace, merge, reject, comment, as_json) -> None:
    """Show the agent's commits that WORKSPACE lacks; merge them or drop them.

    The review is the sidecar's: base..head (the workspace's HEAD, the agent's),
    the commits and each file's changes (their diffs with --json), and the record
    of the comments sent and the reviews merged. --merge lands exactly the range
    shown; --reject resets the agent's branch; --comment sends line comments to
    the agent as one message.
    """
    from devaipod.workspace import review as review_

    what = verdict(merge, reject, comment)
    api = review_.sidecar(workspace)
    shown = review_.load(workspace, api)
    if not as_json:
        for line in render(shown):
            say(line)
    if what == "merge":
        shown["merged"] = merged(workspace, shown, api, as_json)
    elif what == "comment":
        sent = review_.send_comments(workspace, shown.get("head"), shown.get("base"),
                                     line_comments(shown, comment), api)
        shown["comments_sent"] = sent
        if not as_json:
            click.echo(f"sent {len(sent['comments'])} comment(s) on "
                       f"{shown['head'][:SHORT]} to the agent")
    elif what == "reject":
        review_.reject(workspace)
        shown["rejected"] = True
        if not as_json:
            click.echo("rejected: the agent's branch is reset to the workspace's")
    if as_json:
        emit_json(shown)


def merged(workspace: str, shown: dict, api, quiet: bool) -> str | None:
    """Land the range shown; the workspace's new HEAD (None: nothing to merge)."""
    from devaipod.workspace import review as review_

    if shown.get("error"):
        raise review_.ReviewError(f"cannot merge: {shown['error']}")
    if not shown.get("commits"):
        click.echo("nothing to merge", err=True)
        return None
    new = review_.land(workspace, shown.get("head"), shown.get("base"), api)
    if not quiet:
        click.echo(f"merged {shown['head'][:SHORT]}: the workspace is at {new[:SHORT]}")
    return new
