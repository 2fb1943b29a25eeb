"""Read-only views of the pod's two git trees, for the sidecar's /git routes.

The api container mounts the workspace volume at /mnt/main-workspace and the
agent's volume at /mnt/agent-workspace, both read-only. The agent's tree is a
``git clone --shared`` of the workspace's, so it sees the workspace's objects
through alternates: ``git -C agent log <workspace HEAD>..HEAD`` works.

Nothing here writes: merging and rejecting happen in the control plane.

The agent controls its repository's config, and git reads it; so every
command is run with the settings that could run a program switched off
(fsmonitor, hooks, signature checks, external diff and textconv, and the
clean/smudge filters ``git status`` may run on changed files).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from devaipod import errors, runner

MAIN_MOUNT = "/mnt/main-workspace"
AGENT_MOUNT = "/mnt/agent-workspace"
DIFF_CAP = 200 * 1024  # bytes of diff text per file
DIRTY_CAP = 1000  # paths listed per tree
REVIEW_COMMITS = 500
LOG_DEFAULT, LOG_MAX = 50, 500
TIMEOUT = 60.0

# `-c` settings that keep git from running programs the repository's config names
HARDEN = ("core.fsmonitor=false", "core.hooksPath=/dev/null", "log.showSignature=false",
          "color.ui=false")
DIFF_OPTS = ("--no-color", "--no-ext-diff", "--no-textconv", "-M", "-O/dev/null")
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


# --- argv builders (pure) ---------------------------------------------------

def git_argv(root: str, *args: str, config: tuple[str, ...] = ()) -> list[str]:
    opts = [x for setting in (*HARDEN, *config) for x in ("-c", setting)]
    return ["git", *opts, "-C", root, "--no-optional-locks", *args]


def filters_argv(root: str) -> list[str]:
    return git_argv(root, "config", "-z", "--name-only", "--get-regexp", r"^filter\.")


def filter_overrides(names: list[str]) -> tuple[str, ...]:
    """`-c` settings that blank every clean/smudge/process filter the config defines."""
    drivers = sorted({name.rsplit(".", 1)[0] for name in names if name.count(".") >= 2})
    return tuple(f"{d}.{key}" for d in drivers
                 for key in ("clean=", "smudge=", "process=", "required=false"))


def status_argv(root: str, config: tuple[str, ...] = ()) -> list[str]:
    return git_argv(root, "status", "--porcelain=v2", "--branch", "--no-ahead-behind", "-z",
                    "--ignore-submodules=dirty", config=config)


def log_argv(root: str, rev: str, limit: int) -> list[str]:
    return git_argv(root, "log", f"--max-count={limit}", "-z", "--no-color", LOG_FORMAT,
                    rev, "--")


def rev_parse_argv(root: str) -> list[str]:
    return git_argv(root, "rev-parse", "-q", "--verify", "HEAD^{commit}")


def has_commit_argv(root: str, sha: str) -> list[str]:
    return git_argv(root, "cat-file", "-e", f"{sha}^{{commit}}")


def branch_argv(root: str) -> list[str]:
    return git_argv(root, "symbolic-ref", "-q", "--short", "HEAD")


def changes_argv(root: str, base: str, head: str) -> list[str]:
    return git_argv(root, "diff", *DIFF_OPTS, "--raw", "--numstat", "-z", f"{base}...{head}",
                    "--")


def patch_argv(root: str, base: str, head: str) -> list[str]:
    return git_argv(root, "diff", *DIFF_OPTS, "--patch", f"{base}...{head}", "--")


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

def run(argv: list[str], ok_codes: tuple[int, ...] = (0,)) -> runner.Result:
    try:
        result = runner.capture(argv, check=False, timeout=TIMEOUT)
    except errors.DevaipodError as exc:  # git missing, timeout
        raise GitError(exc.format_message()) from None
    if result.returncode not in ok_codes:
        raise GitError(f"{errors.describe(argv)} failed (exit {result.returncode}): "
                       f"{errors.last_line(result.stderr)}")
    return result


def check_tree(which: str, root: str) -> None:
    if not os.path.isdir(root):
        raise TreeMissing(which, root, "is not there")
    if not os.path.exists(os.path.join(root, ".git")):
        raise TreeMissing(which, root, "is not a git repository")


def check_trees(trees: Trees) -> None:
    for which, root in trees.items():
        check_tree(which, root)


def head(root: str) -> str | None:
    out = run(rev_parse_argv(root), ok_codes=(0, 1)).stdout.strip()
    return out or None


def branch(root: str) -> str | None:
    out = run(branch_argv(root), ok_codes=(0, 1)).stdout.strip()
    return out or None


def tree_status(which: str, root: str) -> dict:
    check_tree(which, root)
    names = run(filters_argv(root), ok_codes=(0, 1)).stdout.split("\0")
    state = parse_status(run(status_argv(root, filter_overrides(names))).stdout)
    dirty = state["dirty"]
    state.update(dirty=dirty[:DIRTY_CAP], dirty_count=len(dirty))
    return state


def status(trees: Trees) -> dict:
    """{"workspace": {branch, head, dirty, dirty_count}, "agent": {...}}"""
    return {which: tree_status(which, root) for which, root in trees.items()}


def log(trees: Trees, limit: int = LOG_DEFAULT) -> dict:
    """The agent's branch, newest first: {"commits": [{sha, subject, author, date}]}."""
    check_tree("agent", trees.agent)
    limit = max(1, min(int(limit), LOG_MAX))
    if head(trees.agent) is None:
        return {"commits": []}
    return {"commits": parse_log(run(log_argv(trees.agent, "HEAD", limit)).stdout)}


def review(trees: Trees) -> dict:
    """The agent's commits the workspace does not have, and their changes.

    {"base", "head", "branch", "commits": [...], "files": [{path, status, additions,
    deletions, diff, truncated, binary, old_path?}]}, plus "error" when they cannot
    be compared."""
    check_trees(trees)
    base, tip = head(trees.workspace), head(trees.agent)
    answer: dict = {"base": base, "head": tip, "branch": branch(trees.agent),
                    "commits": [], "files": []}
    if base is None or tip is None:
        answer["error"] = f"the {'workspace' if base is None else 'agent'} has no commits"
        return answer
    if base == tip:
        return answer
    if not run(has_commit_argv(trees.agent, base), ok_codes=(0, 1, 128)).ok:
        answer["error"] = (f"the workspace's HEAD {base[:12]} is not in the agent's "
                           "repository (was the workspace re-cloned?)")
        return answer
    answer["commits"] = parse_log(
        run(log_argv(trees.agent, f"{base}..{tip}", REVIEW_COMMITS)).stdout)
    files = parse_changes(run(changes_argv(trees.agent, base, tip)).stdout)
    patches = split_patch(run(patch_argv(trees.agent, base, tip)).stdout)
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
