"""Read-only views of the pod's two git trees, for the sidecar's /git routes.

The api container mounts the workspace volume at /mnt/main-workspace and the
agent's volume at /mnt/agent-workspace, both read-only. The agent's tree is a
``git clone --shared`` of the workspace's.

Nothing here writes: merging and rejecting happen in the workspace and the
agent's containers (``devaipod.workspace.review``).

The agent controls its repository, and git believes a repository's config,
attributes, replace refs and grafts: git never runs *in* a tree here, only on
a shadow of it (``devaipod.gitsafe``): a trusted git dir that reads the
tree's objects as data. The review's diff is computed on a shadow that sees
the objects of both trees, so that it is the true content of the commits the
workspace would merge, whatever the agent's repository says.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from devaipod import gitsafe

MAIN_MOUNT = "/mnt/main-workspace"
AGENT_MOUNT = "/mnt/agent-workspace"
DIFF_CAP = 200 * 1024  # bytes of diff text per file
DIRTY_CAP = 1000  # paths listed per tree
REVIEW_COMMITS = 500
LOG_DEFAULT, LOG_MAX = 50, 500
TIMEOUT = 60.0

DIFF_OPTS = (*gitsafe.DIFF_OPTS, "-M", "-O/dev/null")
LOG_FORMAT = "--format=%H%x1f%s%x1f%an%x1f%aI"


class GitError(Exception):
    """A git command failed."""


class TreeMissing(GitError):
    """A tree is not there (volume not mounted, not cloned yet, not a repository)."""

    def __init__(self, which: str, root: str, why: str) -> None:
        super().__init__(f"the {which} tree {root} {why}")
        self.which, self.root = which, root


@dataclass(frozen=True)
class Trees:
    workspace: str
    agent: str

    @classmethod
    def for_project(cls, project: str, main: str = MAIN_MOUNT,
                    agent: str = AGENT_MOUNT) -> Trees:
        return cls(os.path.join(main, project), os.path.join(agent, project))

    def items(self) -> list[tuple[str, str]]:
        return [("workspace", self.workspace), ("agent", self.agent)]


# --- argv builders (pure): git's arguments, run on a shadow -------------------

def status_args() -> list[str]:
    return ["status", "--porcelain=v2", "--branch", "--no-ahead-behind", "-z",
            "--ignore-submodules=all"]


def log_args(rev: str, limit: int) -> list[str]:
    return ["log", f"--max-count={limit}", "-z", "--no-color", LOG_FORMAT, rev, "--"]


def rev_parse_args() -> list[str]:
    return ["rev-parse", "-q", "--verify", "HEAD^{commit}"]



def merge_base_args(base: str, head: str) -> list[str]:
    return ["merge-base", base, head]


def branch_args() -> list[str]:
    return ["symbolic-ref", "-q", "--short", "HEAD"]


def changes_args(base: str, head: str) -> list[str]:
    return ["diff", *DIFF_OPTS, "--raw", "--numstat", "-z", f"{base}...{head}", "--"]


def patch_args(base: str, head: str) -> list[str]:
    return ["diff", *DIFF_OPTS, "--patch", f"{base}...{head}", "--"]


# --- parsers (pure) -----------------------------------------------------------

def parse_status(out: str) -> dict:
    """``git status --porcelain=v2 --branch -z`` → {branch, head, dirty}."""
    branch = head = None
    dirty: list[str] = []
    tokens = iter(out.split("\0"))
    for token in tokens:
        if token.startswith("# branch.oid "):
            oid = token[len("# branch.oid "):]
            head = None if oid == "(initial)" else oid
        elif token.startswith("# branch.head "):
            name = token[len("# branch.head "):]
            branch = None if name == "(detached)" else name
        elif token.startswith("1 "):
            dirty.append(token.split(" ", 8)[8])
        elif token.startswith("2 "):
            dirty.append(token.split(" ", 9)[9])
            next(tokens, None)  # the path it was renamed from
        elif token.startswith("u "):
            dirty.append(token.split(" ", 10)[10])
        elif token.startswith("? "):
            dirty.append(token[2:])
    return {"branch": branch, "head": head, "dirty": dirty}


def parse_log(out: str) -> list[dict]:
    commits = []
    for record in out.split("\0"):
        record = record.strip("\n")
        if not record:
            continue
        sha, subject, author, date = [*record.split("\x1f", 3), "", "", ""][:4]
        commits.append({"sha": sha, "subject": subject, "author": author, "date": date})
    return commits


def parse_changes(out: str) -> list[dict]:
    """``git diff --raw --numstat -z`` → [{path, status, additions, deletions, ...}]."""
    tokens = out.split("\0")
    files: list[dict] = []
    i = 0
    while i < len(tokens) and tokens[i].startswith(":"):  # raw records first
        letter = tokens[i].split(" ")[-1][:1]
        entry: dict = {"status": {"T": "M", "C": "A"}.get(letter, letter)}
        if letter in ("R", "C"):
            entry["old_path"], entry["path"] = tokens[i + 1], tokens[i + 2]
            i += 3
        else:
            entry["path"] = tokens[i + 1]
            i += 2
        files.append(entry)
    for entry in files:  # then the numstat records, in the same order
        if i >= len(tokens):
            break
        added, deleted, path = [*tokens[i].split("\t", 2), "", ""][:3]
        i += 3 if path == "" else 1  # a rename's paths follow in their own tokens
        binary = added == "-"
        entry.update(additions=0 if binary else int(added or 0),
                     deletions=0 if binary else int(deleted or 0), binary=binary)
    return files


def split_patch(out: str) -> list[str]:
    """A multi-file patch → one text per file (each starts with ``diff --git``)."""
    chunks: list[list[str]] = []
    for line in out.splitlines(keepends=True):
        if line.startswith("diff --git ") or not chunks:
            chunks.append([])
        chunks[-1].append(line)
    return ["".join(c) for c in chunks if c and c[0].startswith("diff --git ")]


def cap(text: str, limit: int = DIFF_CAP) -> tuple[str, bool]:
    data = text.encode()
    if len(data) <= limit:
        return text, False
    cut = data[:limit]
    nl = cut.rfind(b"\n")
    return (cut[: nl + 1] if nl > 0 else cut).decode(errors="ignore"), True


# --- running git ------------------------------------------------------------

def run(shadow: str, args: list[str], ok_codes: tuple[int, ...] = (0,),
        worktree: str | None = None):
    try:
        result = gitsafe.capture(shadow, args, worktree=worktree, timeout=TIMEOUT)
    except Exception as exc:  # git missing, timeout
        raise GitError(str(exc)) from None
    if result.returncode not in ok_codes:
        last = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        raise GitError(f"git {args[0]} failed (exit {result.returncode}): {last}")
    return result


def check_tree(which: str, root: str) -> None:
    if not os.path.isdir(root):
        raise TreeMissing(which, root, "is not there")
    dot = os.path.join(root, ".git")
    if not os.path.isdir(dot) or os.path.islink(dot):
        raise TreeMissing(which, root, "is not a git repository")


def check_trees(trees: Trees) -> None:
    for which, root in trees.items():
        check_tree(which, root)


@contextlib.contextmanager
def shadow(which: str, root: str, *more: str) -> Iterator[str]:
    """A shadow of ROOT (seeing the objects of MORE too); a refusal is a GitError."""
    check_tree(which, root)
    try:
        with gitsafe.shadow(root, *more) as sh:
            yield sh
    except gitsafe.ShadowError as exc:
        raise GitError(f"the {which} tree: {exc}") from None


def head(sh: str) -> str | None:
    out = run(sh, rev_parse_args(), ok_codes=(0, 1, 128)).stdout.strip()
    return out or None


def branch(sh: str) -> str | None:
    out = run(sh, branch_args(), ok_codes=(0, 1)).stdout.strip()
    return out or None


def tree_status(which: str, root: str) -> dict:
    with shadow(which, root) as sh:
        state = parse_status(run(sh, status_args(), worktree=root).stdout)
    dirty = state["dirty"]
    state.update(dirty=dirty[:DIRTY_CAP], dirty_count=len(dirty))
    return state


def status(trees: Trees) -> dict:
    """{"workspace": {branch, head, dirty, dirty_count}, "agent": {...}}"""
    return {which: tree_status(which, root) for which, root in trees.items()}


def log(trees: Trees, limit: int = LOG_DEFAULT) -> dict:
    """The agent's branch, newest first: {"commits": [{sha, subject, author, date}]}."""
    limit = max(1, min(int(limit), LOG_MAX))
    with shadow("agent", trees.agent) as sh:
        if head(sh) is None:
            return {"commits": []}
        return {"commits": parse_log(run(sh, log_args("HEAD", limit)).stdout)}


