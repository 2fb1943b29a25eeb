"""Reading a git repository the agent controls, without trusting it.

git reads a repository's config (``core.fsmonitor``, hooks, filters, diff
drivers, ``uploadpack``, promisor remotes and their lazy fetches, aliases,
``core.pager``, ``include.path``...), its ``info/attributes``, replace refs
and grafts, and runs or believes what they say. Overriding them one key at a
time is a race against every new git release. So a trusted process (the
sidecar, the gator, the workspace's ``agent`` remote, the control plane's
Merge) never runs git *in* the agent's repository. It makes a **shadow**: a
bare git directory of its own whose ``objects/info/alternates`` points at the
agent's object store and whose refs are a copy of the agent's branches (text
files, checked to be object ids), then runs git on the shadow only, with the
environment of :func:`env`. The agent's config, attributes, hooks, replace
refs, grafts, shallow and promisor settings are never read; its objects are
read as data, and an object is what its id says it is.

The shadow is made by one POSIX shell script (``SCRIPT``), so that the same
code runs in the sidecar and the gator (devaipod's image) and in any
devcontainer image (the workspace, where it is the ``agent`` remote's
upload-pack): ``SCRIPT make DEST SRC [SRC...]`` and
``SCRIPT upload-pack SRC``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator

from devaipod import runner

# `git config` pairs given in git's environment (GIT_CONFIG_COUNT: the
# command-line scope, above every file, and safe for any key or value, unlike
# `-c key=value`, which git splits at the first "="): a second belt for the
# shadow, whose own config already says the same.
PAIRS: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),
    ("core.editor", "false"),
    ("core.askPass", "false"),
    ("core.sshCommand", "false"),
    ("core.alternateRefsCommand", "true"),
    ("core.commitGraph", "false"),
    ("core.multiPackIndex", "false"),
    ("credential.helper", ""),
    ("protocol.allow", "never"),
    ("log.showSignature", "false"),
    ("color.ui", "false"),
    ("attr.tree", "4b825dc642cb6eb9a060e54bf8d69288fbee4904"),  # the empty tree
)
ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "false",
    "SSH_ASKPASS": "false",
    "GIT_PAGER": "cat",
    "GIT_EDITOR": "false",
}
# attributes that could run a program or hide content, made unspecified for
# every path: info/attributes of the shadow beats the agent's .gitattributes
ATTRIBUTES = "* !diff !merge !filter !ident !working-tree-encoding"
DIFF_OPTS = ("--no-color", "--no-ext-diff", "--no-textconv")

SCRIPT = r"""
set -eu
die() { echo "git-shadow: $*" >&2; exit 3; }

# copy $1 (a ref file of the agent) to $2 if it holds an object id, and nothing else
copy_ref() {
  id=$(head -c 100 "$1" 2>/dev/null | head -n 1)
  case $id in *[!0-9a-f]*|'') return 0 ;; esac
  [ ${#id} -eq 40 ] || [ ${#id} -eq 64 ] || return 0
  mkdir -p "$(dirname "$2")" && printf '%s\n' "$id" > "$2"
}

make_shadow() {
  dest=$1; shift
  gd=$1/.git
  { [ -d "$gd" ] && [ ! -L "$gd" ] && [ -d "$gd/objects" ] && [ ! -L "$gd/objects" ]; } \
    || die "$1 has no .git directory with objects of its own"
  mkdir -p "$dest/objects/info" "$dest/refs/heads" "$dest/info"
  for src in "$@"; do
    [ -d "$src/.git/objects" ] || die "$src has no .git/objects"
    printf '%s\n' "$src/.git/objects" >> "$dest/objects/info/alternates"
  done
  cat > "$dest/config" <<'EOF'
[core]
	repositoryformatversion = 0
	bare = true
	fsmonitor = false
	hooksPath = /dev/null
	commitGraph = false
	multiPackIndex = false
[uploadpack]
	allowAnySHA1InWant = true
[gc]
	auto = 0
[protocol]
	allow = never
EOF
  printf '%s\n' '@ATTRIBUTES@' > "$dest/info/attributes"
  head=$(head -c 300 "$gd/HEAD" 2>/dev/null | head -n 1 || true)
  case $head in
    "ref: refs/heads/"*[!A-Za-z0-9._/-]*|*..*) head="ref: refs/heads/devaipod-unknown-head" ;;
    "ref: refs/heads/"?*) ;;
    *) copy_ref "$gd/HEAD" "$dest/HEAD.id"
       if [ -s "$dest/HEAD.id" ]; then head=$(cat "$dest/HEAD.id"); else
         head="ref: refs/heads/devaipod-unknown-head"; fi
       rm -f "$dest/HEAD.id" ;;
  esac
  printf '%s\n' "$head" > "$dest/HEAD"
  if [ -f "$gd/packed-refs" ] && [ ! -L "$gd/packed-refs" ]; then
    grep -E '^[0-9a-f]{40}([0-9a-f]{24})? refs/heads/[A-Za-z0-9._/-]+$' "$gd/packed-refs" \
      | grep -v '[.][.]' > "$dest/packed-refs" || true
  fi
  if [ -d "$gd/refs/heads" ] && [ ! -L "$gd/refs/heads" ]; then
    (cd "$gd" && find refs/heads -type f) | while IFS= read -r ref; do
      case $ref in *[!A-Za-z0-9._/-]*|*..*) continue ;; esac
      copy_ref "$gd/$ref" "$dest/$ref"
    done
  fi
}

