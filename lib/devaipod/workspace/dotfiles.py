"""Dotfiles (``[dotfiles] url``): the user's OpenCode config, AGENTS.md, shell setup.

Two clones, so that the agent can never change what runs in the trusted
workspace: one in the agent's home (installed there before the agent
starts), one in the workspace volume at ``/workspaces/.devaipod-dotfiles``
(installed in the workspace container once the pod runs). The install step
is the repository's script (``[dotfiles] script``, else ``install.sh``, else
``install-dotfiles.sh``), else a copy of its ``dotfiles/`` tree (or of the
whole checkout) into ``$HOME`` that keeps existing files.
"""

from __future__ import annotations

from devaipod import layout
from devaipod.podman.container import Spec

WORKSPACE_CHECKOUT = "/workspaces/.devaipod-dotfiles"
AGENT_CHECKOUT = "/home/devenv/.dotfiles"

# $1 url, $2 checkout dir
CLONE = r"""
set -eu
url=$1 dir=$2
rm -rf "$dir"
git -c safe.directory='*' clone --quiet --depth 1 "$url" "$dir" 2>/dev/null \
  || git -c safe.directory='*' clone --quiet "$url" "$dir"
echo "dotfiles at $(git -C "$dir" rev-parse --short HEAD)"
"""

# $1 checkout dir, $2 script name (or "")
INSTALL = r"""
set -eu
dir=$1 script=$2
cd "$dir"
for s in "$script" install.sh install-dotfiles.sh; do
  if [ -n "$s" ] && [ -f "$s" ]; then exec sh "./$s"; fi
done
src=.
[ -d dotfiles ] && src=dotfiles
(cd "$src" && find . -path ./.git -prune -o -type f -print) | while read -r f; do
  f=${f#./}
  [ -e "$HOME/$f" ] && continue
  mkdir -p "$HOME/$(dirname "$f")"
  cp -p "$src/$f" "$HOME/$f"
done
echo "dotfiles copied into $HOME"
"""


def install_argv(checkout: str, script: str | None) -> list[str]:
    return ["sh", "-c", INSTALL, "sh", checkout, script or ""]


def init_spec(pod: str, image: str, url: str, script: str | None, network: str | None,
              labels: dict[str, str]) -> Spec:
    """Clone for both sides, and install into the agent's home, before anything starts."""
    steps = (f'sh -c "$0" sh "$1" {WORKSPACE_CHECKOUT} && sh -c "$0" sh "$1" {AGENT_CHECKOUT}'
             f' && HOME=/home/devenv sh -c "$2" sh {AGENT_CHECKOUT} "$3"'
             f' && chown -R {layout.AGENT_USER} /home/devenv')  # the agent's home is the agent's
    return Spec(
        name=f"{pod}-init-dotfiles", image=image, entrypoint="", network=network, user="0",
        labels=labels,
        mounts=[f"{layout.volume(pod, 'workspace')}:/workspaces",
                f"{layout.volume(pod, 'agent-home')}:/home/devenv"],
        command=["sh", "-c", steps, CLONE, url, INSTALL, script or ""],
    )
