"""The agent slows its own sidecar down: the lists of workspaces do not wait for it.

`devaipod list` and the control plane's `GET /api/pods` ask every pod's sidecar for its
agent's summary; the sidecar asks OpenCode, which is the agent's, in the background, and
answers at once with the summary it keeps, marked stale while it asks again (see
devaipod-pod-api(1)). What a sidecar has not answered within the list's deadline is shown as
`unknown` (see devaipod-list(1)).
"""

from __future__ import annotations

import json
import time

import pytest

from podfixtures import run_devaipod

pytestmark = pytest.mark.podman

OPENCODE = "$(pgrep -f '[o]pencode serve')"  # [o]: not this script's own shell
# a new session is an OpenCode event: the sidecar's kept summary is stale, the next /summary
# makes it ask OpenCode again; the frozen OpenCode accepts the connection and never answers
FREEZE = f"""pw=$(cat /run/devaipod-env/OPENCODE_SERVER_PASSWORD)
curl -sf -u "opencode:$pw" -X POST -H 'Content-Type: application/json' -d '{{}}' \\
    http://127.0.0.1:4096/session >/dev/null
sleep 2
kill -STOP {OPENCODE}
"""


def row_of(name: str) -> dict:
    rc, out, err = run_devaipod("list", "--json")
    assert rc == 0, err
    return {row["name"]: row for row in json.loads(out)}[name]


def agent_state(name: str) -> str:
    return row_of(name)["agent"]


def answered_without_opencode(row: dict) -> bool:
    """The kept summary, marked stale (idle; or starting once a refresh timed out on the
    frozen OpenCode's health check, also kept and marked), not `unknown`: the sidecar did
    not wait for OpenCode, and the list did not wait for its deadline."""
    return row["agent"] in ("idle", "starting") and row["agent_stale"] is True


def test_a_frozen_opencode_does_not_hold_the_list(hostile_pod, control_plane):
    """Attack: the agent makes an OpenCode event (a new session, through OpenCode's API
    with the password it can read) and then freezes its OpenCode (SIGSTOP), so that its
    sidecar's /summary waits on OpenCode for seconds, each time, to hold every
    `devaipod list` and the control plane's pod list behind it."""
    pod = hostile_pod()
    deadline = time.monotonic() + 300
    while agent_state(pod.name) != "idle" and time.monotonic() < deadline:
        time.sleep(1)
    assert agent_state(pod.name) == "idle"
    pod.agent(FREEZE)
    try:
        row = row_of(pod.name)
        assert answered_without_opencode(row), row
        status, rows = control_plane.call_json("GET", "/api/pods")
        assert status == 200
        row = {r["name"]: r for r in rows}[pod.name]
        assert answered_without_opencode(row), row
    finally:
        pod.agent(f"kill -CONT {OPENCODE}", check=False)
