"""A project's devcontainer.json against real podman: build, env, secrets, lifecycle."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from podfixtures import GIT_ENV, exec_in, leftovers, run_devaipod

pytestmark = pytest.mark.podman

EMPTY = {"pods": [], "containers": [], "volumes": [], "secrets": []}


def make_project(root, devcontainer: dict, dockerfile: str | None = None):
    root.mkdir(parents=True, exist_ok=True)
    (root / ".devcontainer").mkdir()
    (root / ".devcontainer" / "devcontainer.json").write_text(
        "// a devcontainer with comments and a trailing comma\n" +
        json.dumps(devcontainer, indent=2)[:-2] + ",\n}\n")
    if dockerfile:
        (root / ".devcontainer" / "Dockerfile").write_text(dockerfile)
    (root / "README.md").write_text("devcontainer test\n")
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(root)}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return str(root)


@pytest.fixture
def dc_secret(podman_service):
    name = f"DC_SECRET_{podman_service.instance.replace('-', '_').upper()}"
    podman_service.podman("secret", "create", name, "-", input="dc-secret-value-7")
    yield name
    podman_service.podman("secret", "rm", name, check=False)


def test_build_env_secrets_and_lifecycle(podman_service, images, gitserver, tmp_path,
                                         monkeypatch, dc_secret):
    monkeypatch.setenv("DEVAIPOD_TEST_LOCALVAR", "from-the-host")
    project = make_project(tmp_path / "proj", {
        "build": {"dockerfile": "Dockerfile", "args": {"MARK": "built-by-devaipod"}},
        "containerEnv": {"FROM_LOCAL": "${localEnv:DEVAIPOD_TEST_LOCALVAR}"},
        "secrets": {dc_secret: {"description": "a test secret"}},
        "onCreateCommand": "echo created >> /workspaces/oncreate.log",
        "postStartCommand": ["sh", "-c", "echo started >> /tmp/poststart.log"],
    }, dockerfile=f"FROM {images['devenv']}\nARG MARK\nRUN echo $MARK > /build-mark\n")
    name = f"{podman_service.instance}-dc"
    pod = f"devaipod-{name}"
    try:
        rc, _out, err = run_devaipod("up", project, "--name", name, "--network",
                                     gitserver.network)
        assert rc == 0, err
        assert "building the devcontainer image" in err
        assert exec_in(podman_service, f"{pod}-workspace", "cat", "/build-mark") == \
            "built-by-devaipod"
        ws_env = run_devaipod("exec", name, "-W", "--", "env")[1]
        agent_env = run_devaipod("exec", name, "--", "env")[1]
        assert "FROM_LOCAL=from-the-host" in ws_env
        assert f"{dc_secret}=dc-secret-value-7" in ws_env
        assert "dc-secret-value-7" not in agent_env  # the human's secrets: the workspace's
        assert "FROM_LOCAL" not in agent_env  # containerEnv is the workspace's
        assert exec_in(podman_service, f"{pod}-workspace", "cat",
                       "/workspaces/oncreate.log") == "created"
        assert run_devaipod("stop", name, "-t", "0")[0] == 0
        rc, _out, err = run_devaipod("start", name)
        assert rc == 0, err
        assert exec_in(podman_service, f"{pod}-workspace", "cat",
                       "/tmp/poststart.log") == "started"  # ran again after the restart
        assert exec_in(podman_service, f"{pod}-workspace", "cat",
                       "/workspaces/oncreate.log") == "created"  # onCreate ran once
        run_devaipod("delete", "--force", name)
        rc, _out, err = run_devaipod("up", project, "--name", name, "--network",
                                     gitserver.network)
        assert rc == 0, err
        assert "is up to date" in err and "building the devcontainer image" not in err
    finally:
        run_devaipod("delete", "--force", name)


def test_failing_post_create_fails_up_cleanly(podman_service, images, gitserver, tmp_path):
    project = make_project(tmp_path / "bad", {
        "image": images["devenv"], "postCreateCommand": "echo about to fail; exit 7"})
    name = f"{podman_service.instance}-dcfail"
    rc, _out, err = run_devaipod("up", project, "--name", name, "--network",
                                 gitserver.network)
    assert rc != 0
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: postCreateCommand") and "exited with 7" in last
    assert "about to fail" in err  # the command's output was shown
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY


def test_refused_run_args_are_one_clear_line(podman_service, images, gitserver, tmp_path):
    project = make_project(tmp_path / "priv", {
        "image": images["devenv"], "runArgs": ["--privileged"]})
    name = f"{podman_service.instance}-dcpriv"
    rc, _out, err = run_devaipod("up", project, "--name", name, "--network",
                                 gitserver.network)
    assert rc != 0 and "--privileged" in err and "Traceback" not in err
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY


# the waiter gives up after 30 s: run one after the other, it would wait for the
# maker that comes after it, fail, and fail `up`
WAITER = ("i=0; until [ -f /tmp/made ]; do i=$((i+1)); [ $i -gt 300 ] && exit 9; "
          "sleep 0.1; done; echo waited >> /tmp/parallel.log")


def test_object_form_commands_run_in_parallel(podman_service, images, gitserver, tmp_path):
    project = make_project(tmp_path / "par", {
        "image": images["devenv"],
        "postCreateCommand": {"waiter": WAITER, "maker": "touch /tmp/made"},
    })
    name = f"{podman_service.instance}-par"
    try:
        rc, _out, err = run_devaipod("up", project, "--name", name, "--network",
                                     gitserver.network)
        assert rc == 0, err
        assert "postCreateCommand (workspace): 2 commands in parallel" in err
        for role in ("workspace", "agent"):
            assert exec_in(podman_service, f"devaipod-{name}-{role}", "cat",
                           "/tmp/parallel.log") == "waited"
    finally:
        run_devaipod("delete", "--force", name)


# retry_lookup's `sleep`, made to wait until the test says go (the test adds the git
# server's name to the network meanwhile, as aardvark-dns answering again would)
GATED_SLEEP = 'sleep() { until [ -e /tmp/go ]; do command sleep 0.1; done; }\n'


def test_the_peek_tries_again_a_host_name_that_did_not_resolve(podman_service, gitserver,
                                                               images, unique):
    """podman's DNS server (aardvark-dns < 1.11) drops queries while containers join the
    network: the peek's clone, git's own error on a real network, is tried again."""
    from devaipod import source
    from devaipod.devcontainer import repo

    net, alias, name = unique("late-net"), unique("late-git"), unique("peek")
    podman_service.podman("network", "create", net)
    try:
        argv = repo._peek_argv(images["devenv"], net, source.parse(f"git://{alias}/repo.git"),
                               None)
        script = argv.index(repo.PEEK)
        argv[script] = GATED_SLEEP + repo.PEEK
        argv[argv.index("--rm")] = "--detach"
        podman_service.podman(*argv[:1], "--name", name, *argv[1:])
        logs = wait_for_log(podman_service, name, "a host name did not resolve")
        assert "unable to look up" not in logs  # git's error waits for the last try
        podman_service.podman("network", "connect", "--alias", alias, net, gitserver.host)
        podman_service.podman("exec", name, "touch", "/tmp/go")
        assert podman_service.podman("wait", name).stdout.strip() == "0"
        logs = podman_service.podman("logs", name).stderr
        assert "unable to look up" not in logs
    finally:
        podman_service.podman("rm", "--force", name, check=False)
        podman_service.podman("network", "disconnect", net, gitserver.host, check=False)
        podman_service.podman("network", "rm", net, check=False)


def wait_for_log(podman_service, name: str, line: str, timeout: float = 120) -> str:
    """Container NAME's output once it has LINE; fails at once if NAME ends without it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = podman_service.podman("logs", name, check=False)
        if line in proc.stdout + proc.stderr:
            return proc.stdout + proc.stderr
        state = podman_service.podman("inspect", "--format", "{{.State.Status}}", name).stdout
        if state.strip() == "exited":
            break
        time.sleep(0.2)
    proc = podman_service.podman("logs", name, check=False)
    pytest.fail(f"{name} has not logged {line!r}: {proc.stdout + proc.stderr!r}")
