"""The review of the agent's commits, landing them in the workspace, or dropping them
(``devaipod review`` and the control plane's Review tab).

The review is the sidecar's ``/git/review``; the human's line comments on it go to the
agent as one message, and the rounds of comments and the merges are recorded on the
trusted side (``devaipod.workspace.reviewlog``). What Merge lands is exactly what
the review showed: the caller names the reviewed range (``base``, the
workspace's HEAD then, and ``head``, the agent's commit); the agent's branch
must still be at ``head`` (the sidecar says so), the workspace must still be
at ``base``, and the workspace fetches ``head`` by its id through the
``agent`` remote's trusted upload-pack (a shadow of the agent's repository:
``devaipod.gitsafe``), so nothing of the agent's repository but its objects is
read, and an object is what its id says.
"""

from __future__ import annotations

import re

from devaipod import errors, layout
from devaipod.podman import container, pod
from devaipod.workspace import audit as trail
from devaipod.workspace import comments, reviewlog

SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
UPLOAD_PACK = "/run/devaipod-bin/devaipod-git-shadow upload-pack"

# $1 the workspace's repository, $2 the reviewed head, $3 the reviewed base, $4 upload-pack
MERGE = r"""
set -eu
repo=$1 head=$2 base=$3 uploadpack=$4
cd "$repo"
now=$(git rev-parse -q --verify 'HEAD^{commit}' || true)
if [ "$now" != "$base" ]; then
  echo "the workspace is at ${now:-no commit} now, not at the reviewed ${base}: review again" >&2
  exit 3
fi
git fetch -q --no-tags --upload-pack="$uploadpack" agent "$head"
git cat-file -e "$head^{commit}"
git config user.name >/dev/null || set -- -c user.name=devaipod -c user.email=devaipod@localhost
git merge --ff-only -q "$head" 2>/dev/null || git "$@" merge --no-edit -q "$head"
git rev-parse HEAD
"""
# $1 the agent's repository (run in the agent's container: its own tree)
REJECT = r"""
set -eu
cd "$1"
git fetch -q workspace
git reset -q --hard "workspace/$(git -C "/mnt/main-workspace/${1##*/}" rev-parse --abbrev-ref HEAD)"
"""


class ReviewError(errors.DevaipodError):
    """Merge or reject refused or failed."""


def project_dir(name: str) -> str:
    labels = pod.inspect(name).get("Labels") or {}
    return f"/workspaces/{layout.read_label(labels, 'project') or ''}"


def sidecar(name: str):
    """The pod's API sidecar (its token from the state dir or the sidecar)."""
    from devaipod.agent.client import Client

    return Client.for_pod(name)


def load(name: str, api=None) -> dict:
    """The review: {base, head, branch, commits, files[, error]} (see podapi.git.review),
    with the record's ``sent`` (the comments sent since the last merge), ``history`` (the
    merged reviews, newest first), and each commit made since the last comments marked
    ``new``."""
    shown = (api or sidecar(name)).get("/git/review")
    record = reviewlog.read(name)
    shown["sent"], shown["history"] = record["open"], record["merged"][::-1]
    return comments.mark_new(shown, record["open"][-1]["head"] if record["open"] else None)


def agent_head(api) -> str | None:
    """Where the agent's branch is now, as the sidecar sees it."""
    return ((api.get("/git/status") or {}).get("agent") or {}).get("head")


def land(name: str, head: object, base: object, api=None) -> str:
    """Merge the reviewed range (HEAD onto BASE) if the agent's branch has not moved since
    the review; returns the workspace's new HEAD. A wrong range or a moved branch is a
    ReviewError; a sidecar that does not answer an AgentError."""
    head, base = check_range(head, base)
    new = merge(name, head, base, agent_head(api or sidecar(name)))
    reviewlog.add_merge(name, base, head, new)
    return new


def check_range(head: object, base: object) -> tuple[str, str]:
    if not (isinstance(head, str) and SHA.fullmatch(head) and isinstance(base, str)
            and SHA.fullmatch(base)):
        raise ReviewError("merge needs the reviewed range: head and base commit ids",
                          "load the review again, then merge")
    return head, base


def merge_argv(repo: str, head: str, base: str) -> list[str]:
    return ["sh", "-c", MERGE, "sh", repo, head, base, UPLOAD_PACK]


def merge(name: str, head: str, base: str, agent_head: str | None) -> str:
    """Merge the reviewed HEAD into the workspace (at BASE); returns its new HEAD.

    ``agent_head`` is where the agent's branch is now (from the sidecar)."""
    head, base = check_range(head, base)
    if agent_head != head:
        raise ReviewError(f"the agent's branch moved since the review (now at "
                          f"{(agent_head or 'nothing')[:12]}, reviewed {head[:12]})",
                          "load the review again, then merge")
    try:
        result = container.exec_capture(layout.container(name, "workspace"),
                                        merge_argv(project_dir(name), head, base),
                                        env={"GIT_NO_REPLACE_OBJECTS": "1"})
    except errors.CommandError as exc:
        raise ReviewError(f"merging {head[:12]} failed: {errors.last_line(exc.stderr)}",
                          "see the workspace's terminal (git status)") from None
    merged = result.stdout.strip().splitlines()[-1]
    trail.note(name, "review", action="merge", reviewed=head, base=base, merged=merged)
    return merged


def reject(name: str) -> None:
    """Reset the agent's branch to the workspace's."""
    try:
        container.exec_capture(layout.container(name, "agent"),
                               ["sh", "-c", REJECT, "sh", project_dir(name)])
    except errors.CommandError as exc:
        raise ReviewError(f"resetting the agent's branch failed: "
                          f"{errors.last_line(exc.stderr)}") from None
    trail.note(name, "review", action="reject")
    reviewlog.close_open(name)


def send_comments(name: str, head: object, base: object, raw: object, api=None) -> dict:
    """Send the human's line comments on the reviewed range (BASE..HEAD) to the agent's
    session (its oldest root session, as `devaipod opencode send`) as ONE message, and
    record them; returns the round recorded ({time, base, head, comments})."""
    from devaipod.agent import task

    head, base = check_range(head, base)
    try:
        checked = comments.checked_all(raw)
    except comments.CommentError as exc:
        raise ReviewError(str(exc), "click a line of the diff, write, then send") from None
    api = api or sidecar(name)
    task.send(api, task.current_session(api), comments.message(checked, base, head))
    trail.note(name, "review", action="comments", reviewed=head, base=base,
               comments=len(checked))
    return reviewlog.add_round(name, base, head, [c.as_dict() for c in checked])