@HARDEN@
verb=${1-}; [ $# -gt 0 ] && shift
case $verb in
  make) [ $# -ge 2 ] || die "usage: make DEST SRC [SRC...]"; make_shadow "$@" ;;
  upload-pack)
    # remote.agent.uploadpack in the workspace: serve the agent's tree from a shadow
    [ $# -ge 1 ] || die "usage: upload-pack SRC"
    src=$1
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT HUP INT TERM
    make_shadow "$tmp/shadow" "$src"
    harden "$tmp/shadow"
    git upload-pack --strict "$tmp/shadow" ;;
  *) die "usage: make DEST SRC [SRC...] | upload-pack SRC" ;;
esac
"""


def _shell_env() -> str:
    """``harden DIR``: the shell twin of :func:`env` (no work tree), for ``SCRIPT``."""
    import shlex

    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env("$1").items()
                       if k != "GIT_DIR")
    return ("# the environment git runs with on a shadow (devaipod.gitsafe.env())\n"
            f'harden() {{\n  export GIT_DIR="$1" {exports}\n'
            "  unset GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY "
            "GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_COMMON_DIR GIT_CONFIG_PARAMETERS\n}\n")


def make_argv(dest: str, sources: list[str]) -> list[str]:
    return ["sh", "-c", SCRIPT, "git-shadow", "make", dest, *sources]


def program() -> str:
    """The script as an executable (``devaipod-git-shadow``, a workspace program)."""
    return "#!/bin/sh\n# devaipod-git-shadow: git on a repository without trusting it\n" + SCRIPT


def env(shadow: str, worktree: str | None = None,
        more: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """git's environment for a shadow (and, for ``status``, the agent's work tree and
    index); ``more`` adds config pairs (the gator's push: protocol and header)."""
    pairs = (*PAIRS, *more)
    out = {**ENV, "GIT_DIR": shadow, "GIT_CONFIG_COUNT": str(len(pairs))}
    for n, (key, value) in enumerate(pairs):
        out[f"GIT_CONFIG_KEY_{n}"] = key
        out[f"GIT_CONFIG_VALUE_{n}"] = value
    if worktree:
        out.update(GIT_WORK_TREE=worktree, GIT_INDEX_FILE=f"{worktree}/.git/index")
    return out


class ShadowError(Exception):
    """The repository cannot be read (no .git directory, unreadable files)."""


@contextlib.contextmanager
def shadow(*sources: str, timeout: float = 60) -> Iterator[str]:
    """A shadow of the first source's repository (objects of all), removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="devaipod-shadow-")
    try:
        result = runner.capture(make_argv(f"{tmp}/git", list(sources)), check=False,
                                timeout=timeout)
        if not result.ok:
            raise ShadowError(result.stderr.strip().removeprefix("git-shadow: ")
                              or f"making a shadow of {sources[0]} failed")
        yield f"{tmp}/git"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def capture(shadow_dir: str, args: list[str], *, worktree: str | None = None,
            more: tuple[tuple[str, str], ...] = (), timeout: float | None = 60,
            check: bool = False) -> runner.Result:
    """``git ARGS`` on a shadow (the agent's work tree and index when ``worktree``)."""
    return runner.capture(["git", *args], env=env(shadow_dir, worktree, more), check=check,
                          timeout=timeout, cwd=worktree or shadow_dir)


def capture_bytes(shadow_dir: str, args: list[str], input: bytes | None = None,
                  timeout: float | None = 120) -> bytes:
    """``git ARGS`` on a shadow, its stdout as bytes (``cat-file --batch``)."""
    return runner.capture_bytes(["git", *args], timeout, input=input, env=env(shadow_dir),
                                cwd=shadow_dir)


SCRIPT = SCRIPT.replace("@HARDEN@\n", _shell_env()).replace("@ATTRIBUTES@", ATTRIBUTES)
