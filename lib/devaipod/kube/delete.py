"""kubectl delete: a workspace's objects by label, in one command."""

from __future__ import annotations

from devaipod.kube import kubectl
from devaipod.kube.kubectl import Cluster

# what a workspace is made of (kube.manifest.objects): all go when it goes
KINDS = ("pods", "services", "networkpolicies", "secrets", "persistentvolumeclaims")


def by_label_argv(selector: str, kinds: tuple[str, ...] = KINDS,
                  wait: bool = True) -> list[str]:
    """Every object of KINDS with the labels of SELECTOR; none there is no error."""
    return ["delete", ",".join(kinds), "-l", selector, "--ignore-not-found",
            f"--wait={'true' if wait else 'false'}", "-o", "name"]


def by_label(cluster: Cluster, selector: str, wait: bool = True) -> dict[str, list[str]]:
    """Delete them; what was deleted, by kind (``{"pods": [NAME], "secrets": [...]}``)."""
    out = kubectl.change(cluster, by_label_argv(selector, wait=wait), timeout=300).stdout
    return deleted(out)


def deleted(out: str) -> dict[str, list[str]]:
    """kubectl's ``-o name`` lines (``pod/NAME``, ``secret/NAME``) by kind, in the words
    of podman's ``delete --json`` (pods, secrets, ...)."""
    found: dict[str, list[str]] = {}
    for line in out.split():
        kind, _, name = line.partition("/")
        kind = kind.split(".")[0]  # networkpolicy.networking.k8s.io
        found.setdefault(kind[:-1] + "ies" if kind.endswith("y") else kind + "s",
                         []).append(name)
    return found
