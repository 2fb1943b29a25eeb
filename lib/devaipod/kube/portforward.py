"""kubectl port-forward: a local port to a workspace's sidecar, for the CLI outside the
cluster (``devaipod run`` sends its task through it). Inside the cluster the Service's
DNS name is used instead (kube.backend.Kubernetes.client)."""

from __future__ import annotations

import atexit
import re

from devaipod import errors, runner
from devaipod.kube import kubectl
from devaipod.kube.kubectl import Cluster

_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


def forward_argv(service: str, port: int) -> list[str]:
    """Service SERVICE's PORT on a free local port of 127.0.0.1 (kubectl picks it)."""
    return ["port-forward", "--address", "127.0.0.1", f"service/{service}", f":{port}"]


def local_port(line: str) -> int | None:
    """The local port of kubectl's first line ("Forwarding from 127.0.0.1:N -> P")."""
    found = _FORWARDING.match(line.strip())
    return int(found[1]) if found else None


def start(cluster: Cluster, service: str, port: int) -> int:
    """Start the forward (it ends when this process does); its local port."""
    proc = runner.spawn(kubectl.argv(cluster, forward_argv(service, port)))
    atexit.register(proc.terminate)
    first = proc.stdout.readline().decode(errors="replace")
    found = local_port(first)
    if found is None:
        proc.terminate()
        stderr = proc.stderr.read().decode(errors="replace")
        raise errors.classify(kubectl.argv(cluster, forward_argv(service, port)),
                              proc.wait() or 1, stderr or first)
    return found
