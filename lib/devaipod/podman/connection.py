"""Which podman service devaipod talks to.

devaipod always runs ``podman --remote --url URL``. The URL comes from, in
order: ``--url``, ``DEVAIPOD_PODMAN_URL``, ``CONTAINER_HOST``, the rootless
socket ``$XDG_RUNTIME_DIR/podman/podman.sock`` when it exists, and finally
the rootful ``/run/podman/podman.sock``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

ROOTFUL_SOCKET = "/run/podman/podman.sock"

_explicit: str | None = None


def set_url(url: str | None) -> None:
    global _explicit
    _explicit = url


def as_url(value: str) -> str:
    """A socket path or URL as a podman URL (``unix:///path``)."""
    if "://" in value:
        return value
    return "unix://" + os.path.abspath(value)


def resolve(
    explicit: str | None = None,
    env: Mapping[str, str] = os.environ,
    exists: Callable[[str], bool] = os.path.exists,
) -> tuple[str, str]:
    """Return (url, where it came from)."""
    if explicit:
        return as_url(explicit), "--url"
    for var in ("DEVAIPOD_PODMAN_URL", "CONTAINER_HOST"):
        if env.get(var):
            return as_url(env[var]), var
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        sock = os.path.join(runtime, "podman", "podman.sock")
        if exists(sock):
            return as_url(sock), "XDG_RUNTIME_DIR"
    return as_url(ROOTFUL_SOCKET), "default"


def url() -> str:
    return resolve(_explicit)[0]


def socket_path(podman_url: str) -> str | None:
    """The filesystem path of a unix:// URL, else None."""
    if podman_url.startswith("unix://"):
        return podman_url[len("unix://"):]
    return None