def review(trees: Trees) -> dict:
    """The agent's commits the workspace does not have, and their changes.

    {"base", "head", "branch", "commits": [...], "files": [{path, status, additions,
    deletions, diff, truncated, binary, old_path?}]}, plus "error" when they cannot
    be compared. Merge lands exactly ``head`` onto ``base`` (it is given both)."""
    check_trees(trees)
    with shadow("workspace", trees.workspace) as ws:
        base = head(ws)
    # the agent's objects and the workspace's: the agent may have cut its alternates
    with shadow("agent", trees.agent, trees.workspace) as sh:
        tip = head(sh)
        answer: dict = {"base": base, "head": tip, "branch": branch(sh),
                        "commits": [], "files": []}
        if base is None or tip is None:
            answer["error"] = f"the {'workspace' if base is None else 'agent'} has no commits"
            return answer
        if base == tip:
            return answer
        if not run(sh, merge_base_args(base, tip), ok_codes=(0, 1)).stdout.strip():
            answer["error"] = ("the agent's branch shares no history with the workspace's "
                               f"HEAD {base[:12]}: there is nothing to merge")
            return answer
        answer["commits"] = parse_log(run(sh, log_args(f"{base}..{tip}", REVIEW_COMMITS)).stdout)
        files = parse_changes(run(sh, changes_args(base, tip)).stdout)
        patches = split_patch(run(sh, patch_args(base, tip)).stdout)
    if len(patches) != len(files):  # never expected: keep the list, drop the texts
        patches = [""] * len(files)
    for entry, patch in zip(files, patches, strict=True):
        entry["diff"], entry["truncated"] = cap(patch)
    answer["files"] = files
    return answer


