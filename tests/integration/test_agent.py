"""The agent end to end: real OpenCode in the pod, driven by the fake LLM."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from podfixtures import exec_in, run_devaipod, trusted_config

pytestmark = pytest.mark.podman

KEYS = {"llm": "sk-quickstart-llm-key-41", "gh": "ghp_never_for_the_agent_42"}


@pytest.fixture(scope="module")
def quickstart_config(podman_service, tmp_path_factory):
    """The Quick Start's config: the LLM key and GH token as trusted podman secrets."""
    inst = podman_service.instance
    with trusted_config(podman_service, tmp_path_factory.mktemp("config"), {
            "ANTHROPIC_API_KEY": (f"{inst}-llm", KEYS["llm"]),
            "GH_TOKEN": (f"{inst}-gh", KEYS["gh"])}) as path:
        yield path


@pytest.fixture
def agent_ws(quickstart_config, monkeypatch, gitserver, fakellm, podman_service):
    """``start(name, *run_args)`` creates a workspace with `run`; deleted afterwards."""
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(quickstart_config))
    made: list[str] = []

    def start(name: str, *args: str, verb: str = "run", timeout: float = 300):
        made.append(name)
        return run_devaipod(verb, gitserver.git_url, "--name", name, "--network",
                            gitserver.network, *args, timeout=timeout)

    yield start
    for name in made:
        run_devaipod("delete", "--force", name)


def agent_state(name: str) -> str:
    rc, out, err = run_devaipod("status", name, "--json")
    assert rc == 0, err
    return json.loads(out)["agent"]


def wait_state(name: str, wanted: str, timeout: float = 60) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = agent_state(name)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == wanted:
            return seen
        time.sleep(0.3)
    pytest.fail(f"agent never became {wanted}: {seen}")


def test_run_wait_makes_a_commit_the_workspace_can_fetch(agent_ws, podman_service, fakellm):
    name = f"{podman_service.instance}-ag1"
    task = ("WRITE_FILE agent.txt written by the agent && "
            "RUN_BASH git add agent.txt; git commit -qm 'agent: add agent.txt'")
    rc, out, err = agent_ws(name, "--wait", "-c", task)
    assert rc == 0, err
    assert "tool write" in out and "tool bash" in out
    assert "FAKE_DONE" in out
    pod = f"devaipod-{name}"
    exec_in(podman_service, f"{pod}-workspace", "git", "fetch", "-q", "agent")
    log = exec_in(podman_service, f"{pod}-workspace", "git", "log", "--format=%s", "agent/main")
    assert log.splitlines()[0] == "agent: add agent.txt"
    shown = exec_in(podman_service, f"{pod}-workspace", "git", "show", "agent/main:agent.txt")
    assert shown == "written by the agent"
    auth = {r["headers"].get("Authorization") for r in fakellm.requests()
            if r["path"].endswith("/chat/completions")}
    assert f"Bearer {KEYS['llm']}" in auth


def test_agent_bash_never_sees_the_trusted_token(agent_ws, podman_service):
    name = f"{podman_service.instance}-ag2"
    rc, _out, err = agent_ws(name, "--wait", "-c", "RUN_BASH env > /tmp/agent-env.txt")
    assert rc == 0, err
    env = exec_in(podman_service, f"devaipod-{name}-agent", "cat", "/tmp/agent-env.txt")
    assert KEYS["gh"] not in env and "GH_TOKEN" not in env
    assert f"ANTHROPIC_API_KEY={KEYS['llm']}" in env


def test_status_goes_working_then_idle(agent_ws, podman_service):
    name = f"{podman_service.instance}-ag3"
    rc, _out, err = agent_ws(name, "-c", "SLOW 6")
    assert rc == 0, err
    seen = wait_state(name, "working", timeout=30)
    seen += wait_state(name, "idle", timeout=60)
    assert seen.index("working") < len(seen) - 1 and seen[-1] == "idle"
    rc, out, _err = run_devaipod("list", "--json")
    row = next(r for r in json.loads(out) if r["short"] == name)
    assert row["agent"] == "idle" and row["last_activity"]


