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


def shown(row: dict) -> dict:
    return {k: row.get(k) for k in ("agent", "agent_stale", "last_message", "agent_status")}


def read_until(read, tries: int = 10) -> list[dict]:
    """The rows read until one is answered without OpenCode (a loaded machine may delay
    the sidecar itself past the list's deadline, or the control plane's list be one it
    made a moment before the freeze); a sidecar that waits on the frozen OpenCode never
    gets there: every read is `unknown`."""
    seen = [read()]
    while not answered_without_opencode(seen[-1]) and len(seen) < tries:
        time.sleep(1)
        seen.append(read())
    return seen


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
        seen_list = read_until(lambda: row_of(pod.name))
        assert answered_without_opencode(seen_list[-1]), [shown(r) for r in seen_list]

        def api_row() -> dict:
            status, rows = control_plane.call_json("GET", "/api/pods")
            assert status == 200
            return {r["name"]: r for r in rows}[pod.name]
        seen_api = read_until(api_row)
        assert answered_without_opencode(seen_api[-1]), [shown(r) for r in seen_api]
    finally:
        pod.agent(f"kill -CONT {OPENCODE}", check=False)
