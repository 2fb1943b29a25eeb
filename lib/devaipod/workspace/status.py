"""One workspace in detail: its row of `devaipod list`, the agent's state, the sidecar's
published address (``devaipod status`` and the control plane's pod page)."""

from __future__ import annotations

from devaipod import layout
from devaipod.podman import pod
from devaipod.workspace import lookup


def api_binding(info: dict) -> tuple[str, str] | None:
    """(host address, host port) the sidecar's port is published on, from the pod's
    ``podman pod inspect``; None when it is not published."""
    published = (info.get("InfraConfig") or {}).get("PortBindings") or {}
    bindings = published.get(f"{layout.API_PORT}/tcp")
    if not bindings:
        return None
    return bindings[0].get("HostIp") or "0.0.0.0", bindings[0].get("HostPort")


def as_ps_ports(info: dict) -> dict:
    """The pod's published ports from its ``podman pod inspect`` in the shape `podman ps`
    gives them (what ``lookup.published`` reads)."""
    published = (info.get("InfraConfig") or {}).get("PortBindings") or {}
    ports = []
    for key, bindings in published.items():
        port, _, protocol = key.partition("/")
        ports += [{"container_port": port, "protocol": protocol or "tcp",
                   "host_ip": b.get("HostIp"), "host_port": b.get("HostPort"), "range": 1}
                  for b in bindings or []]
    return {"Ports": ports}


def gather(name: str) -> dict:
    """The workspace as `devaipod list --json` has it, plus ``api_address`` and
    ``api_port``."""
    info = pod.inspect(name)
    row = lookup.row({"Name": info["Name"], "Status": info.get("State", ""),
                      "Labels": info.get("Labels"),
                      "Containers": [{"Names": c["Name"], "Status": c.get("State", "")}
                                     for c in info.get("Containers") or []]},
                     lookup.marks())
    lookup.mark_oom([row])
    from devaipod.agent.state import summaries

    # one workspace asked for by name: its sidecar gets longer than in a list
    summary = summaries([row.name], deadline=5.0)[row.name]
    data = row.with_agent(summary, as_ps_ports(info)).as_dict()
    binding = api_binding(info) or egress_binding(name, info.get("Labels"))
    data["api_address"], data["api_port"] = binding or (None, None)
    data["limits"] = layout.read_label(info.get("Labels"), "limits") or ""
    data["agent_oom_kills"] = (oom_kills(name) if "memory=" in data["limits"]
                               and data["containers"].get("agent") == "running" else None)
    from devaipod.workspace import egress

    data["egress"] = egress.describe(name, info.get("Labels"))
    return data


# the kernel's count of processes killed at the memory limit in the container's own cgroup:
# cgroup v2's memory.events, v1's memory.oom_control (sysfs: read-only to the agent)
OOM_FILES = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


def oom_kills(pod: str) -> int | None:
    """How many processes of POD's running agent the kernel killed at its memory limit
    (podman's State.OOMKilled says so only when the container's first process is the one
    killed, and not on every cgroup v1 host); None when it cannot be read."""
    from devaipod.podman import container

    result = container.exec_capture(layout.container(pod, "agent"), ["cat", *OOM_FILES],
                                    check=False)
    return parse_oom_kills(result.stdout)


def parse_oom_kills(text: str) -> int | None:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def egress_binding(name: str, labels: dict | None) -> tuple[str, str] | None:
    """An allow-list workspace's sidecar port, which its egress proxy publishes."""
    if layout.read_label(labels, "egress") != "allow-list":
        return None
    from devaipod.podman import container
    from devaipod.workspace import egress

    found = container.inspect_present([egress.name(name)])
    return api_binding({"InfraConfig": (found[0].get("HostConfig") or {})}) if found else None
