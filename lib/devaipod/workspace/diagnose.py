"""One workspace's diagnostics (``devaipod debug``): its containers and their state, their
mounts, resource limits, whether the kernel killed it at its memory limit (oom), the
names of the secrets each one has, the agent's health and MCP servers, the
gator's grants and whether the agent reaches it, and the last lines of each log.

Everything shown that the agent could have written (its log lines, OpenCode's answers) is
made printable by the caller; secrets' values are never read, only their names.
"""

from __future__ import annotations

from typing import Any

from devaipod import errors, layout
from devaipod.podman import container, pod
from devaipod.podman.container import Limits

LOG_LINES = 5


def mounts(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Where each volume or host path is mounted, and whether it is writable."""
    return sorted(({"destination": m.get("Destination", ""), "type": m.get("Type", ""),
                    "source": m.get("Name") or m.get("Source", ""), "rw": bool(m.get("RW"))}
                   for m in info.get("Mounts") or []), key=lambda m: m["destination"])


def secret_names(info: dict[str, Any]) -> list[str]:
    """The names of the podman secrets mounted in the container (never their values)."""
    found = (info.get("Config") or {}).get("Secrets") or info.get("Secrets") or []
    return sorted(s.get("Name", "") for s in found if s.get("Name"))


def limits(host: dict[str, Any]) -> str:
    """The container's resources as podman reports them (``HostConfig``), e.g.
    ``cpus=2 memory=4g pids=4096``."""
    cpus = (host.get("NanoCpus") or 0) / 1e9 or (
        (host.get("CpuQuota") or 0) / host["CpuPeriod"] if host.get("CpuPeriod") else 0)
    pids = host.get("PidsLimit")
    return Limits(cpus=cpus or None, memory=host.get("Memory") or None,
                  pids=pids if isinstance(pids, int) and pids > 0 else None).text()


def container_report(info: dict[str, Any], pod_name: str) -> dict[str, Any]:
    state = info.get("State") or {}
    return {"name": info.get("Name", ""), "role": info.get("Name", "").removeprefix(f"{pod_name}-"),
            "state": state.get("Status", ""), "exit_code": state.get("ExitCode"),
            "oom_killed": bool(state.get("OOMKilled")),
            "limits": limits(info.get("HostConfig") or {}),
            "started": state.get("StartedAt", ""), "image": info.get("ImageName", ""),
            "mounts": mounts(info), "secrets": secret_names(info),
            "log": log_tail(info.get("Name", ""))}


def log_tail(name: str) -> list[str]:
    from devaipod import podman

    result = podman.capture(container.logs_argv(name, tail=LOG_LINES), check=False)
    lines = (result.stdout + result.stderr).splitlines() if result.ok else []
    return [line[:300] for line in lines[-LOG_LINES:]]


def agent_report(pod_name: str) -> dict[str, Any]:
    """The agent's health and MCP servers, asked through the sidecar."""
    from devaipod.agent.client import Client

    try:
        client = Client.for_pod(pod_name)
        health = client.get("/global/health") or {}
        servers = client.get("/mcp") or {}
    except errors.DevaipodError as exc:
        return {"healthy": False, "error": exc.format_message(), "mcp": {}}
    mcp = {str(k): str((v or {}).get("status", "")) if isinstance(v, dict) else ""
           for k, v in servers.items()} if isinstance(servers, dict) else {}
    return {"healthy": bool(isinstance(health, dict) and health.get("healthy")),
            "version": str(health.get("version", "")) if isinstance(health, dict) else "",
            "error": None, "mcp": mcp}


def gator_report(pod_name: str, present: bool, mcp: dict[str, str]) -> dict[str, Any]:
    if not present:
        return {"present": False}
    from devaipod.workspace import gator

    try:
        grants = gator.read(pod_name).describe()
        error = None
    except errors.DevaipodError as exc:
        grants, error = [], exc.format_message()
    return {"present": True, "grants": grants, "error": error,
            "reachable": mcp.get("service-gator") == "connected"}


AUDIT_TAIL = 10  # the last events of the audit trail that debug shows


def audit_report(pod_name: str) -> dict[str, Any]:
    from devaipod.workspace import audit

    try:
        events = audit.read(pod_name)
    except errors.DevaipodError as exc:
        return {"events": 0, "last": [], "error": exc.format_message()}
    return {"events": len(events), "last": events[-AUDIT_TAIL:], "error": None}


def gather(pod_name: str) -> dict[str, Any]:
    info = pod.inspect(pod_name)
    names = [c["Name"] for c in info.get("Containers") or []
             if c.get("Name", "").startswith(f"{pod_name}-")]
    reports = [container_report(c, pod_name) for c in container.inspect(names)] if names else []
    running = {r["role"] for r in reports if r["state"] == "running"}
    agent: dict[str, Any] = agent_report(pod_name) if "api" in running else {
        "healthy": False, "error": "the api sidecar is not running", "mcp": {}}
    return {"name": pod_name, "short": layout.short(pod_name), "state": info.get("State", ""),
            "containers": sorted(reports, key=lambda r: r["role"]), "agent": agent,
            "gator": gator_report(pod_name, "gator" in {r["role"] for r in reports},
                                  agent["mcp"]),
            "audit": audit_report(pod_name), "egress": egress_report(pod_name, info)}


def egress_report(pod_name: str, info: dict[str, Any]) -> dict[str, Any]:
    """The egress mode, the list and the proxy container's state and last log lines."""
    from devaipod.workspace import egress

    out = egress.describe(pod_name, info.get("Labels"))
    if out["mode"] != "open":
        try:
            found = container.inspect([egress.name(pod_name)])
            out["container"] = container_report(found[0], pod_name) if found else None
        except errors.DevaipodError as exc:
            out["container"] = None
            out["error"] = exc.format_message()
    return out