def test_opencode_send_and_abort(agent_ws, podman_service):
    name = f"{podman_service.instance}-ag4"
    rc, _out, err = agent_ws(name, verb="up")
    assert rc == 0, err
    rc, out, err = run_devaipod("opencode", name, "send", "hello there agent")
    assert rc == 0, err
    assert "FAKE_REPLY: hello there agent" in out
    rc, out, err = run_devaipod("opencode", name, "session", "list", "--json")
    sessions = json.loads(out)
    assert len(sessions) == 1
    slow = subprocess.Popen(
        [*devaipod_argv(), "opencode", name, "send", "SLOW 60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        wait_state(name, "working", timeout=30)
        started = time.monotonic()
        rc, out, err = run_devaipod("opencode", name, "abort")
        assert rc == 0 and sessions[0]["id"] in out, err
        wait_state(name, "idle", timeout=20)
        assert time.monotonic() - started < 20
    finally:
        slow.kill()
        slow.wait()


def devaipod_argv() -> list[str]:
    import sys

    return [sys.executable, "-m", "devaipod"]


def test_opencode_password_is_required_inside_the_pod(agent_ws, podman_service):
    name = f"{podman_service.instance}-ag5"
    rc, _out, err = agent_ws(name, verb="up")
    assert rc == 0, err
    run_devaipod("opencode", name, "status")  # waits for nothing, but the agent must be up
    code = ""
    for _ in range(60):
        code = exec_in(podman_service, f"devaipod-{name}-workspace", "curl", "-s", "-m", "2",
                       "-o", "/dev/null", "-w", "%{http_code}", "-u", "opencode:wrong-password",
                       "http://127.0.0.1:4096/session", check=False)
        if code not in ("000", ""):
            break
        time.sleep(0.5)
    assert code == "401"


def test_up_stores_the_task_without_starting_it(agent_ws, podman_service, fakellm):
    name = f"{podman_service.instance}-ag6"
    rc, _out, err = agent_ws(name, "STORED_TASK_MARKER do the thing", verb="up")
    assert rc == 0, err
    task_file = exec_in(podman_service, f"devaipod-{name}-agent", "cat",
                        "/home/devenv/.config/opencode/devaipod-task.md")
    assert "STORED_TASK_MARKER do the thing" in task_file
    rc, _out, err = run_devaipod("opencode", name, "send", "what now")
    assert rc == 0, err
    bodies = [json.dumps(r.get("body")) for r in fakellm.requests()]
    assert any("STORED_TASK_MARKER" in b and "what now" in b for b in bodies)
    assert not any("STORED_TASK_MARKER" in b and "what now" not in b
                   and "title generator" not in b for b in bodies)


def test_attach_in_tmux_shows_the_tui_and_reaches_the_llm(agent_ws, podman_service, fakellm,
                                                          tmp_path, monkeypatch):
    name = f"{podman_service.instance}-ag7"
    rc, _out, err = agent_ws(name, "-c", "first task")
    assert rc == 0, err
    wait_state(name, "idle", timeout=60)
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    rc, out, err = run_devaipod("attach", name)
    assert rc == 0, err
    session = out.strip()
    try:
        screen = wait_screen(session, "Fake Model", timeout=60)
        assert "Fake Model" in screen
        tmux("send-keys", "-t", f"={session}:0.0", "WRITE_FILE tui.txt typed in the TUI")
        tmux("send-keys", "-t", f"={session}:0.0", "Enter")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = podman_service.podman("exec", f"devaipod-{name}-agent", "cat", "tui.txt",
                                        check=False)
            if got.returncode == 0:
                break
            time.sleep(0.5)
        assert got.stdout.strip() == "typed in the TUI"
        rc, out2, err = run_devaipod("attach", name)  # a second attach reuses the session
        assert rc == 0 and out2.strip() == session, err
        assert tmux("list-panes", "-t", f"={session}:0").count("\n") == 2
    finally:
        tmux("kill-server", check=False)


def tmux(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["tmux", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=30)
    assert proc.returncode == 0 or not check, proc.stderr
    return proc.stdout


def wait_screen(session: str, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", f"={session}:0.0", check=False)
        if text in screen:
            return screen
        time.sleep(0.5)
    pytest.fail(f"{text!r} never appeared in the TUI:\n{screen}")


def test_orchestration_adds_a_worker(podman_service, gitserver, fakellm, tmp_path, monkeypatch):
    config = tmp_path / "devaipod.toml"
    config.write_text('[orchestration]\nenabled = true\n'
                      '[service-gator.gh.repos]\n"owner/repo" = { read = true, write = true }\n')
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
    name = f"{podman_service.instance}-orch"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                 gitserver.network)
    try:
        assert rc == 0, err
        pod = f"devaipod-{name}"
        remotes = exec_in(podman_service, f"{pod}-worker", "git", "remote").split()
        assert remotes == ["origin", "owner"]
        assert "worker" in exec_in(podman_service, f"{pod}-agent", "git", "remote").split()
        alternates = podman_service.podman("exec", f"{pod}-worker", "test", "-e",
                                           ".git/objects/info/alternates", check=False)
        assert alternates.returncode == 1  # dissociated from the agent's tree
        code = ""
        health = ('curl -s -m 2 -o /dev/null -w "%{{http_code}}" -u '
                  '"opencode:$(cat /run/devaipod-env/OPENCODE_{}PASSWORD)" '
                  "http://127.0.0.1:4098/global/health")
        for _ in range(60):  # the worker's OpenCode answers the agent, with its own password
            code = exec_in(podman_service, f"{pod}-agent", "sh", "-c",
                           health.format("WORKER_"), check=False)
            if code == "200":
                break
            time.sleep(0.5)
        assert code == "200"
        assert exec_in(podman_service, f"{pod}-agent", "sh", "-c",
                       health.format("SERVER_"), check=False) == "401"  # not the agent's
        # the worker reaches the gator's read-only endpoint; the agent the full one
        mcp = exec_in(podman_service, f"{pod}-agent", "sh", "-c",
                      'curl -s -m 10 -u "opencode:$(cat /run/devaipod-env/'
                      'OPENCODE_WORKER_PASSWORD)" http://127.0.0.1:4098/mcp')
        assert json.loads(mcp)["service-gator"]["status"] == "connected", mcp
        for port, readonly in ((8765, False), (8766, True)):
            health = exec_in(podman_service, f"{pod}-workspace", "curl", "-s", "-m", "5",
                             f"http://127.0.0.1:{port}/healthz")
            assert json.loads(health)["readonly"] is readonly
        worker_config = exec_in(podman_service, f"{pod}-worker", "cat",
                                "/run/devaipod-env/OPENCODE_CONFIG_CONTENT")
        assert "127.0.0.1:8766/mcp" in worker_config and "8765" not in worker_config
        rc, out, err = run_devaipod("exec", name, "--worker", "--", "git", "remote")
        assert rc == 0 and out.split() == ["origin", "owner"], err
    finally:
        run_devaipod("delete", "--force", name)
    assert podman_service.podman("volume", "exists", f"devaipod-{name}-worker-home",
                                 check=False).returncode == 1


def test_dotfiles_reach_agent_and_workspace(podman_service, gitserver, fakellm, tmp_path,
                                            monkeypatch, quickstart_config):
    from podfixtures import DOTFILES_MARKER

    config = tmp_path / "devaipod.toml"
    config.write_text(quickstart_config.read_text() +
                      f'\n[dotfiles]\nurl = "{gitserver.dotfiles_url}"\n')
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
    name = f"{podman_service.instance}-dot"
    rc, _out, err = run_devaipod("run", gitserver.git_url, "--name", name, "--network",
                                 gitserver.network, "--wait", "-c", "dotfiles check")
    try:
        assert rc == 0, err
        assert "installing the dotfiles in the workspace" in err
        pod = f"devaipod-{name}"
        agent_rules = exec_in(podman_service, f"{pod}-agent", "cat",
                              "/home/devenv/.config/opencode/AGENTS.md")
        assert DOTFILES_MARKER in agent_rules
        ws_rules = exec_in(podman_service, f"{pod}-workspace", "sh", "-c",
                           'cat "$HOME/.config/opencode/AGENTS.md"')
        assert DOTFILES_MARKER in ws_rules
        ws_env = run_devaipod("exec", name, "-W", "--", "env")[1]
        assert "FROM_DOTFILES_DC=yes" in ws_env  # the dotfiles' devcontainer.json applied
        prompts = [json.dumps(r.get("body")) for r in fakellm.requests()
                   if "dotfiles check" in json.dumps(r.get("body"))
                   and "title generator" not in json.dumps(r.get("body"))]
        assert prompts and all(DOTFILES_MARKER in p for p in prompts)
    finally:
        run_devaipod("delete", "--force", name)
