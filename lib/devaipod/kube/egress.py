"""``--egress allow-list`` on Kubernetes: the proxy's Pod, its Service and NetworkPolicy.

In podman the pod sits on an internal network whose only way out is the proxy container
``{pod}-egress`` (``workspace.egress``). Here the workspace Pod's NetworkPolicy
(``manifest.network_policy``) lets it reach only DNS and this proxy's Pod, through the
Service ``{pod}-egress`` that its ``HTTP_PROXY`` names; the proxy's own NetworkPolicy lets
only the workspace Pod in, which is what the proxy's ``--from SUBNET`` says in podman (so
``--from`` allows every address here). The proxy's ``--forward`` relays of the pod's
published ports are left out: the sidecar's Service reaches the Pod directly. The proxy
shares ReadWriteOnce claims with the workspace Pod (the audit trail, the workspace's tree
for the LLM hosts of its opencode.json), so it is scheduled on the same node.
"""

from __future__ import annotations

from collections.abc import Mapping

from devaipod import egressproxy, layout
from devaipod.kube import names
from devaipod.podman.container import Spec

HOSTNAME = "kubernetes.io/hostname"


def proxy_command(spec: Spec) -> list[str]:
    """The proxy's command without ``--forward`` relays, with ``--from`` every address."""
    out, it = [], iter(spec.command)
    for arg in it:
        if arg == "--forward":
            next(it, None)
        else:
            out.append(arg)
    return [*out, "--from", "0.0.0.0/0"]


def workspace_selector(pod: str) -> dict:
    return {"matchLabels": {layout.MANAGED: "true", layout.POD: pod, layout.ROLE: "pod"}}


def proxy_labels(pod: str) -> dict[str, str]:
    return {**layout.base_labels(pod), layout.ROLE: "egress"}


def affinity(pod: str) -> dict:
    """On the node of the workspace Pod (their claims are ReadWriteOnce)."""
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": workspace_selector(pod), "topologyKey": HOSTNAME}]}}


def service(pod: str, namespace: str | None) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": names.metadata(names.name(layout.container(pod, "egress")),
                                       layout.base_labels(pod), namespace),
            "spec": {"type": "ClusterIP", "selector": proxy_labels(pod),
                     "ports": [{"name": "proxy", "protocol": "TCP",
                                "port": egressproxy.PORT, "targetPort": egressproxy.PORT}]}}


def network_policy(pod: str, namespace: str | None) -> dict:
    """Only the workspace Pod reaches the proxy; the proxy reaches out (its list decides)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": names.metadata(names.name(layout.container(pod, "egress")),
                                       layout.base_labels(pod), namespace),
            "spec": {"podSelector": {"matchLabels": proxy_labels(pod)},
                     "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": workspace_selector(pod)}],
                                  "ports": [{"protocol": "TCP",
                                             "port": egressproxy.PORT}]}]}}


def proxy_pod(pod: str, container: dict, volumes: list[dict], namespace: str | None) -> dict:
    """The proxy's Pod: CONTAINER (made by ``manifest.part``) with its VOLUMES."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": names.metadata(names.name(layout.container(pod, "egress")),
                                       proxy_labels(pod), namespace),
            "spec": {"restartPolicy": "Always", "shareProcessNamespace": False,
                     "automountServiceAccountToken": False,
                     "enableServiceLinks": False, "affinity": affinity(pod),
                     "containers": [container], "volumes": volumes}}


def claims_of(container: Mapping, claims: Mapping[str, dict]) -> list[dict]:
    """The claim volumes (of CLAIMS, by name) that CONTAINER mounts."""
    wanted = [m["name"] for m in container.get("volumeMounts", [])]
    return [claims[n] for n in dict.fromkeys(wanted) if n in claims]
