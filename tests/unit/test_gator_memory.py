"""The gator's start-up leaves out what it does not use (bench/rss: its memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "lib"

SCRIPT = """
import sys
from devaipod.gator import server
from devaipod.gator.scopes import Scopes
if sys.argv[1] == "setup":
    server.setup_logging()
server.build(Scopes())
print("rich" in sys.modules)
"""


def imports_rich(setup: bool) -> bool:
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, "setup" if setup else "bare"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return out.split()[-1] == "True"


def test_the_gator_does_without_rich():
    """MCPServer would import rich for a log handler the gator's logging never uses."""
    assert imports_rich(setup=False), "MCPServer no longer imports rich: drop setup's block"
    assert not imports_rich(setup=True)
