"""The kubernetes backend: the workspace verbs (up, run, list, status, delete, exec,
logs, attach) through kubectl, for ``[backend] kind = "kubernetes"`` or ``--backend``.

A workspace is the same plan as on podman (``workspace.create``: request -> inputs ->
plan); this backend is its :class:`~devaipod.workspace.create.Executor`: the plan's
objects (``kube.manifest.objects``) are applied in one ``kubectl apply -f -``, the pod
is waited for, the plan's after-start steps run with ``kubectl exec``; on a failure
everything with the workspace's labels is deleted. The look-ups are one kubectl call
each: ``list`` is one ``kubectl get pods -l ... -o json``, parsed into the rows podman's
listing gives (``workspace.lookup.Row``).

The one seam: ``devaipod.kube.active`` returns the backend for a context, or None for podman.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devaipod import errors, layout, runner, state
from devaipod.kube import apply, delete, kubectl, names, pod, secret
from devaipod.kube.kubectl import Cluster
from devaipod.podman.secret import with_env

if TYPE_CHECKING:
    from devaipod.context import Context
    from devaipod.workspace.lookup import Row
    from devaipod.workspace.plan import Inputs, Plan, Step
    from devaipod.workspace.request import Request

log = logging.getLogger("devaipod")

# where a pod in the cluster finds its own namespace (the control plane's)
SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
WORKSPACE_POD = "pod"  # the io.devaipod.role of a workspace's Pod (kube.manifest)
READY_TIMEOUT = 600  # seconds for the pod's images to be pulled and its probes to pass


def in_cluster() -> bool:
    """Whether this process runs in a pod of the cluster (the control plane)."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


# ---------------------------------------------------------------- pure: JSON -> rows

PHASES = {"Running": "Running", "Pending": "Created", "Succeeded": "Exited",
          "Failed": "Exited"}


def container_state(status: dict[str, Any]) -> str:
    """A container's state as podman words it (running, created, exited, oom)."""
    current = status.get("state") or {}
    if "running" in current:
        return "running"
    if "terminated" in current:
        return "oom" if current["terminated"].get("reason") == "OOMKilled" else "exited"
    return "created"


def role_of(pod_name: str, container: str) -> str:
    """A container's role: its name without the pod's (``agent`` or ``<pod>-agent``)."""
    return container.removeprefix(pod_name + "-")


def pod_state(item: dict[str, Any], states: dict[str, str]) -> str:
    phase = PHASES.get((item.get("status") or {}).get("phase", ""), "Unknown")
    if phase == "Running" and any(s != "running" for s in states.values()):
        return "Degraded"
    return phase


def as_podman(item: dict[str, Any]) -> dict[str, Any]:
    """A pod of ``kubectl get pods -o json`` in the shape of ``podman pod ps`` (what
    ``lookup.row`` reads). Annotations count as labels: a workspace's task or source is
    no valid label value; labels win."""
    meta = item.get("metadata") or {}
    name = meta.get("name", "")
    labels = {**(meta.get("annotations") or {}), **(meta.get("labels") or {})}
    if not layout.read_label(labels, "created") and meta.get("creationTimestamp"):
        labels[layout.label_key("created")] = meta["creationTimestamp"]
    statuses = (item.get("status") or {}).get("containerStatuses") or []
    states = {role_of(name, s.get("name", "")): container_state(s) for s in statuses}
    return {"Name": name, "Status": pod_state(item, states), "Labels": labels,
            "Containers": [{"Names": layout.container(name, role), "Status": st}
                           for role, st in states.items()]}


def rows_of(items: list[dict[str, Any]]) -> list[Row]:
    """The rows of `devaipod list` for the pods of a ``kubectl get pods -o json``, newest
    first (the done and title marks are podman volumes: none here)."""
    from devaipod.workspace import lookup

    found = [lookup.row(as_podman(item), {}) for item in items]
    return sorted(found, key=lambda r: r.created, reverse=True)


def containers_of(item: dict[str, Any]) -> dict[str, str]:
    """role -> the container's name in the pod's spec."""
    name = (item.get("metadata") or {}).get("name", "")
    spec = (item.get("spec") or {}).get("containers") or []
    return {role_of(name, c.get("name", "")): c.get("name", "") for c in spec}


def in_workdir(workdir: str | None, argv: list[str]) -> list[str]:
    """ARGV run in WORKDIR (kubectl exec has no --workdir)."""
    if not workdir:
        return argv
    return ["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", workdir, *argv]


# ---------------------------------------------------------------- the backend


