"""What the agent is doing now: the real OpenCode in the pod runs a `bash` call of the
fake LLM, and the summary (devaipod status, the sidecar's /summary) shows the tool, the
status line and the lines of its output, while it runs and after."""

from __future__ import annotations

import json
import time

import pytest

from podfixtures import exec_in, run_devaipod

from .test_agent import agent_ws, quickstart_config  # noqa: F401  (fixtures)

pytestmark = pytest.mark.podman

# prints two lines, then waits until the test lets it go on (no race with the polling)
COMMAND = ("echo first-line; echo second-line; "
           "while [ ! -e /tmp/go-on ]; do sleep 0.2; done; echo third-line")


def status(name: str) -> dict:
    rc, out, err = run_devaipod("status", name, "--json")
    assert rc == 0, err
    return json.loads(out)


def wait_for(name: str, wanted, timeout: float = 120) -> dict:
    """The first `status --json` for which wanted(it) holds."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = status(name)
        if wanted(seen):
            return seen
        time.sleep(0.3)
    pytest.fail(f"the summary never got there; last: {seen}")


def test_the_summary_shows_the_running_tool_and_its_output(agent_ws,  # noqa: F811
                                                           podman_service):
    name = f"{podman_service.instance}-sum1"
    rc, _out, err = agent_ws(name, "-c", f"RUN_BASH {COMMAND}")
    assert rc == 0, err
    running = wait_for(name, lambda s: s["agent_tool"] == "bash"
                       and "second-line" in s["agent_lines"])
    assert running["agent"] == "working"
    assert running["agent_status"] == f"running bash: {COMMAND}"
    assert running["agent_lines"] == ["first-line", "second-line"]
    rc, out, err = run_devaipod("status", name)
    assert rc == 0, err
    assert f"now        running bash: {COMMAND}" in out
    assert "           second-line" in out

    exec_in(podman_service, f"devaipod-{name}-agent", "touch", "/tmp/go-on")
    idle = wait_for(name, lambda s: s["agent"] == "idle")
    assert (idle["agent_tool"], idle["agent_status"]) == (None, "idle")
    # the fake LLM's reply repeats the tool's output: its last lines
    assert idle["agent_lines"] == ["FAKE_DONE: first-line", "second-line", "third-line"]
    rc, out, err = run_devaipod("list", "--json")
    row = next(r for r in json.loads(out) if r["short"] == name)
    assert row["agent_lines"] == idle["agent_lines"] and row["agent_status"] == "idle"
