"""A terminal for tests that type into devaipod as a person would: one tmux pane on a
private tmux server (its socket in a temp dir), read with capture-pane, typed into
with send-keys."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path


class Pane:
    def __init__(self, directory: Path, env: dict[str, str] | None = None,
                 width: int = 160, height: int = 45) -> None:
        self.env = {**os.environ, **(env or {}), "TMUX_TMPDIR": str(directory),
                    "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)
        self.size = (str(width), str(height))

    def tmux(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-f", "/dev/null", *args], env=self.env,
                              capture_output=True, text=True, timeout=30, check=True)
        return proc.stdout

    def start(self, argv: list[str]) -> None:
        """Run ARGV in the pane; the pane stays when it exits (its last screen is kept)."""
        self.tmux("new-session", "-d", "-s", "t", "-x", self.size[0], "-y", self.size[1],
                  shlex.join(argv) + "; echo \"[exit $?]\"; sleep 3600")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the screen after {timeout} s:\n{screen}")
            time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, check=False)
