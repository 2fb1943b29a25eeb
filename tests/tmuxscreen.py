"""A program on a terminal for tests: a private tmux server (its own socket in a temporary
TMUX_TMPDIR), read with capture-pane and driven with send-keys, as a person would.

``Screen.save(name)`` keeps a text capture as ``test-output/tui/<name>.txt``, as the
browser tests keep screenshots.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "test-output" / "tui"


class Screen:
    def __init__(self, tmpdir: Path, width: int = 200, height: int = 50) -> None:
        self.socket = f"tui-{secrets.token_hex(4)}"
        self.env = {**os.environ, "TMUX_TMPDIR": str(tmpdir), "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)
        self.width, self.height = width, height

    def tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, env=self.env, timeout=30)
        assert proc.returncode == 0 or not check, f"tmux {args}: {proc.stderr}"
        return proc.stdout

    def start(self, *argv: str) -> None:
        """ARGV in the first pane of a new session, with this process's environment."""
        import shlex

        # the shell says when ARGV has exited, and with what: tmux's own "Pane is dead"
        # waits until every process holding the terminal has closed it
        self.tmux("new-session", "-d", "-s", "main", "-x", str(self.width), "-y",
                  str(self.height), shlex.join(argv) + '; echo "[exited $?]"; sleep 86400')
        self.tmux("set-option", "-t", "main", "remain-on-exit", "on")

    def devaipod(self, *args: str) -> None:
        self.start(sys.executable, "-m", "devaipod", *args)

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main:0.0", check=False)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "main:0.0", *(["-l"] if literal else []), *keys)

    def wait(self, predicate, what: str, timeout: float = 60) -> str:
        """The screen once PREDICATE(screen) holds; fails after TIMEOUT naming WHAT."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.text()
            if predicate(screen):
                return screen
            time.sleep(0.3)
        raise AssertionError(f"{what} never appeared on the screen:\n{screen}")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        return self.wait(lambda s: text in s, repr(text), timeout)

    def exited(self, code: int, timeout: float = 60) -> str:
        """The screen once the program started has exited with CODE."""
        return self.wait_for(f"[exited {code}]", timeout)

    def wait_gone(self, text: str, timeout: float = 60) -> str:
        return self.wait(lambda s: text not in s, f"the end of {text!r}", timeout)

    def save(self, name: str) -> Path:
        CAPTURES.mkdir(parents=True, exist_ok=True)
        path = CAPTURES / f"{name}.txt"
        path.write_text(self.text())
        return path

    def close(self) -> None:
        self.tmux("kill-server", check=False)
