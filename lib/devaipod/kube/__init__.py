"""Kubernetes: a workspace's plan as Kubernetes objects (``manifest``) and the backend that
applies them with kubectl."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devaipod.context import Context
    from devaipod.kube.backend import Kubernetes


def active(ctx: Context) -> Kubernetes | None:
    """The backend CTX's workspaces live in: a Kubernetes one, or None (podman). The
    backend's modules are imported only when it is the one: podman's verbs do not pay for
    them."""
    if ctx.backend_kind != "kubernetes":
        return None
    from devaipod.kube.backend import Kubernetes

    return Kubernetes.of(ctx)
