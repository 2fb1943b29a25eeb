"""kubectl on secrets: reading one value (the pod's API token), never writing one on a
command line (they are made by ``kube.apply``, on stdin)."""

from __future__ import annotations

import base64

from devaipod import errors
from devaipod.kube import kubectl
from devaipod.kube.kubectl import Cluster


def get_argv(name: str) -> list[str]:
    return ["get", "secret", name, "-o", "json"]


def value(cluster: Cluster, name: str, key: str) -> str:
    """Data KEY of secret NAME, decoded."""
    data = (kubectl.json(cluster, get_argv(name)) or {}).get("data") or {}
    if key not in data:
        raise errors.DevaipodError(f"secret {name} has no {key}",
                                   "recreate the workspace ('devaipod delete', then 'up')")
    return base64.b64decode(data[key]).decode()
