"""A workspace's start and stop, done mark and title, and pruning: the one way of the CLI,
the web and the TUI."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable

from devaipod import layout
from devaipod.podman import pod, volume
from devaipod.workspace import lookup


def start(workspace: str) -> None:
    """Start the pod, then run the devcontainer's postStartCommand again."""
    from devaipod import devcontainer
    from devaipod.workspace import create, egress, plan

    egress.start(workspace)  # an allow-list pod's only way out, outside the pod
    pod.start(workspace)
    labels = pod.inspect(workspace).get("Labels") or {}
    label = layout.read_label(labels, "post-start")
    entries = json.loads(label) if label else []
    roles = (layout.read_label(labels, "lifecycle-in") or "workspace,agent").split(",")
    parallel = devcontainer.parallel(entries)
    create.run_steps([
        plan.Step(f"{name} ({role})", layout.container(workspace, role), argv,
                  group=f"postStartCommand ({role})" if parallel else None)
        for role in ("workspace", "agent") if role in roles for name, argv in entries])


def stop(workspace: str, timeout: int | None = None) -> None:
    """Stop the pod, then an allow-list pod's proxy (outside the pod)."""
    from devaipod.workspace import egress

    pod.stop(workspace, timeout)
    egress.stop(workspace, timeout)


def mark_done(workspace: str, done: bool = True) -> None:
    """The mark is a volume labelled io.devaipod.done: `list` sees it in one podman call."""
    marker = layout.volume(workspace, "done")
    if not done:
        volume.rm([marker], force=True)
    elif not volume.exists(marker):
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        volume.create(marker, labels={**layout.base_labels(workspace), layout.MARK: "done",
                                      layout.DONE: now})


def set_title(workspace: str, title: str) -> str:
    """Give the workspace a new title (the label it was made with stays as it was): a
    volume labelled io.devaipod.title, replaced on each change; an empty title removes it."""
    from devaipod.workspace.request import check_title

    title = check_title(title)  # as `up --title`
    marker = layout.volume(workspace, "title")
    volume.rm([marker], force=True)
    if title:
        volume.create(marker, labels={**layout.base_labels(workspace), layout.MARK: "title",
                                      layout.TITLE: title})
    return title


def prunable() -> list[lookup.Row]:
    """The workspaces `devaipod prune` deletes: those marked done."""
    return [r for r in lookup.rows() if r.done]


def prune(only: Iterable[str] | None = None) -> list[str]:
    """Delete the workspaces marked done (of ONLY, if given: a name there that is not,
    or no longer, done stays), with their volumes and secrets; return their names."""
    from devaipod.workspace import remove

    names = [r.name for r in prunable()]
    if only is not None:
        wanted = set(only)
        names = [n for n in names if n in wanted]
    for name in names:
        remove.purge(name)
    return names
