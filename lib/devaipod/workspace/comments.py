"""A review's line comments: checked, given the diff's context, and made into ONE message
for the agent ("Please change the following: ..."), all pure.

A comment is the human's text on one line of one file of the review's diff, as the
human saw it: ``{"path", "line", "side", "text", "context"}``; ``side`` is ``new`` (an
added or unchanged line, numbered as in the agent's file) or ``old`` (a removed line,
numbered as in the workspace's); ``context`` is the diff's lines up to the commented one
(the last), as shown. The path and the context are the agent's text: in the message each
stays on its own line, its control characters escaped, so that none of it reads as
another comment of the human's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

SIDES = ("new", "old")
MAX_COMMENTS = 100
MAX_TEXT = 4000  # characters of a comment
MAX_PATH = 500
CONTEXT_LINES = 3  # the commented line and the two before it
MAX_CONTEXT = 300  # characters of a context line
HUNK = re.compile(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
ARG = re.compile(r"(?P<path>.+?):(?P<line>\d+):(?P<text>.*)", re.S)


class CommentError(ValueError):
    """A comment that cannot be sent as it is."""


@dataclass(frozen=True)
class Comment:
    path: str
    line: int
    text: str
    side: str = "new"
    context: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {**asdict(self), "context": list(self.context)}


def visible(text: str, keep: str = "") -> str:
    """TEXT with every control, format (bidi, zero-width) and line-breaking character but
    those in KEEP written as an escape (``\\n``, ``\\x1b``, ``\\u202e``): one line."""
    out = []
    for ch in text:
        if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return "".join(out)


def checked(raw: object) -> Comment:
    """A comment from JSON (the Review tab's), or a CommentError saying what is wrong."""
    if not isinstance(raw, dict):
        raise CommentError("each comment is an object: {path, line, side, text}")
    path, line, text = raw.get("path"), raw.get("line"), raw.get("text")
    side, context = raw.get("side") or "new", raw.get("context") or []
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise CommentError("a comment needs the file's path")
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise CommentError(f"the comment on {visible(path)} needs a line number (1 or more)")
    if side not in SIDES:
        raise CommentError(f"side is new or old, not {visible(str(side))[:20]}")
    if not isinstance(text, str) or not text.strip():
        raise CommentError(f"the comment on {visible(path)}:{line} is empty")
    if len(text) > MAX_TEXT:
        raise CommentError(f"the comment on {visible(path)}:{line} is longer than "
                           f"{MAX_TEXT} characters")
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        raise CommentError("context is a list of the diff's lines")
    return Comment(path, line, text.strip(), side,
                   tuple(c[:MAX_CONTEXT] for c in context[-CONTEXT_LINES:]))


def checked_all(raw: object) -> list[Comment]:
    if not isinstance(raw, list) or not raw:
        raise CommentError("give at least one comment")
    if len(raw) > MAX_COMMENTS:
        raise CommentError(f"at most {MAX_COMMENTS} comments in one review")
    return [checked(c) for c in raw]


def parse_arg(arg: str) -> tuple[str, int, str]:
    """``FILE:LINE:TEXT`` (the CLI's --comment) -> (file, line, text)."""
    found = ARG.fullmatch(arg)
    if not found or not found["text"].strip():
        raise CommentError(f"--comment {arg!r}: expected FILE:LINE:TEXT, e.g. "
                           "'src/main.py:12:rename this'")
    return found["path"], int(found["line"]), found["text"].strip()


def numbered(diff: str) -> list[tuple[str | None, int | None, str]]:
    """A file's patch, line by line: (side, number, line); side None for a header or hunk
    line. An added or unchanged line is numbered on the new side, a removed one on the old."""
    out: list[tuple[str | None, int | None, str]] = []
    old = new = 0
    in_hunk = False
    for line in diff.splitlines():
        hunk = HUNK.match(line)
        if hunk:
            old, new, in_hunk = int(hunk[1]), int(hunk[2]), True
            out.append((None, None, line))
        elif not in_hunk or line.startswith("\\"):
            out.append((None, None, line))
        elif line.startswith("-"):
            out.append(("old", old, line))
            old += 1
        elif line.startswith("diff --git "):
            in_hunk = False
            out.append((None, None, line))
        else:
            out.append(("new", new, line))
            new += 1
            if not line.startswith("+"):
                old += 1
    return out


def context_of(diff: str, line: int, side: str = "new") -> tuple[str, ...]:
    """The diff's lines up to LINE on SIDE (at most CONTEXT_LINES, within its hunk)."""
    lines = numbered(diff)
    for i, (s, n, _text) in enumerate(lines):
        if s == side and n == line:
            start = i
            while start > 0 and i - start < CONTEXT_LINES - 1 and lines[start - 1][0]:
                start -= 1
            return tuple(t[:MAX_CONTEXT] for _s, _n, t in lines[start:i + 1])
    return ()


def message(comments: list[Comment], base: str, head: str) -> str:
    """The one message that carries the review to the agent."""
    lines = [f"Please change the following (my review of your commits "
             f"{base[:12]}..{head[:12]}; each item is file:line, then the diff's lines "
             "as I saw them, the commented one last):", ""]
    for c in comments:
        where = f"{visible(c.path)}:{c.line}" + (" (a removed line)" if c.side == "old" else "")
        text = "\n  ".join(visible(t, keep="\t") for t in c.text.splitlines())
        lines.append(f"- {where}: {text}")
        lines += [f"    | {visible(t, keep=chr(9))}" for t in c.context]
    return "\n".join(lines) + "\n"


def mark_new(review: dict, sent_head: str | None) -> dict:
    """Mark the review's commits made since the comments were sent on SENT_HEAD: those
    newer than it in the list (newest first). When SENT_HEAD is not in the range any more
    (the agent rewrote its branch), every commit is new and ``rewritten`` is set."""
    commits = review.get("commits") or []
    if not sent_head or not commits:
        return review
    shas = [c.get("sha") for c in commits]
    cut = shas.index(sent_head) if sent_head in shas else len(shas)
    for i, c in enumerate(commits):
        c["new"] = i < cut
    if sent_head not in shas and sent_head != review.get("base"):
        review["rewritten"] = True
    return review
