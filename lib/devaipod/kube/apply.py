"""kubectl apply: objects sent on stdin (``-f -``), never on a command line: a
workspace's Secrets are among them."""

from __future__ import annotations

import json
from typing import Any

from devaipod.kube import kubectl
from devaipod.kube.kubectl import Cluster


def apply_argv() -> list[str]:
    return ["apply", "-f", "-"]


def document(objects: list[dict[str, Any]]) -> str:
    """OBJECTS as one ``v1 List`` (kubectl reads JSON as it reads YAML)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})


def apply(cluster: Cluster, objects: list[dict[str, Any]]) -> None:
    # under --dry-run the command is printed, never its input (it holds the secrets)
    kubectl.change(cluster, apply_argv(), input=document(objects))
