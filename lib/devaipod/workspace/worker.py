"""The opt-in worker (``[orchestration] enabled = true``): a second OpenCode.

The worker has its own clone (dissociated from the agent's, so it cannot be
broken by the agent's tree) and its own home; the agent sees the worker's
tree read-only as the remote ``worker``, the worker sees the agent's as
``owner``. It gets the LLM keys like the agent, never trusted credentials.

Its OpenCode has a password of its own (``{pod}-worker-opencode-password``),
which the agent (as ``OPENCODE_WORKER_PASSWORD``, to drive it) and the
sidecar (to keep it connected to the gator) get too; the worker never gets
the agent's password.
"""

from __future__ import annotations

import secrets as _secrets

from devaipod import gitsafe, layout
from devaipod.podman.container import Spec
from devaipod.podman.secret import env_flag, with_env

WORKER_PORT = layout.WORKER_PORT

# $1 project dir name, $2 the git-shadow script (devaipod.gitsafe), $3 the agent's uid;
# run as root: the agent's tree is cloned from a shadow (nothing of its repository but
# its objects and branches is read), then tree and home are given to the agent's user
CLONE_WORKER = r"""
set -eu
project=$1 shadow_script=$2 uid=$3
p=/workspaces/$project o=/mnt/owner-workspace/$project
git() { command git -c safe.directory='*' "$@"; }
sh -c "$shadow_script" git-shadow make /tmp/owner-shadow "$o"
git clone --quiet --no-local /tmp/owner-shadow "$p"
rm -rf /tmp/owner-shadow
cd "$p"
git remote rename origin owner
git remote set-url owner "$o"
upstream=$(git -C "/mnt/main-workspace/$project" remote get-url origin 2>/dev/null || true)
if [ -n "$upstream" ]; then git remote add origin "$upstream"; fi
home=/home/devenv
mkdir -p "$home/.config/opencode" "$home/.local/share" "$home/.cache"
printf '[user]\n\tname = devaipod worker\n\temail = worker@devaipod.invalid\n' \
  > "$home/.gitconfig"
printf '[safe]\n\tdirectory = *\n' >> "$home/.gitconfig"
chown -R "$uid:$uid" /workspaces "$home"
echo "worker tree ready on $(git rev-parse --abbrev-ref HEAD)"
"""


config_secret = layout.worker_config_secret


def new_password() -> str:
    return _secrets.token_hex(16)


PASSWORD_VAR = "OPENCODE_WORKER_PASSWORD"  # the worker's password, in the agent and sidecar


def password_flag(pod: str) -> list[str]:
    """The worker's password as ``OPENCODE_WORKER_PASSWORD`` (the agent, the sidecar)."""
    return env_flag(layout.worker_password_secret(pod), PASSWORD_VAR)


def mounts(pod: str) -> list[str]:
    return [f"{layout.volume(pod, 'worker-workspace')}:/workspaces",
            f"{layout.volume(pod, 'worker-home')}:/home/devenv",
            f"{layout.volume(pod, 'agent-workspace')}:/mnt/owner-workspace:ro",
            f"{layout.volume(pod, 'workspace')}:/mnt/main-workspace:ro"]


def init_worker(pod: str, image: str, project: str, labels: dict[str, str]) -> Spec:
    return Spec(name=f"{pod}-init-worker", image=image, network="none", entrypoint="",
                user="0", labels=labels, mounts=mounts(pod),
                command=["sh", "-c", CLONE_WORKER, "sh", project, gitsafe.SCRIPT,
                         str(layout.AGENT_UID)])


def worker(pod: str, image: str, project: str, env: dict[str, str],
           secrets: list[list[str]], labels: dict[str, str],
           security: list[str] | None = None) -> Spec:
    cmd = ["opencode", "serve", "--port", str(WORKER_PORT), "--hostname", "127.0.0.1"]
    return Spec(
        name=layout.container(pod, "worker"), image=image, pod=pod, entrypoint="",
        user=layout.AGENT_USER, command=with_env(cmd), workdir=f"/workspaces/{project}",
        env=env, labels=labels,
        secrets=[env_flag(layout.worker_password_secret(pod), "OPENCODE_SERVER_PASSWORD"),
                 env_flag(config_secret(pod), "OPENCODE_CONFIG_CONTENT"), *secrets],
        mounts=mounts(pod), security=list(security or []),
    )
