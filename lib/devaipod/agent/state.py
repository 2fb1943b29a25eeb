"""Agent state of many workspaces at once: one podman call, then HTTP to each sidecar."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from devaipod import errors
from devaipod.agent.client import Client, api_containers

STOPPED = {"state": "stopped", "message": "", "last_activity": None}


def summary(pod: str, info: dict | None) -> dict:
    if not info or info.get("State") != "running":
        return dict(STOPPED)
    try:
        return Client.for_pod(pod, info).get("/summary", timeout=5)
    except errors.DevaipodError as exc:
        return {"state": "starting", "message": str(exc)[:200], "last_activity": None}


def summaries(pods: list[str], infos: dict[str, dict] | None = None) -> dict[str, dict]:
    """pod -> {state, message, last_activity}: starting, working, idle, error or stopped."""
    if not pods:
        return {}
    infos = api_containers() if infos is None else infos
    with ThreadPoolExecutor(max_workers=min(16, len(pods))) as pool:
        results = pool.map(lambda p: summary(p, infos.get(p)), pods)
        return dict(zip(pods, results, strict=True))