@dataclass(frozen=True)
class Kubernetes:
    cluster: Cluster
    storage_class: str | None = None
    local = False  # workspace.create.Executor: images and devcontainer.json are the cluster's

    @classmethod
    def of(cls, ctx: Context) -> Kubernetes:
        k = ctx.config.kubernetes
        return cls(Cluster(k.context, k.namespace or own_namespace()), k.storage_class)

    # ------------------------------------------------ look-ups

    def items(self) -> list[dict[str, Any]]:
        """The workspace Pods (``io.devaipod.role=pod``: not the egress proxies')."""
        return pod.ls(self.cluster, kubectl.selector(role=WORKSPACE_POD))

    def rows(self, agent: bool = False) -> list[Row]:
        """Every workspace, from one kubectl call; the agents' states (over HTTP from their
        sidecars' Services) only from inside the cluster, where those names resolve."""
        found = rows_of(self.items())
        if agent and in_cluster():
            from devaipod.agent import state as agent_state

            infos = self.api_infos(found)
            states = agent_state.ask(infos).result([r.name for r in found])
            found = [r.with_agent(states[r.name]) for r in found]
        elif agent:
            found = [r.with_agent({"state": "unknown" if r.status == "Running" else "stopped"})
                     for r in found]
        return found

    def service_host(self, pod_name: str) -> str:
        """The DNS name of the workspace's Service (its sidecar, port 8090)."""
        ns = self.cluster.namespace
        return f"{pod_name}.{ns}.svc" if ns else pod_name

    def api_infos(self, found: list[Row]) -> dict[str, dict]:
        """pod -> what ``agent.client.address`` reads: its sidecar's Service; the tokens
        not yet known here are read from the pods' Secrets first."""
        for r in found:
            if not state.pod_token(r.name):
                with suppress(errors.DevaipodError):
                    runner.local(state.save_pod_token, r.name, self.api_token(r.name))
        return {r.name: {"State": r.containers.get("api", ""),
                         "Service": self.service_host(r.name)} for r in found}

    def api_token(self, pod_name: str) -> str:
        from devaipod.kube import manifest

        return secret.value(self.cluster, *manifest.api_token_secret(pod_name))

    def get(self, name: str) -> dict[str, Any]:
        try:
            return pod.get(self.cluster, name)
        except errors.NotFound:
            raise errors.DevaipodError(f"no workspace named '{layout.short(name)}'",
                                       "'devaipod list' shows the workspaces") from None

    def resolve(self, name: str | None, latest: bool = False) -> str:
        """A workspace name (short or full) or --latest -> the pod's name."""
        from devaipod.workspace import lookup

        return lookup.pick(name, latest, [r.name for r in rows_of(self.items())])

    def status(self, name: str) -> dict[str, Any]:
        """The workspace as `devaipod status --json` has it on podman."""
        item = self.get(name)
        from devaipod.workspace import lookup

        row = lookup.row(as_podman(item), {}).with_agent({"state": "unknown"})
        data = row.as_dict()
        data["api_address"], data["api_port"] = self.service_host(name), layout.API_PORT
        data["limits"] = layout.read_label(row.labels, "limits") or ""
        data["agent_oom_kills"] = None
        mode = layout.read_label(row.labels, "egress") or "open"
        data["egress"] = {"mode": mode, "allow": [],
                          "error": "enforced by the workspace's NetworkPolicy"}
        return data

    def state(self, name: str) -> str:
        """The pod's state as podman words it (Running, Degraded, Created, Exited)."""
        return as_podman(self.get(name))["Status"]

    def client(self, name: str):
        """An agent.client.Client of the workspace's sidecar: its Service from inside the
        cluster, else a ``kubectl port-forward`` to it (for as long as this process runs)."""
        from devaipod.agent.client import Client
        from devaipod.kube import portforward

        token = state.pod_token(name) or self.api_token(name)
        if in_cluster():
            return Client(name, f"http://{self.service_host(name)}:{layout.API_PORT}", token)
        port = portforward.start(self.cluster, name, layout.API_PORT)
        return Client(name, f"http://127.0.0.1:{port}", token)

    # ------------------------------------------------ changes

    def delete(self, name: str) -> dict[str, list[str]]:
        """Every object of the workspace (pod, Service, NetworkPolicy, Secrets, PVCs)."""
        removed = delete.by_label(self.cluster, kubectl.selector(name))
        runner.local(state.forget_pod, name)
        return removed

    def container(self, name: str, role: str) -> str:
        found = containers_of(self.get(name))
        if role not in found:
            raise errors.DevaipodError(
                f"workspace '{layout.short(name)}' has no {role} container",
                f"its containers: {', '.join(sorted(found)) or 'none'}")
        return found[role]

    def exec_argv(self, name: str, role: str, cmd: list[str], tty: bool) -> list[str]:
        """CMD in ROLE's container, with the container's credentials (as on podman)."""
        return kubectl.argv(self.cluster, pod.exec_argv(
            name, self.container(name, role), with_env(cmd), interactive=True, tty=tty))

    def exec(self, name: str, role: str, cmd: list[str], tty: bool) -> None:
        runner.replace(self.exec_argv(name, role, cmd, tty))

    def logs(self, name: str, role: str, follow: bool, tail: int | None) -> int:
        return kubectl.stream(self.cluster, pod.logs_argv(name, self.container(name, role),
                                                          follow=follow, tail=tail))

    def attach(self, name: str, role: str, sid: str | None, tty: bool) -> None:
        """ROLE's OpenCode TUI, straight in this terminal (no tmux split here)."""
        from devaipod.agent.task import checked_id

        target = "worker" if role == "worker" else "agent"
        cmd = ["opencode", "attach", f"http://127.0.0.1:{layout.OPENCODE_PORTS[target]}"]
        if sid:
            cmd += ["--session", checked_id(sid)]
        self.exec(name, role, cmd, tty)

    def create(self, request: Request, ctx: Context) -> Plan:
        from devaipod.workspace import create

        return create.create(request, ctx, executor=self)

    # ------------------------------------------------ workspace.create.Executor

    def prepare(self, i: Inputs) -> None:
        result = kubectl.capture(self.cluster, pod.get_argv(i.pod), check=False,
                                 dry_assume=1)
        if result.ok:
            raise errors.DevaipodError(
                f"workspace '{layout.short(i.pod)}' already exists",
                "pick another --name, or remove it with 'devaipod delete'")
        error = errors.classify(result.argv, result.returncode, result.stderr)
        if not isinstance(error, errors.NotFound):
            raise error

    def execute(self, plan: Plan, after_start: Callable[[], None], dry_run: bool) -> None:
        """Apply PLAN's objects, wait for its pod, run its after-start steps; on failure or
        Ctrl-C, delete every object with the workspace's labels."""
        from devaipod.workspace.create import run_steps, step

        objects = objects_of(plan, self.cluster.namespace, self.storage_class,
                             runs_after_start=True)
        name = names.name(plan.pod)  # the Pod's (the same for any name devaipod makes)
        try:
            with step("applying the workspace's objects"):
                apply.apply(self.cluster, objects)
            with step("waiting for the pod (its images pulled, its sidecar ready)"):
                pod.wait_ready(self.cluster, name, READY_TIMEOUT)
            if plan.copies:
                log.warning("kubernetes: [bind_home] files are not copied into the pod")
            found = {} if dry_run else containers_of(pod.get(self.cluster, name))
            run_steps(plan.after_start, partial_exec(self, plan.pod, name, found))
            after_start()
        except BaseException:
            if dry_run:
                raise
            log.info("failed; deleting what was applied")
            try:
                delete.by_label(self.cluster, kubectl.selector(plan.pod), wait=False)
            except errors.DevaipodError as cleanup_error:
                log.warning("cleanup of %s incomplete: %s", plan.pod, cleanup_error)
            raise


