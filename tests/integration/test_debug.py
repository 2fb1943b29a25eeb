"""`devaipod debug` against a real workspace: containers, mounts, secret names (never
values), the agent's health and MCP servers, log tails."""

from __future__ import annotations

import json
import time

import pytest

from podfixtures import exec_in, run_devaipod

pytestmark = pytest.mark.podman


def test_debug_reports_each_container_and_no_secret_value(workspace_factory, podman_service):
    name = f"{podman_service.instance}-dbg"
    pod = f"devaipod-{name}"
    workspace_factory(name)
    for _ in range(60):  # OpenCode takes a few seconds to answer
        rc, raw, err = run_devaipod("debug", name, "--json")
        assert rc == 0, err
        data = json.loads(raw)
        if data["agent"]["healthy"]:
            break
        time.sleep(1)
    assert data["agent"]["healthy"], data["agent"]
    roles = {c["role"]: c for c in data["containers"]}
    assert {"workspace", "agent", "api"} <= set(roles)
    assert all(c["state"] == "running" for c in roles.values())
    assert any(m["destination"] == "/workspaces" and m["rw"] for m in roles["agent"]["mounts"])
    assert roles["api"]["secrets"], roles["api"]  # the sidecar's token, by name
    token = exec_in(podman_service, f"{pod}-api", "cat", "/run/devaipod-env/DEVAIPOD_API_TOKEN")
    assert token and token not in raw
    assert not data["gator"]["present"]
    rc, text, err = run_devaipod("debug", name)
    assert rc == 0, err
    assert f"workspace {name} ({pod}): running" in text and "agent     healthy" in text
    assert token not in text
