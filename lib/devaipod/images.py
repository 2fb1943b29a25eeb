"""The images devaipod uses by default."""

from __future__ import annotations

import os
from typing import Any

# The devcontainer image used when a project has none (built by `make images`).
DEVENV_IMAGE = "localhost/devaipod-devenv:latest"
# devaipod's own image: the daemon and every pod's api sidecar.
SELF_IMAGE = "ghcr.io/cgwalters/devaipod:latest"


def default_image(configured: str | None = None) -> str:
    return os.environ.get("DEVAIPOD_DEFAULT_IMAGE") or configured or DEVENV_IMAGE


def api_image(configured: str | None = None) -> str:
    return os.environ.get("DEVAIPOD_CONTAINER_IMAGE") or configured or SELF_IMAGE


def helper_image(sidecar: dict[str, Any] | None) -> str:
    """The image of a pod's short-lived helper containers (reading and writing its grants
    and its audit trail): that of SIDECAR (the pod's inspected api container; its image is
    on this machine), else devaipod's default image."""
    return ((sidecar or {}).get("ImageName") or "") or api_image()
