"""A workspace's plan (``workspace.plan.build``, the one ``up`` carries out with podman) as
Kubernetes objects: ``objects(plan)``, pure.

One plan is one Pod, as it is one podman pod: its containers (workspace, agent, api, and
gator, worker) share the Pod's network namespace and volumes; the plan's init containers
(the clones, the gator's grants, the dotfiles, the worker's clone) are its
``initContainers``, in the plan's order (podman runs them in that order before the pod
starts, as Kubernetes does). Around it:

- a Secret per container and directory of podman secret files (``secretfiles``: why);
  no secret's value is anywhere else, and never an environment variable's literal value;
- a PersistentVolumeClaim per podman volume (ReadWriteOnce: one Pod uses them);
- a Service (ClusterIP, named as the Pod) for the sidecar's port alone: the one port
  podman publishes;
- a NetworkPolicy. It is the whole Pod's (a NetworkPolicy cannot tell a Pod's
  containers apart, as the pod's one network namespace cannot): ingress only to the
  sidecar's port; in ``--egress allow-list`` mode egress only to DNS and to the egress
  proxy's Pod, as the internal podman network allows only the proxy. A NetworkPolicy
  allows addresses, not host names: the allow-list itself stays the proxy's, whose Pod,
  Service and NetworkPolicy ``kube.egress`` makes. In ``open`` mode egress is not
  restricted, as in podman. The policies need a network plugin that enforces them.

Every object carries the podman labels of its podman counterpart (``names.labels``: a value
that cannot be a label's is an annotation's); the workspace Pod also ``io.devaipod.role=pod``,
which its Service and NetworkPolicy select (the proxy's Pod has the same
``io.devaipod.pod``). The Pod runs with no service account token
(the agent must not reach the cluster's API), no service links, no shared process
namespace, podman's capabilities and seccomp default, and no privilege escalation.

What podman does that has no Kubernetes form here (``containers`` names the flags) is
listed in ``convert(plan).not_mapped`` (`kube generate` logs it; not an annotation: podman
4.3.1's kube play refuses an annotation longer than 63 characters); besides those flags: the
after-start steps (devcontainer lifecycle commands, the dotfiles' install in the
workspace: ``podman exec`` once the pod runs), the ``[bind_home]`` copies, and published
ports other than the sidecar's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from devaipod import egressproxy, errors, layout
from devaipod.kube import containers, egress, names, secretfiles
from devaipod.podman.container import Spec
from devaipod.podman.secret import ENV_DIR
from devaipod.workspace.plan import API_PORT, Plan

SIZES = {"workspace": "20Gi", "agent-workspace": "20Gi", "worker-workspace": "20Gi",
         "agent-home": "5Gi", "worker-home": "5Gi"}
SMALL = "1Gi"  # the audit trail, the gator's grants, the proxy's list


def role(plan: Plan, spec: Spec) -> str:
    """A container's name in the Pod: its podman name without the pod's (``agent``,
    ``init-clone``)."""
    return names.name(spec.name.removeprefix(f"{plan.pod}-"))


def kind(plan: Plan, volume: str) -> str:
    """A podman volume's name in the Pod (``workspace``, ``agent-home``)."""
    return names.name(volume.removeprefix(f"{plan.pod}-"))


def volume_mounts(plan: Plan, spec: Spec) -> list[dict]:
    """SPEC's ``--volume`` mounts of the plan's volumes; a host path has no place on a
    cluster's node (a local repository, the ssh-agent's socket)."""
    out = []
    for mount in spec.mounts:
        source, dest, *opts = mount.split(":")
        if source.startswith("/"):
            raise errors.DevaipodError(
                f"{spec.name} mounts the host path {source}: a Kubernetes node does not "
                "have it", "give a repository's https URL (not a local path or ssh)")
        out.append({"name": kind(plan, source), "mountPath": dest,
                    **({"readOnly": True} if "ro" in opts else {})})
    return out


def part(plan: Plan, spec: Spec, external: Mapping[str, str], namespace: str | None,
         not_mapped: list[str]) -> tuple[dict, list[dict], list[dict]]:
    """(container, its own Pod volumes, its Secrets) of SPEC."""
    name = role(plan, spec)
    mounts = volume_mounts(plan, spec)
    volumes, secrets = [], []
    for directory, group in secretfiles.by_directory(spec).items():
        obj = secretfiles.object_name(spec.name, directory)
        secrets.append(secret(plan, obj, secretfiles.values(plan.secrets, external, group,
                                                            spec.name), namespace))
        volumes.append(secretfiles.volume(name, obj, directory, group))
        mounts.append(secretfiles.mount(name, directory))
    if spec.tmpfs_tmp:  # named after the pod: podman 4.3.1 shares an emptyDir by name
        tmp = names.name(f"{plan.pod}-{name}-tmp")
        volumes.append({"name": tmp, "emptyDir": {"medium": "Memory"}})
        mounts.append({"name": tmp, "mountPath": "/tmp"})
    if spec.network == "none":
        not_mapped.append(f"{name}: --network none")
    return containers.container(spec, name, mounts, not_mapped), volumes, secrets


def secret(plan: Plan, name: str, data: dict[str, str], namespace: str | None) -> dict:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": names.metadata(name, layout.base_labels(plan.pod), namespace),
            "type": "Opaque", "data": data}


def claim(plan: Plan, volume: str, namespace: str | None, storage_class: str | None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": SIZES.get(kind(plan, volume),
                                                                  SMALL)}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": names.metadata(names.name(volume), layout.base_labels(plan.pod),
                                       namespace),
            "spec": spec}


