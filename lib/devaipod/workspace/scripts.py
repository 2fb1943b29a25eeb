"""The shell scripts the init containers run to lay out the git trees.

Parameters go in as positional arguments (``sh -c SCRIPT sh ARG...``), never
interpolated into the script text.
"""

from __future__ import annotations

from devaipod.forges import NET_SH
from devaipod.layout import AGENT_UID

# $1 clone URL, $2 project dir name, $3 PR ref (or ""), $4 PR branch, $5 origin URL (or ""),
# $6 the `agent` remote's upload-pack (it serves the agent's tree from a trusted shadow),
# $7 $8 git_auth's user ("": no token) and URL prefix, $9 the PR's fork URL (or ""),
# $10 the PR's branch in the fork (or "")
CLONE_WORKSPACE = r"""
set -eu
url=$1 project=$2 pr_ref=$3 pr_branch=$4 origin=$5 uploadpack=$6 fork=$9 fork_branch=${10}
p=/workspaces/$project
git() { command git -c safe.directory='*' -c advice.detachedHead=false "$@"; }
@AUTH@git_auth "$7" "$8"
retry_lookup git clone --quiet "$url" "$p"
cd "$p"
if [ -n "$pr_ref" ]; then
  retry_lookup git fetch --quiet origin "+$pr_ref:refs/heads/$pr_branch"
  git checkout --quiet "$pr_branch"
fi
if [ -n "$fork" ]; then
  git remote add fork "$fork"
  if [ -n "$fork_branch" ]; then
    git config "branch.$pr_branch.remote" fork
    git config "branch.$pr_branch.merge" "refs/heads/$fork_branch"
  fi
fi
git symbolic-ref -q HEAD >/dev/null || git checkout --quiet -B devaipod-work
if [ -n "$origin" ]; then
  git remote set-url origin "$origin"
elif [ "$url" = /mnt/host-git ]; then
  git remote remove origin  # a local repository without a remote: nothing to point at
fi
git remote add agent "/mnt/agent-workspace/$project"
git config remote.agent.uploadpack "$uploadpack"
: > .git/devaipod-cloned  # the agent's init container, started meanwhile, waits for it
echo "cloned $(git rev-parse --abbrev-ref HEAD) at $(git rev-parse --short HEAD)"
""".replace("@AUTH@", NET_SH)

# $1 project dir name, $2 the stored task's instructions (or ""), $3 "worker" or "",
# $4 the gator's instructions (or ""), $5 the workspace's user (or ""), $6 the agent's uid,
# $7 "wait" when the workspace's clone is still being made (see ``waiting``);
# run as root: the agent's tree and home are given to the agent's user at the end
CLONE_AGENT = r"""
set -eu
project=$1 task=$2 worker=$3 gator=$4 wsuser=$5 uid=$6 wait=${7:-}
if [ -n "$wsuser" ] && [ "$(id -u "$wsuser" 2>/dev/null || echo "$wsuser")" = "$uid" ]; then
  echo "the workspace's user $wsuser has uid $uid, the agent's: git in the workspace" \
       "could not tell the agent's repository from its own" >&2
  exit 3
fi
p=/workspaces/$project m=/mnt/main-workspace/$project
if [ -n "$wait" ]; then  # for the workspace's clone, made at the same time (10 min at most)
  n=0
  until [ -e "$m/.git/devaipod-cloned" ]; do
    n=$((n + 1)); [ "$n" -le 6000 ] || { echo "the workspace's clone never finished" >&2; exit 4; }
    sleep 0.1
  done
fi
git() { command git -c safe.directory='*' "$@"; }
git clone --quiet --shared "$m" "$p"
cd "$p"
git remote rename origin workspace
upstream=$(git -C "$m" remote get-url origin 2>/dev/null || true)
if [ -n "$upstream" ]; then git remote add origin "$upstream"; fi
if [ -n "$worker" ]; then git remote add worker "/mnt/worker-workspace/$project"; fi
home=/home/devenv
mkdir -p "$home/.config/opencode" "$home/.local/share" "$home/.cache"
if [ ! -e "$home/.gitconfig" ]; then
  printf '[user]\n\tname = devaipod agent\n\temail = agent@devaipod.invalid\n' \
    > "$home/.gitconfig"
  printf '[safe]\n\tdirectory = *\n' >> "$home/.gitconfig"
fi
if [ -n "$task" ]; then printf '%s' "$task" > "$home/.config/opencode/devaipod-task.md"; fi
if [ -n "$gator" ]; then printf '%s' "$gator" > "$home/.config/opencode/devaipod-gator.md"; fi
chown -R "$uid:$uid" /workspaces "$home"
echo "agent tree ready on $(git rev-parse --abbrev-ref HEAD)"
"""


# installed in the workspace as /run/devaipod-bin/opencode-connect
OPENCODE_CONNECT = r"""#!/bin/sh
# opencode-connect: OpenCode's TUI on this pod's agent, in its oldest root session
url=$OPENCODE_AGENT_URL  # set in the workspace: the agent's OpenCode in the pod
case " $* " in *" -s "*|*" --session "*) exec opencode attach "$url" "$@" ;; esac
sid=$(curl -sf -u "opencode:$OPENCODE_SERVER_PASSWORD" "$url/session" | python3 -c '
import json, sys
roots = [s for s in json.load(sys.stdin) if not s.get("parentID")]
roots.sort(key=lambda s: s["time"]["created"])
print(roots[0]["id"] if roots else "")' 2>/dev/null)
if [ -n "$sid" ]; then
  echo "Continuing session: $sid"
  exec opencode attach "$url" --session "$sid" "$@"
fi
exec opencode attach "$url" "$@"
"""


def clone_workspace_argv(url: str, project: str, pr_ref: str | None,
                         pr_branch: str | None, origin: str | None,
                         uploadpack: str, auth: tuple[str, str] = ("", ""),
                         fork: tuple[str, str] | None = None) -> list[str]:
    """AUTH: git_auth's (user, URL prefix); FORK: the PR head's (repository URL, branch)."""
    return ["sh", "-c", CLONE_WORKSPACE, "sh", url, project, pr_ref or "", pr_branch or "",
            origin or "", uploadpack, *auth, *(fork or ("", ""))]


def clone_agent_argv(project: str, task_text: str | None = None,
                     worker: bool = False, gator_text: str | None = None,
                     workspace_user: str | None = None) -> list[str]:
    return ["sh", "-c", CLONE_AGENT, "sh", project, task_text or "", "worker" if worker else "",
            gator_text or "", workspace_user or "", str(AGENT_UID)]


def waiting(command: list[str]) -> list[str]:
    """The agent's init COMMAND (``clone_agent_argv``) that first waits until the
    workspace's clone, made at the same time, is done."""
    return [*command, "wait"]
