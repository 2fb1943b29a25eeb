"""Remove a workspace and everything it owns (pod, containers, volumes, secrets)."""

from __future__ import annotations

import logging

from devaipod import errors, layout, runner, sshconfig, state
from devaipod.podman import container, pod, secret, volume

log = logging.getLogger("devaipod")


def owned_by(pod_name: str) -> dict[str, list[str]]:
    label = f"{layout.POD}={pod_name}"
    return {
        "containers": [c["Names"][0] for c in container.ps({"label": label})],
        "volumes": [v["Name"] for v in volume.ls({"label": label})],
        "secrets": [secret.name_of(s) for s in secret.ls()
                    if secret.labels_of(s).get(layout.POD) == pod_name],
    }


def purge(pod_name: str, keep: set[str] | frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Remove the pod and every object labelled as its own, but the volumes and secrets
    named in KEEP; return what went."""
    removed: dict[str, list[str]] = {"pods": []}
    try:
        pod.rm(pod_name, force=True)
        removed["pods"].append(pod_name)
    except errors.NotFound:
        pass
    owned = {kind: [n for n in found if n not in keep]
             for kind, found in owned_by(pod_name).items()}
    container.rm(owned["containers"], force=True)
    volume.rm(owned["volumes"], force=True)
    secret.rm(owned["secrets"])
    runner.local(state.forget_pod, pod_name)
    runner.local(sshconfig.remove, pod_name)
    removed.update(owned)
    return removed
