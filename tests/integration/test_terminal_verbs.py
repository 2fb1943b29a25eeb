"""Verbs as a person types them in a terminal, against real podman: shell completion in
a real bash, and `delete` of a running workspace asking for a yes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from podfixtures import exec_in, leftovers, run_devaipod
from tmuxscreen import Screen

pytestmark = pytest.mark.podman
BIN = Path(__file__).resolve().parents[2] / "bin"


def complete(words: str) -> list[str]:
    """What bash offers after WORDS, with devaipod's completion script sourced."""
    script = ("source <(devaipod completions bash)\n"
              f"COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n"
              'COMPREPLY=(); _devaipod_completion devaipod; printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
           "DEVAIPOD_PYTHON": sys.executable}
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          timeout=60, check=True)
    return proc.stdout.split()


def test_bash_completes_verbs_and_workspace_names(workspace_factory, podman_service):
    name = f"{podman_service.instance}-compl"
    workspace_factory(name)
    assert complete("devaipod att") == ["attach"]
    assert "--json" in complete("devaipod list --j")
    assert complete(f"devaipod status {name[:-2]}") == [name]
    assert complete("devaipod status no-such-prefix-") == []


def test_delete_of_a_running_workspace_asks_on_a_terminal(workspace_factory, podman_service,
                                                          tmp_path):
    name = f"{podman_service.instance}-ask"
    pod = f"devaipod-{name}"
    workspace_factory(name)
    pane = Screen(tmp_path)
    try:
        pane.devaipod("delete", name)
        pane.wait_for("stop it and delete it with its volumes? [y/N]")
        pane.keys("n", "Enter")
        screen = pane.exited(1)
        assert "not deleted" in screen
        assert json.loads(run_devaipod("status", name, "--json")[1])["status"] == "Running"
    finally:
        pane.close()
    pane = Screen(tmp_path)  # a terminal of its own (a new tmux server) for the yes
    try:
        pane.devaipod("delete", name)
        pane.wait_for("[y/N]")
        pane.keys("y", "Enter")
        pane.exited(0, timeout=120)
    finally:
        pane.close()
    assert leftovers(podman_service, pod) == {
        "pods": [], "containers": [], "volumes": [], "secrets": []}
    rc, _out, err = run_devaipod("delete", name)  # gone: one clear line
    assert rc != 0 and len(err.strip().splitlines()) == 1


def test_up_exec_opens_a_shell_in_the_workspace(gitserver, podman_service, tmp_path):
    """`up -S` ends in bash in {pod}-workspace, on the terminal it was started from."""
    name = f"{podman_service.instance}-upx"
    pane = Screen(tmp_path)
    try:
        pane.devaipod("up", gitserver.git_url, "--name", name, "--network", gitserver.network,
                      "-S")
        pane.wait_for(f"devaipod-{name}\n", timeout=240)  # up printed the name, then exec'd
        # /tmp is the container's own: only a shell in {pod}-workspace sees this file
        exec_in(podman_service, f"devaipod-{name}-workspace", "sh", "-c",
                "echo in-the-workspace > /tmp/where")
        pane.keys("echo $(cat /tmp/where)-$((6*7))", "Enter")
        pane.wait_for("in-the-workspace-42", timeout=60)
        pane.keys("exit", "Enter")
        pane.exited(0)
    finally:
        pane.close()
        run_devaipod("delete", "--force", name)
