"""Remove a workspace and everything it owns (pod, containers, volumes, secrets, and the
internal network of an allow-list workspace)."""

from __future__ import annotations

import logging
from contextlib import suppress

from devaipod import errors, layout, runner, sshconfig, state
from devaipod.podman import container, network, pod, secret, volume
from devaipod.workspace import reviewlog

log = logging.getLogger("devaipod")


def owned_by(pod_name: str) -> dict[str, list[str]]:
    label = f"{layout.POD}={pod_name}"
    return {
        # a pod's infra container goes with its pod (it carries the pod's labels)
        "containers": [c["Names"][0] for c in container.ps({"label": label})
                       if not c.get("IsInfra")],
        "volumes": [v["Name"] for v in volume.ls({"label": label})],
        "secrets": [secret.name_of(s) for s in secret.ls()
                    if secret.labels_of(s).get(layout.POD) == pod_name],
        "networks": [n["name"] for n in network.ls({"label": label})],
    }


def purge(pod_name: str, keep: set[str] | frozenset[str] = frozenset(), keep_pod: bool = False,
          containers: list[str] | tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Remove the pod and every object labelled as its own, but the volumes and secrets
    named in KEEP (and, KEEP_POD, the pod itself: only its containers go); CONTAINERS
    are removed too if there (podman's label look-up can miss a container that an exec
    just left); return what went."""
    removed: dict[str, list[str]] = {"pods": []}
    try:
        if not keep_pod:
            pod.rm(pod_name, force=True)
            removed["pods"].append(pod_name)
    except errors.NotFound:
        pass
    owned = {kind: [n for n in found if n not in keep]
             for kind, found in owned_by(pod_name).items()}
    owned["containers"] = sorted({*owned["containers"], *containers})
    container.rm(owned["containers"], force=True, ignore=True)
    volume.rm(owned["volumes"], force=True)
    secret.rm(owned["secrets"])
    if keep_pod:  # the pod still uses its network
        owned["networks"] = []
    for name in owned["networks"]:  # once the pod and its proxy are gone
        with suppress(errors.NotFound):
            network.rm(name, force=True)
    runner.local(state.forget_pod, pod_name)
    runner.local(reviewlog.forget, pod_name)
    runner.local(sshconfig.remove, pod_name)
    removed.update(owned)
    return removed