def partial_exec(backend: Kubernetes, plan_pod: str, pod_name: str,
                 found: dict[str, str]) -> Callable[[Step], list[str]]:
    """The kubectl command of a plan's step in Pod POD_NAME (its container named by role,
    FOUND; the user is the container's own: kubectl exec has no --user)."""
    def argv(s: Step) -> list[str]:
        role = role_of(plan_pod, s.container)
        return kubectl.argv(backend.cluster, pod.exec_argv(
            pod_name, found.get(role, role), in_workdir(s.workdir, with_env(s.argv))))

    return argv


def objects_of(plan: Plan, namespace: str | None, storage_class: str | None,
               copy_user_secrets: bool = True, runs_after_start: bool = False) -> list[dict]:
    """PLAN's Kubernetes objects (`up` applies them, `kube generate` prints them), with
    COPY_USER_SECRETS the values of the user's secrets it mounts; what has no Kubernetes
    form is logged (not the after-start steps when the caller RUNS_AFTER_START them)."""
    from devaipod.kube import manifest

    external = (user_secrets(plan, manifest.user_secrets(plan)) if copy_user_secrets
                else {})
    made = manifest.convert(plan, namespace=namespace, storage_class=storage_class,
                            external=external)
    for line in made.not_mapped:
        if not (runs_after_start and line.startswith("after start: ")):
            log.warning("not in the Kubernetes objects: %s", line)
    return made.objects


def user_secrets(plan: Plan, names: list[str]) -> dict[str, str]:
    """The values of the user's own podman secrets NAMES the plan mounts ([trusted]
    secrets), for the workspace's Secrets (`up` here, `kube generate --copy-user-secrets`):
    each read by a throwaway container of the sidecar's image (podman 4.3 cannot print a
    secret), so on a machine with podman only."""
    if not names:
        return {}
    from devaipod.podman import secret as podman_secret

    image = next(c.image for c in plan.containers
                 if c.name == layout.container(plan.pod, "api"))
    return {name: podman_secret.read(name, image) for name in names}


def own_namespace() -> str | None:
    """In the cluster: the namespace of this process's pod; elsewhere None."""
    try:
        with open(SA_NAMESPACE, encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None
