"""A workspace's audit trail through podman: where it is mounted, how it is read and added to.

The volume ``{pod}-audit`` is mounted read-write in the gator (which notes
every tool call) and the sidecar (through which the control plane notes what
a human did: grants, revokes, merges, rejects, recreates, deletes); never in
the agent, the worker or the workspace. While the sidecar runs, the trail is
read and written with ``podman exec`` into it; while the pod is stopped, with
a short-lived container of the sidecar's image that mounts the volume (as
``workspace.gator`` reads and writes the grants).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from devaipod import audit, errors, layout, podman, runner
from devaipod.podman import container, volume
from devaipod.podman.container import Spec

log = logging.getLogger("devaipod")

# $1: one line of the trail (ASCII JSON, no newline): appended in one write
APPEND = f'umask 027; printf "%s\\n" "$1" >> {audit.FILE}'


def volume_name(pod: str) -> str:
    return layout.volume(pod, "audit")


def mount(pod: str) -> str:
    return f"{volume_name(pod)}:{audit.DIR}"


def _running(sidecar: dict[str, Any] | None) -> bool:
    return bool(sidecar and (sidecar.get("State") or {}).get("Running"))


def _argv(pod: str, command: list[str], readonly: bool) -> list[str]:
    """COMMAND run where the trail is: in the sidecar, or in a container of its own."""
    from devaipod import images
    from devaipod.workspace import lookup

    sidecar = lookup.sidecar(pod)
    if _running(sidecar):
        return container.exec_argv(layout.container(pod, "api"), command)
    if not volume.exists(volume_name(pod)):
        raise errors.DevaipodError(
            f"workspace {layout.short(pod)} has no audit trail",
            "it was made before devaipod kept one; 'devaipod rebuild' starts one")
    spec = Spec(name=f"{pod}-audit-{secrets.token_hex(3)}", image=images.helper_image(sidecar),
                network="none", entrypoint="", labels=layout.base_labels(pod),
                mounts=[mount(pod) + (":ro" if readonly else "")], command=command,
                security=["--cap-drop", "ALL"])
    return container.run_argv(spec)


def note(pod: str, kind: str, **fields: Any) -> None:
    """Add what a human did through devaipod to POD's trail; a trail that cannot be
    written is a warning, not a failure of the action."""
    line = audit.line(audit.event(kind, "devaipod", **fields)).rstrip("\n")
    try:
        podman.change(_argv(pod, ["sh", "-c", APPEND, "sh", line], readonly=False))
    except errors.DevaipodError as exc:
        log.warning("the audit trail of %s was not written: %s", layout.short(pod),
                    exc.format_message())


def read(pod: str) -> list[dict[str, Any]]:
    """Every event of POD's trail, oldest first."""
    argv = _argv(pod, ["sh", "-c", f"cat {audit.FILE} 2>/dev/null || true"], readonly=True)
    return list(audit.parse(podman.capture(argv).stdout.splitlines()))


def follow(pod: str, on_event: Callable[[dict[str, Any]], None]) -> int:
    """Pass each event of POD's trail to ON_EVENT, then each new one as it is written
    (while the sidecar runs); returns when the sidecar stops or on Ctrl-C."""
    from devaipod.workspace import lookup

    if not _running(lookup.sidecar(pod)):
        for ev in read(pod):
            on_event(ev)
        return 0
    argv = container.exec_argv(layout.container(pod, "api"),
                               ["tail", "-n", "+1", "-F", audit.FILE])

    def one(text: str) -> None:
        ev = audit.parse_line(text)
        if ev is not None:
            on_event(ev)

    return runner.watch(podman.argv(argv), one, lines="stdout").returncode
