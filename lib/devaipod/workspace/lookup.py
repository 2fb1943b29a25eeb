"""Find workspaces: list them (a fixed number of podman calls), resolve a name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from devaipod import errors, layout
from devaipod.podman import container, pod, volume


@dataclass
class Row:
    name: str
    short: str
    status: str
    mode: str
    repo: str
    source: str
    task: str
    title: str
    created: str
    done: bool
    containers: dict[str, str]
    labels: dict[str, str]
    agent: str = ""  # starting, working, idle, error, stopped, oom, done
    last_message: str = ""
    last_activity: str | None = None
    ports: list[dict[str, Any]] = field(default_factory=list)  # see published()
    agent_tool: str | None = None  # what the agent is doing now: the tool it runs,
    agent_status: str = ""  # a status line (running bash: make test, idle ...)
    agent_lines: list[str] = field(default_factory=list)  # and its output's last lines
    agent_stale: bool = False  # the sidecar's summary is being asked for again

    def with_agent(self, summary: dict, api: dict | None = None) -> Row:
        """The agent's summary (``oom`` when podman says its container ran out of memory),
        and the pod's published ports from ``api`` (its sidecar container as `podman ps`
        has it)."""
        oom = self.containers.get("agent") == OOM
        self.agent = "done" if self.done else OOM if oom else summary.get("state", "")
        self.last_message = summary.get("message", "")
        self.last_activity = summary.get("last_activity")
        self.agent_tool = summary.get("tool")
        self.agent_status = summary.get("status", "")
        self.agent_lines = summary.get("lines", [])
        self.agent_stale = summary.get("stale", False)
        self.ports = published(api)
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


OOM = "oom"  # a container's state when the kernel killed it at its memory limit
STOPPED = ("exited", "stopped")


def mark_oom(found: list[Row]) -> None:
    """The agent and worker containers that stopped because the kernel killed them at their
    memory limit ([limits] memory): their state reads "oom" (podman's State.OOMKilled),
    from one `podman container inspect` of the stopped ones (none when none stopped)."""
    stopped = {f"{r.name}-{role}": (r, role) for r in found
               for role, state in r.containers.items()
               if role in layout.LIMITED_ROLES and state.lower() in STOPPED}
    if not stopped:
        return
    for info in container.inspect_present(list(stopped)):
        where = stopped.get(info.get("Name", ""))
        if where and (info.get("State") or {}).get("OOMKilled"):
            where[0].containers[where[1]] = OOM


def sidecar(pod_name: str) -> dict[str, Any] | None:
    """POD_NAME's api container, inspected; None if it has none."""
    found = container.inspect_present([layout.container(pod_name, "api")])
    return found[0] if found else None


def pods() -> list[dict[str, Any]]:
    """This instance's pods as `podman pod ps` reports them, newest first."""
    found = [p for p in pod.ps(layout.instance_filter()) if layout.in_instance(p.get("Labels"))]
    return sorted(found, key=lambda p: p.get("Created", ""), reverse=True)


def marks() -> dict[str, dict[str, str]]:
    """pod -> its marks ({"done": TIME, "title": TEXT}), from one `podman volume ls`."""
    found: dict[str, dict[str, str]] = {}
    # podman 4.3 ORs repeated label filters on volumes: filter here
    for v in volume.ls({"label": layout.MARK}):
        lb = v.get("Labels") or {}
        kind = lb.get(layout.MARK, "")
        if layout.in_instance(lb) and kind in ("done", "title"):
            value = lb.get(f"{layout.LABEL}.{kind}", "")
            found.setdefault(lb.get(layout.POD, ""), {})[kind] = value
    return found


def published(api: dict | None) -> list[dict[str, Any]]:
    """The pod's forwarded ports (devcontainer ``forwardPorts``) from the `podman ps` entry of
    one of its containers (every container of a pod shows the pod's published ports):
    ``[{"port", "host_ip", "host_port"}]`` by container port, TCP only, the sidecar's port left
    out (the Agent tab is the way to it). A range is one entry per port, its first 32."""
    found = []
    for p in (api or {}).get("Ports") or []:
        try:
            port, host, count = (int(p.get(k) or 0)
                                 for k in ("container_port", "host_port", "range"))
        except (TypeError, ValueError):
            continue
        if p.get("protocol", "tcp") != "tcp" or port <= 0 or host <= 0:
            continue
        address = p.get("host_ip") or "0.0.0.0"
        found += [{"port": port + i, "host_ip": address, "host_port": host + i}
                  for i in range(min(max(count, 1), 32)) if port + i != layout.API_PORT]
    return sorted(found, key=lambda p: p["port"])


def _label(labels: dict[str, str], key: str) -> str:
    return layout.read_label(labels, key) or ""


def row(info: dict[str, Any], marked: dict[str, dict[str, str]]) -> Row:
    labels = info.get("Labels") or {}
    prefix = info["Name"] + "-"
    containers = {
        c["Names"].removeprefix(prefix): c.get("Status", "")
        for c in info.get("Containers") or []
        if c.get("Names", "").startswith(prefix)
    }
    return Row(
        name=info["Name"], short=layout.short(info["Name"]), status=info.get("Status", ""),
        mode=_label(labels, "mode"), repo=_label(labels, "repo"),
        source=_label(labels, "source"), task=_label(labels, "task"),
        title=marked.get(info["Name"], {}).get("title") or _label(labels, "title"),
        created=_label(labels, "created"),
        done="done" in marked.get(info["Name"], {}), containers=containers, labels=labels,
    )


def rows(agent: bool = False) -> list[Row]:
    """Every workspace of this instance: two podman calls however many there are
    (three with the agents' states, which come over HTTP from each pod's sidecar: asked
    for as soon as the third call names the sidecars, while the other two still run).
    The three calls start at once, before the HTTP client is imported: its import runs
    while podman answers."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:  # the look-ups do not depend on each other
        infos_f, done_f = pool.submit(pods), pool.submit(marks)
        asking, apis = None, {}
        if agent:
            apis_f = pool.submit(sidecars)
            from devaipod.agent import state

            apis = apis_f.result()
            asking = state.ask(apis)
        found = [row(info, done_f.result()) for info in infos_f.result()]
        mark_oom(found)
    if asking is not None:
        states = asking.result([r.name for r in found])
        found = [r.with_agent(states[r.name], apis.get(r.name)) for r in found]
    return found


def sidecars() -> dict[str, dict]:
    """pod -> its api container (devaipod.agent.client.api_containers), also the pods'
    published ports."""
    from devaipod.agent import client

    return client.api_containers()


def resolve(name: str | None, latest: bool = False) -> str:
    """A workspace name (short or full) or --latest -> the full pod name."""
    return pick(name, latest, [p["Name"] for p in pods()])


def pick(name: str | None, latest: bool, existing: list[str]) -> str:
    """NAME (short or full) among the EXISTING pods' names (newest first), or the newest
    with LATEST; a clear error otherwise."""
    if latest or not name:
        if not existing:
            raise errors.DevaipodError("there is no workspace", "create one with 'devaipod up URL'")
        if not latest:
            raise errors.DevaipodError("no workspace given", "name one, or pass --latest")
        return existing[0]
    full = layout.normalize(name)
    if full in existing:
        return full
    raise not_found(name, existing)


def not_found(name: str, existing: list[str]) -> errors.DevaipodError:
    import difflib  # imported here: `devaipod list` does without it

    shorts = [layout.short(e) for e in existing]
    close = difflib.get_close_matches(layout.short(layout.normalize(name)), shorts, n=3)
    hint = (f"did you mean {', '.join(close)}?" if close
            else "'devaipod list' shows the workspaces")
    return errors.DevaipodError(f"no workspace named '{name}'", hint)
