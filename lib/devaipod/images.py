"""The images devaipod uses by default."""

from __future__ import annotations

import os

# The devcontainer image used when a project has none (built by `make images`).
DEVENV_IMAGE = "localhost/devaipod-devenv:latest"
# devaipod's own image: the daemon and every pod's api sidecar.
SELF_IMAGE = "ghcr.io/cgwalters/devaipod:latest"


def default_image(configured: str | None = None) -> str:
    return os.environ.get("DEVAIPOD_DEFAULT_IMAGE") or configured or DEVENV_IMAGE


def api_image(configured: str | None = None) -> str:
    return os.environ.get("DEVAIPOD_CONTAINER_IMAGE") or configured or SELF_IMAGE
