"""[bind_home]: files of the host's $HOME copied into the pod's containers.

Host mode only: inside the devaipod container, $HOME is the container's, not
the user's, so any configured path is an error there. ``[bind_home]`` paths
go to the workspace (under its user's $HOME) and to the agent and worker
(under /home/devenv); ``[bind_home_workspace]`` paths to the workspace only.
Each copy is owned by whoever owns the home it lands in.
"""

from __future__ import annotations

import logging
import os
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devaipod import errors, layout, podman
from devaipod.podman import container

if TYPE_CHECKING:
    from devaipod.config import Config

log = logging.getLogger("devaipod")

ADC = ".config/gcloud/application_default_credentials.json"
AGENT_HOME = "/home/devenv"
# $1 the home, $2 the copy: give the copy to the home's owner
CHOWN = 'chown -R "$(stat -c %u:%g "$1")" "$2"'


@dataclass(frozen=True)
class Copy:
    source: str  # absolute host path
    container: str
    rel: str  # path under the home
    home: str | None = None  # None: the container user's $HOME


def _checked(rel: str, home: str) -> str | None:
    if os.path.isabs(rel) or ".." in rel.split("/"):
        raise errors.DevaipodError(f"[bind_home] path {rel!r} must be relative to $HOME",
                                   "e.g. .config/gcloud/application_default_credentials.json")
    source = os.path.join(home, rel)
    if not os.path.exists(source):
        log.warning("[bind_home] %s does not exist; not copied", source)
        return None
    return source


def plan(pod: str, cfg: Config, *, in_container: bool, worker: bool,
         home: str | None = None) -> list[Copy]:
    both, workspace_only = cfg.bind_home.paths, cfg.bind_home_workspace.paths
    if in_container and (both or workspace_only):
        raise errors.DevaipodError(
            "[bind_home] works only when devaipod runs on the host, not in its container",
            "give the files as [trusted] secrets or file_secrets instead")
    home = home or os.path.expanduser("~")
    agents = [layout.container(pod, "agent")] + ([layout.container(pod, "worker")]
                                                 if worker else [])
    copies = []
    for rel in both:
        if source := _checked(rel, home):
            copies.append(Copy(source, layout.container(pod, "workspace"), rel))
            copies += [Copy(source, name, rel, AGENT_HOME) for name in agents]
    for rel in workspace_only:
        if source := _checked(rel, home):
            copies.append(Copy(source, layout.container(pod, "workspace"), rel))
    return copies


def agent_env(copies: list[Copy]) -> dict[str, str]:
    """GOOGLE_APPLICATION_CREDENTIALS for the agent and worker when the ADC file comes in."""
    if any(c.rel == ADC and c.home == AGENT_HOME for c in copies):
        return {"GOOGLE_APPLICATION_CREDENTIALS": f"{AGENT_HOME}/{ADC}"}
    return {}


def carry_out(c: Copy) -> None:
    """Copy into the running container: make the parent, copy, give it to the home's owner."""
    home = c.home
    if home is None:  # the workspace user's (a dry run made no container to ask)
        home = podman.capture(container.exec_argv(c.container, ["sh", "-c", 'printf %s "$HOME"']),
                              planned="$HOME").stdout.strip() or "/root"
    dest = posixpath.join(home, c.rel)
    log.info("copying ~/%s into %s", c.rel, c.container)
    podman.change(container.exec_argv(c.container, ["mkdir", "-p", posixpath.dirname(dest)],
                                      user="0"))
    podman.change(container.cp_argv(c.source, c.container, dest))
    podman.change(container.exec_argv(c.container, ["sh", "-c", CHOWN, "sh", home, dest],
                                      user="0"))
