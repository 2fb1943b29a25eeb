"""What the agent's OpenCode reports, against the host's shell.

The agent owns its OpenCode's database, so it chooses the ids its sessions are
listed under. `devaipod attach` and the web's Terminal tab put the oldest
session's id into the command line of a tmux pane, which the user's shell
(`sh`, dash on Debian) runs on the host or in the control plane's container.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.podman

# a session id that dash would run as a command if it were quoted with bash's $'...'
EVIL_ID = "ses_x\\n' & touch {marker} #"
INSERT = r"""
import glob, sqlite3, sys
db = sqlite3.connect(glob.glob("/home/devenv/.local/share/opencode/*.db")[0])
db.execute("insert into session (id, project_id, slug, directory, title, version, "
           "time_created, time_updated) select ?, project_id, 'evil', directory, 'evil', "
           "version, 1, 1 from session limit 1", (sys.argv[1],))
db.commit()
"""


def test_a_session_id_cannot_run_a_command_on_the_host(hostile_pod, tmp_path):
    """Attack: the agent writes a session with the id `ses_x<newline>' & touch M #` (the
    oldest) into its OpenCode's database, so that `devaipod attach` (and the web's
    Terminal tab) builds a tmux pane command that dash runs on the host."""
    from devaipod.agent import task

    from .conftest import sidecar

    pod = hostile_pod()
    marker = tmp_path / "PWNED-host"
    evil = EVIL_ID.format(marker=marker).replace("\\n", "\n")
    client = sidecar(pod)
    task.wait_ready(client)
    deadline = time.monotonic() + 60
    while not client.get("/session") and time.monotonic() < deadline:
        client.post("/session", {})  # OpenCode's first session (the table's template)
    proc = subprocess.run(["podman", "--remote", "--url", pod.svc.url, "exec", "-i",
                           pod.container("agent"), "python3", "-", evil],
                          input=INSERT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert any(s["id"] == evil for s in client.get("/session"))  # OpenCode lists it
    env = {**os.environ, "TMUX_TMPDIR": str(tmp_path), "SHELL": "/bin/sh"}
    try:
        attach = subprocess.run([sys.executable, "-m", "devaipod", "attach", pod.name],
                                env=env, capture_output=True, text=True, timeout=120,
                                stdin=subprocess.DEVNULL)
        time.sleep(3)  # the panes' commands start
        assert not marker.exists()
        assert attach.returncode == 0, attach.stderr
    finally:
        subprocess.run(["tmux", "kill-server"], env=env, capture_output=True)