def plan_notes(plan: Plan) -> list[str]:
    """What the plan does once the pod runs, and ports, that the Pod does not."""
    notes = [f"after start: {s.what}" for s in plan.after_start]
    notes += [f"copy of ~/{c.rel} into {c.container}" for c in plan.copies]
    notes += [f"--publish {p}" for p in plan.pod_create.get("publish") or []
              if not p.endswith(f":{API_PORT}")]
    return notes


def pod(plan: Plan, namespace: str | None, external: Mapping[str, str],
        not_mapped: list[str]) -> tuple[dict, list[dict]]:
    """The Pod and the Secrets its containers mount; what has no Kubernetes form is added
    to NOT_MAPPED (a list)."""
    init: list[dict] = []
    main: list[dict] = []
    volumes: list[dict] = []
    secrets: list[dict] = []
    for specs, out in ((plan.init, init), (plan.containers, main)):
        for c_spec in specs:
            c, vols, objs = part(plan, c_spec, external, namespace, not_mapped)
            out.append(c)
            volumes += vols
            secrets += objs
    not_mapped += plan_notes(plan)
    spec = {"restartPolicy": "Never",  # as podman's: a container that ends stays ended
            "shareProcessNamespace": False, "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "initContainers": init, "containers": main,
            "volumes": list(claim_volumes(plan).values()) + volumes}
    labels = {**plan.labels, **selector(plan)}  # the role tells it from the proxy's Pod
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": names.metadata(names.name(plan.pod), labels, namespace),
            "spec": spec}, secrets


def claim_volumes(plan: Plan) -> dict[str, dict]:
    """The Pod volume of each claim, by its name in the Pod."""
    return {kind(plan, v): {"name": kind(plan, v),
                            "persistentVolumeClaim": {"claimName": names.name(v)}}
            for v in plan.volumes}


def proxy(plan: Plan, namespace: str | None, not_mapped: list[str]) -> list[dict]:
    """Allow-list mode's proxy: its Pod, Service and NetworkPolicy (``kube.egress``)."""
    assert plan.egress is not None
    spec = replace(plan.egress.spec, command=egress.proxy_command(plan.egress.spec))
    c, volumes, _secrets = part(plan, spec, {}, namespace, not_mapped)  # it has none
    volumes = egress.claims_of(c, claim_volumes(plan)) + volumes
    return [egress.proxy_pod(plan.pod, c, volumes, namespace),
            egress.service(plan.pod, namespace), egress.network_policy(plan.pod, namespace)]


def selector(plan: Plan) -> dict[str, str]:
    """The workspace Pod's labels that select it (``io.devaipod.role=pod``: not the
    proxy's)."""
    return egress.workspace_selector(plan.pod)["matchLabels"]


def service(plan: Plan, namespace: str | None) -> dict:
    """The sidecar's port, the only one podman publishes."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": names.metadata(names.name(plan.pod), layout.base_labels(plan.pod),
                                       namespace),
            "spec": {"type": "ClusterIP", "selector": selector(plan),
                     "ports": [{"name": "api", "protocol": "TCP", "port": API_PORT,
                                "targetPort": API_PORT}]}}


def network_policy(plan: Plan, namespace: str | None) -> dict:
    """Ingress to the sidecar's port only; in allow-list mode egress to DNS and the proxy
    only (see the module's docstring for what a NetworkPolicy cannot say)."""
    spec: dict = {"podSelector": {"matchLabels": selector(plan)},
                  "policyTypes": ["Ingress"],
                  "ingress": [{"ports": [{"protocol": "TCP", "port": API_PORT}]}]}
    if plan.egress is not None:
        proxy = {"podSelector": {"matchLabels": {**selector(plan), layout.ROLE: "egress"}}}
        spec["policyTypes"].append("Egress")
        spec["egress"] = [
            {"to": [proxy], "ports": [{"protocol": "TCP", "port": egressproxy.PORT}]},
            {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": names.metadata(names.name(f"{plan.pod}-network"),
                                       layout.base_labels(plan.pod), namespace),
            "spec": spec}


def api_token_secret(pod: str) -> tuple[str, str]:
    """(Secret, key) of the sidecar's API token (``layout.api_token_secret``'s value)."""
    return (secretfiles.object_name(layout.container(pod, "api"), ENV_DIR),
            "DEVAIPOD_API_TOKEN")


def user_secrets(plan: Plan) -> list[str]:
    """The podman secrets the pod mounts that the plan does not make (the user's own,
    ``[trusted] secrets``): ``objects`` needs their values."""
    return secretfiles.external_names([*plan.init, *plan.containers], plan.secrets)


@dataclass
class Manifest:
    objects: list[dict]
    not_mapped: list[str]  # what podman does that the objects do not (one line each)


def convert(plan: Plan, *, namespace: str | None = None, storage_class: str | None = None,
            external: Mapping[str, str] | None = None) -> Manifest:
    """The Kubernetes objects of PLAN, in the order they are applied: Secrets,
    PersistentVolumeClaims, the Pod, its Service and NetworkPolicy; and what they leave
    out. EXTERNAL: the values of ``user_secrets(plan)`` by name."""
    not_mapped: list[str] = []
    the_pod, secrets = pod(plan, namespace, external or {}, not_mapped)
    claims = [claim(plan, v, namespace, storage_class) for v in plan.volumes]
    more = proxy(plan, namespace, not_mapped) if plan.egress is not None else []
    return Manifest([*secrets, *claims, the_pod, service(plan, namespace),
                     network_policy(plan, namespace), *more], list(dict.fromkeys(not_mapped)))


def objects(plan: Plan, *, namespace: str | None = None, storage_class: str | None = None,
            external: Mapping[str, str] | None = None) -> list[dict]:
    """``convert(...).objects``."""
    return convert(plan, namespace=namespace, storage_class=storage_class,
                   external=external).objects