# --- change detection, cheap: a few small file reads per tree ---------------

def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(4096)
    except OSError:
        return None


def git_dirs(root: str) -> tuple[str, str] | None:
    """(the git dir, the common dir) of a tree; follows a ``.git`` file."""
    dot = os.path.join(root, ".git")
    if os.path.isdir(dot):
        return dot, dot
    text = _read(dot)
    if not text or not text.startswith("gitdir:"):
        return None
    gitdir = os.path.join(root, text[len("gitdir:"):].strip())
    common = (_read(os.path.join(gitdir, "commondir")) or "").strip()
    return gitdir, os.path.join(gitdir, common) if common else gitdir


def ref_marks(root: str) -> tuple:
    """What changes when the tree's HEAD or branch does: HEAD's text, the branch's
    loose ref, or packed-refs' stat when the ref is packed."""
    dirs = git_dirs(root)
    if dirs is None:
        return (None,)
    gitdir, common = dirs
    text = _read(os.path.join(gitdir, "HEAD"))
    if text is None or not text.startswith("ref: "):
        return (text,)
    ref = text[5:].strip()
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return (text,)
    loose = _read(os.path.join(common, *ref.split("/")))
    if loose is not None:
        return (text, loose)
    try:
        st = os.stat(os.path.join(common, "packed-refs"))
        return (text, None, st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return (text, None)


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _heads(state: dict) -> tuple:
    return tuple((state[w]["branch"], state[w]["head"]) for w in ("workspace", "agent"))


def events(trees: Trees, *, poll: float = 1.0, keepalive: float = 15.0,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> Iterator[bytes]:
    """Server-sent events: ``git.updated`` with the status now, then again each
    time either tree's HEAD or branch changes; ``: keepalive`` when quiet. Ends
    when closed (the server closes it when the client has gone)."""
    marks = [ref_marks(root) for _, root in trees.items()]
    last: tuple | None = None
    quiet_since = clock()
    try:
        state = status(trees)
        last = _heads(state)
        yield sse("git.updated", state)
    except GitError as exc:
        yield sse("git.error", {"error": str(exc)})
    while True:
        sleep(poll)
        now = [ref_marks(root) for _, root in trees.items()]
        if now != marks:
            marks = now
            try:
                state = status(trees)
            except GitError as exc:
                yield sse("git.error", {"error": str(exc)})
                quiet_since = clock()
                continue
            if _heads(state) != last:
                last = _heads(state)
                yield sse("git.updated", state)
                quiet_since = clock()
                continue
        if clock() - quiet_since >= keepalive:
            yield b": keepalive\n\n"
            quiet_since = clock()
