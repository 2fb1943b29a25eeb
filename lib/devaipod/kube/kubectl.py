"""kubectl, always as ``kubectl [--context C] [--namespace N] ARGS``.

Like ``devaipod.podman`` for podman: each noun module (pod, secret, apply, delete,
portforward) holds pure ``*_argv`` builders returning the arguments after the base,
and this module runs them through ``devaipod.runner`` (the one module that runs
commands). The cluster (context and namespace) is a :class:`Cluster` passed in from
the caller's configuration; nothing here reads settings itself.
"""

from __future__ import annotations

import json as _json
from dataclasses import dataclass
from typing import Any

from devaipod import layout, runner


@dataclass(frozen=True)
class Cluster:
    """Where the workspaces live: a kubeconfig context (None: the current one) and a
    namespace (None: the context's own)."""

    context: str | None = None
    namespace: str | None = None


def base(cluster: Cluster) -> list[str]:
    """``kubectl`` with the cluster's global options."""
    out = ["kubectl"]
    if cluster.context:
        out += ["--context", cluster.context]
    if cluster.namespace:
        out += ["--namespace", cluster.namespace]
    return out


def argv(cluster: Cluster, args: list[str]) -> list[str]:
    return [*base(cluster), *args]


def selector(pod: str | None = None, role: str | None = None) -> str:
    """The label selector of this instance's objects (of one workspace, POD; of one ROLE,
    e.g. ``pod``: the workspace Pods, not their egress proxies'): what
    ``layout.in_instance`` says for podman, as one ``-l`` value (an unset instance sees
    only objects without the instance label)."""
    parts = [f"{layout.MANAGED}=true"]
    name = layout.instance()
    parts.append(f"{layout.INSTANCE}={name}" if name else f"!{layout.INSTANCE}")
    if pod:
        parts.append(f"{layout.POD}={pod}")
    if role:
        parts.append(f"{layout.ROLE}={role}")
    return ",".join(parts)


def capture(cluster: Cluster, args: list[str], **kwargs: Any) -> runner.Result:
    return runner.capture(argv(cluster, args), **kwargs)


def change(cluster: Cluster, args: list[str], **kwargs: Any) -> runner.Result:
    """A kubectl command that changes something (printed under --dry-run)."""
    return runner.capture(argv(cluster, args), mutating=True, **kwargs)


def json(cluster: Cluster, args: list[str], **kwargs: Any) -> Any:
    """A read-only kubectl command whose stdout is JSON (None when empty)."""
    out = capture(cluster, args, **kwargs).stdout.strip()
    return _json.loads(out) if out else None


def stream(cluster: Cluster, args: list[str], **kwargs: Any) -> int:
    return runner.stream(argv(cluster, args), **kwargs)
