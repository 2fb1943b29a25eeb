"""workspace.lookup.rows: three podman calls however many workspaces, then the sidecars
(podman faked with fp; the running sidecar is a real socket answering on 127.0.0.1)."""

from __future__ import annotations

import json

import pytest

from devaipod import layout
from devaipod.workspace import lookup

from .test_agent_state import IDLE, Sidecar, answer


def pod_info(name: str, created: str) -> dict:
    labels = {**layout.base_labels(name), **layout.write_labels({"mode": "up", "repo": "r"})}
    return {"Name": name, "Status": "Running", "Created": created, "Labels": labels,
            "Containers": [{"Names": f"{name}-api", "Status": "running"}]}


def api_info(name: str, state: str, port: int = 1) -> dict:
    return {"Names": [f"{name}-api"], "State": state,
            "Labels": {**layout.base_labels(name), layout.ROLE: "api"},
            "Ports": [{"container_port": layout.API_PORT, "host_port": port,
                       "host_ip": "127.0.0.1"}]}


@pytest.fixture
def listed(fp, podman_cmd, tmp_path, monkeypatch):
    """``listed(n)``: n workspaces, the newest running with its sidecar answering idle, the
    others stopped, the oldest marked done; the rows and the commands run."""
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("DEVAIPOD_CONTAINER", raising=False)
    fp.allow_unregistered(False)

    def listed(n: int):
        names = [f"devaipod-w{i}" for i in range(n)]
        (tmp_path / "pods").mkdir(exist_ok=True)
        (tmp_path / "pods" / f"{names[-1]}.token").write_text("t")
        side = Sidecar(answer(json.dumps(IDLE).encode()))
        pods = [pod_info(name, f"2026-12-01T10:{i:02d}") for i, name in enumerate(names)]
        apis = [api_info(name, "exited") for name in names[:-1]]
        apis.append(api_info(names[-1], "running", side.port))
        done = [{"Name": layout.volume(names[0], "done"),
                 "Labels": {**layout.base_labels(names[0]), layout.MARK: "done",
                            layout.DONE: "true"}}]
        fp.register(podman_cmd("pod", "ps", "--format", "json", "--filter",
                               f"label={layout.MANAGED}=true", fp.any()), stdout=json.dumps(pods))
        fp.register(podman_cmd("volume", "ls", fp.any()), stdout=json.dumps(done))
        fp.register(podman_cmd("ps", "--all", "--format", "json", fp.any()),
                    stdout=json.dumps(apis))
        return lookup.rows(agent=True), [call[4:6] for call in fp.calls]
    return listed


@pytest.mark.parametrize("n", [2, 20])
def test_rows_make_three_podman_calls_however_many_workspaces(listed, n):
    rows, calls = listed(n)
    assert sorted(calls) == [["pod", "ps"], ["ps", "--all"], ["volume", "ls"]]
    assert [r.name for r in rows] == [f"devaipod-w{i}" for i in reversed(range(n))]  # newest
    assert rows[0].agent == "idle" and rows[0].repo == "r"
    assert rows[-1].agent == "done"
    assert all(r.agent == "stopped" for r in rows[1:-1])
