"""SSH configs for editors: ``ssh devaipod-NAME`` reaches the workspace container.

One file per workspace, named like its pod, mode 0600, with ``Host`` blocks
``{pod}`` (the workspace container), ``{pod}-agent`` and, with a worker,
``{pod}-worker``; each has ``devaipod exec [-W|--worker] --stdio`` as its
ProxyCommand (see ``sshserver``). The directory is ``$DEVAIPOD_SSH_CONFIG_DIR``,
else ``/run/devaipod-ssh`` when it exists (the daemon container with the
host's ``~/.ssh/config.d/devaipod`` mounted there; the ProxyCommand then goes
through ``podman exec -i devaipod``), else ``~/.ssh/config.d/devaipod`` on
the host. ``~/.ssh/config`` needs ``Include config.d/devaipod/*`` at its top.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path

from devaipod import layout
from devaipod.state import in_container, write_private

log = logging.getLogger("devaipod")

EXPORT_DIR = Path("/run/devaipod-ssh")
MARK = "# devaipod instance:"
ROLE_FLAGS = {"workspace": ["-W"], "agent": [], "worker": ["--worker"]}


def config_dir() -> Path | None:
    """Where configs go; None in the daemon container without the export mount."""
    if os.environ.get("DEVAIPOD_SSH_CONFIG_DIR"):
        return Path(os.environ["DEVAIPOD_SSH_CONFIG_DIR"])
    if EXPORT_DIR.is_dir():
        return EXPORT_DIR
    if in_container():
        return None  # no ssh client of the host would read it
    return Path.home() / ".ssh" / "config.d" / "devaipod"


def proxy_command(pod: str, role: str) -> str:
    from devaipod.podman import connection

    if in_container():
        prefix = ["podman", "exec", "-i", "devaipod", "devaipod"]
    else:
        prefix = [sys.executable, "-m", "devaipod", "--url", connection.url()]
    return shlex.join([*prefix, "exec", *ROLE_FLAGS[role], "--stdio", pod])


def text(pod: str, worker: bool = False, user: str | None = None) -> str:
    user = user or os.environ.get("USER") or "root"
    lines = [f"# written by devaipod for the workspace {layout.short(pod)}",
             f"{MARK} {layout.instance() or ''}".rstrip()]
    roles = [("workspace", pod), ("agent", f"{pod}-agent")]
    if worker:
        roles.append(("worker", f"{pod}-worker"))
    for role, alias in roles:
        lines += [f"Host {alias}", f"  HostName {alias}", f"  User {user}",
                  f"  ProxyCommand {proxy_command(pod, role)}",
                  "  StrictHostKeyChecking no", "  UserKnownHostsFile /dev/null",
                  "  LogLevel ERROR", ""]
    return "\n".join(lines)


def write(pod: str, worker: bool = False, user: str | None = None) -> Path | None:
    """Write the workspace's config (atomically); its path, or None if there is no place."""
    directory = config_dir()
    if directory is None:
        return None
    path = directory / pod
    write_private(path, text(pod, worker, user))
    return path


def remove(pod: str) -> None:
    directory = config_dir()
    if directory is not None:
        (directory / pod).unlink(missing_ok=True)


def stale(live: set[str]) -> list[Path]:
    """This instance's configs whose workspace is gone."""
    directory = config_dir()
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in directory.glob(f"{layout.PREFIX}*"):
        try:
            mine = f"{MARK} {layout.instance() or ''}".rstrip() in path.read_text().splitlines()
        except OSError:
            continue
        if mine and path.name not in live:
            found.append(path)
    return found
