"""`devaipod tui` end to end, as a person uses it: in a tmux pane of a private tmux server,
read with capture-pane, driven with send-keys, against real pods; the effects checked in
podman. Text captures of the main screens go to test-output/tui/."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from podfixtures import run_devaipod, trusted_config
from tmuxscreen import Screen

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def tui_config(podman_service, gitserver, tmp_path_factory):
    """The LLM key as a trusted secret; pods on the git server's network (the launch form
    has no --network)."""
    inst = podman_service.instance
    with trusted_config(podman_service, tmp_path_factory.mktemp("tui"),
                        {"ANTHROPIC_API_KEY": (f"{inst}-tui-llm", "sk-tui-test-key")},
                        f'[podman]\nnetwork = "{gitserver.network}"\n') as path:
        yield path


@pytest.fixture
def screen(tmp_path, tui_config, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(tui_config))
    s = Screen(tmp_path)
    yield s
    s.close()


@pytest.fixture
def cleanup():
    """Names of workspaces to delete when the test ends (however it ends)."""
    names: list[str] = []
    yield names
    for name in names:
        run_devaipod("delete", "--force", name)


def up(gitserver, name: str) -> None:
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, timeout=300)
    assert rc == 0, err


def pod_exists(svc, pod: str) -> bool:
    return svc.podman("pod", "exists", pod, check=False).returncode == 0


def test_dashboard_lists_attaches_and_deletes(screen, cleanup, gitserver, podman_service,
                                              fakellm):
    name = f"{podman_service.instance}-tui1"
    cleanup.append(name)
    up(gitserver, name)
    screen.devaipod("tui", "--interval", "1")
    shown = screen.wait(lambda s: name in s and re.search(r"(idle|starting)", s), name)
    assert "LAST MESSAGE" in shown and "repo" in shown
    screen.save("dashboard")

    screen.keys("?")
    screen.wait_for("this help")
    screen.save("help")
    screen.keys("q")  # any key closes the help (and does nothing else)
    screen.wait_gone("this help")

    screen.keys("/")
    screen.wait_for("filter: words")  # the filter box has the focus: type in it
    screen.keys("no-such-workspace", literal=True)
    screen.wait_gone(name)
    screen.keys("Escape")
    screen.wait_for(name)

    screen.wait_for("idle", timeout=120)  # the agent's OpenCode answers
    screen.keys("Enter")  # attach: the agent's TUI in tmux, the dashboard suspended
    attached = screen.wait_for("Fake Model", timeout=120)
    assert "LAST MESSAGE" not in attached
    screen.save("attach")
    session = f"devaipod-{name}"
    assert session in screen.tmux("list-sessions", "-F", "#{session_name}")
    screen.keys("C-b", "d")  # detach the nested client: back in the dashboard
    back = screen.wait_for("LAST MESSAGE")
    assert name in back
    screen.save("after-attach")

    screen.keys("d")
    screen.wait_for("[y]es / [n]o")
    screen.save("delete-confirm")
    screen.keys("y")
    screen.wait_gone(name, timeout=120)
    assert not pod_exists(podman_service, f"devaipod-{name}")
    listed = [r["short"] for r in json.loads(run_devaipod("list", "--json")[1])]
    assert name not in listed


def test_launch_creates_a_workspace_per_url_with_progress(screen, cleanup, gitserver,
                                                         podman_service):
    screen.devaipod("tui", "--interval", "1")
    screen.wait_for("LAST MESSAGE")
    screen.keys("L")
    screen.wait_for("Repository, issue or PR URLs")
    screen.wait_for("ctrl+s: launch")
    urls = [gitserver.git_url, gitserver.http_url]
    screen.keys(urls[0], literal=True)
    screen.keys("Enter")
    screen.keys(urls[1], literal=True)
    screen.wait_for(urls[1])
    screen.save("launch-form")
    screen.keys("C-s")
    made = re.compile(r"^(\S+): created (devaipod-\S+)", re.MULTILINE)
    done = screen.wait(lambda s: len(made.findall(s)) == 2 or "failed" in s,
                       "both launches' end", timeout=400)
    screen.save("launch-progress")
    created = dict(made.findall(done))
    cleanup.extend(created.values())
    assert sorted(created) == sorted(urls), done
    for pod in created.values():
        assert pod_exists(podman_service, pod)
        screen.wait_for(pod.removeprefix("devaipod-"))  # in the table too
    screen.keys("q")


def test_run_without_source_asks_in_a_form(screen, cleanup, gitserver, podman_service,
                                           fakellm):
    """`devaipod run` with no SOURCE on a terminal: the form completes a source the
    instance has used, and Enter runs the task in a new workspace."""
    first = f"{podman_service.instance}-tuif1"
    cleanup.append(first)
    up(gitserver, first)  # its source is the one to complete from
    name = f"{podman_service.instance}-tuif2"
    cleanup.append(name)
    screen.devaipod("run", "--name", name)
    screen.wait_for("Tab completes")
    screen.keys(gitserver.git_url[:8], literal=True)
    screen.wait_for(gitserver.git_url)  # suggested
    time.sleep(0.5)  # one key at a time, as a person types (a burst can reach Textual as one)
    screen.keys("Right")
    time.sleep(0.5)
    screen.keys("Enter")  # the source is taken: on to the task
    time.sleep(0.5)
    screen.keys("say hello from the form", literal=True)
    screen.save("run-form")
    screen.keys("Enter")
    screen.exited(0, timeout=400)
    labels = json.loads(podman_service.podman("pod", "inspect", f"devaipod-{name}").stdout)
    labels = (labels[0] if isinstance(labels, list) else labels)["Labels"]
    assert labels["io.devaipod.task"] == "say hello from the form"
    assert labels["io.devaipod.source"] == gitserver.git_url


def test_run_without_source_or_terminal_is_one_clear_line(tui_config, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(tui_config))
    rc, out, err = run_devaipod("run", "-c", "task")
    assert rc == 1 and out == ""
    assert err.strip().splitlines() == [
        "Error: no SOURCE given; give a repository URL or path, or set [dotfiles] url in "
        "devaipod.toml to use that one"]


def test_run_attach_shows_the_agents_tui_and_detach_ends_run(screen, cleanup, gitserver,
                                                             podman_service, fakellm):
    """`run -A` on a terminal: the task is sent, then this terminal shows the agent's TUI
    (tmux, as `devaipod attach`); detaching ends `run` with status 0, the agent goes on."""
    name = f"{podman_service.instance}-tuia"
    cleanup.append(name)
    # a terminal that is not inside tmux (as a person's), with the test's tmux dir
    screen.start("env", "-u", "TMUX", sys.executable, "-m", "devaipod", "run",
                 gitserver.git_url, "-c", "hello from run -A", "--name", name, "-A")
    try:
        screen.wait_for("Fake Model", timeout=400)
        screen.wait_for("hello from run -A", timeout=60)  # the session the task went to
        screen.save("run-attach")
        screen.keys("C-b", "d")
        screen.exited(0, timeout=60)
    finally:
        subprocess.run(["tmux", "kill-server"], env={**screen.env}, capture_output=True)
    assert pod_exists(podman_service, f"devaipod-{name}")
