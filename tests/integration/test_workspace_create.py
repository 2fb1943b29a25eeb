"""Creating workspaces: sources, credentials, failures and interruptions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from podfixtures import exec_in, leftovers, run_devaipod

pytestmark = pytest.mark.podman

EMPTY = {"pods": [], "containers": [], "volumes": [], "secrets": []}


def test_pull_request_head_is_checked_out(workspace_factory, podman_service, gitserver):
    name = f"{podman_service.instance}-pr"
    workspace_factory(name, source=f"{gitserver.http_url}/pull/1")
    pod = f"devaipod-{name}"
    for role in ("workspace", "agent"):
        assert exec_in(podman_service, f"{pod}-{role}", "git", "rev-parse", "HEAD") == \
            gitserver.shas["pr"]
        assert exec_in(podman_service, f"{pod}-{role}", "cat", "feature.txt") == "the PR's change"
    labels = json.loads(run_devaipod("status", name, "--json")[1])["labels"]
    assert labels["io.devaipod.pr"] == "1"


def test_local_repository(workspace_factory, podman_service, gitserver, tmp_path):
    work = gitserver.shas["work"]
    name = f"{podman_service.instance}-local"
    workspace_factory(name, source=work)
    head = exec_in(podman_service, f"devaipod-{name}-workspace", "git", "rev-parse", "HEAD")
    assert head == gitserver.shas["main"]


def test_credentials_are_partitioned(workspace_factory, podman_service, tmp_path, monkeypatch):
    values = {"gh": "ghp_trusted_value_1", "llm": "sk-llm-value-2", "tenv": "trusted-env-3"}
    inst = podman_service.instance
    podman_service.podman("secret", "create", f"{inst}-gh", "-", input=values["gh"])
    podman_service.podman("secret", "create", f"{inst}-llm", "-", input=values["llm"])
    config = tmp_path / "devaipod.toml"
    config.write_text(f"""
[trusted]
secrets = ["GH_TOKEN={inst}-gh", "ANTHROPIC_API_KEY={inst}-llm"]
[trusted.env.vars]
TRUSTED_SETTING = "{values['tenv']}"
[env.vars]
PLAIN_SETTING = "everyone"
""")
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
    name = f"{inst}-creds"
    try:
        workspace_factory(name)
        pod = f"devaipod-{name}"
        # what processes in each container see (devaipod exec loads the secrets)
        agent_env = run_devaipod("exec", name, "--", "env")[1]
        ws_env = run_devaipod("exec", name, "-W", "--", "env")[1]
        agent_pid1 = exec_in(podman_service, f"{pod}-agent", "sh", "-c",
                             "cat /proc/$(pgrep -o -x opencode)/environ")
        assert f"ANTHROPIC_API_KEY={values['llm']}" in agent_pid1
        assert f"GH_TOKEN={values['gh']}" in ws_env
        assert f"TRUSTED_SETTING={values['tenv']}" in ws_env
        assert "GH_TOKEN" not in agent_env and values["gh"] not in agent_env
        assert values["tenv"] not in agent_env
        assert f"ANTHROPIC_API_KEY={values['llm']}" in agent_env
        assert "PLAIN_SETTING=everyone" in agent_env and "PLAIN_SETTING=everyone" in ws_env
        dumps = [podman_service.podman("inspect", f"{pod}-{r}").stdout
                 for r in ("workspace", "agent", "api")]
        dumps.append(podman_service.podman("pod", "inspect", pod).stdout)
        for dump in dumps:
            for value in values.values():
                assert value not in dump
    finally:
        podman_service.podman("secret", "rm", f"{inst}-gh", f"{inst}-llm", check=False)


def test_bind_home_copies_host_files(workspace_factory, podman_service, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".config" / "gcloud").mkdir(parents=True)
    (home / ".config/gcloud/application_default_credentials.json").write_text('{"adc": 1}')
    (home / ".ws-only").write_text("for the workspace\n")
    config = tmp_path / "devaipod.toml"
    config.write_text('[bind_home]\npaths = [".config/gcloud/application_default_credentials.json"]'
                      '\n[bind_home_workspace]\npaths = [".ws-only"]\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
    name = f"{podman_service.instance}-home"
    workspace_factory(name)
    pod, svc = f"devaipod-{name}", podman_service
    adc = "/home/devenv/.config/gcloud/application_default_credentials.json"
    assert exec_in(svc, f"{pod}-agent", "cat", adc) == '{"adc": 1}'
    assert f"GOOGLE_APPLICATION_CREDENTIALS={adc}" in run_devaipod("exec", name, "--", "env")[1]
    assert svc.podman("exec", f"{pod}-agent", "test", "-e", "/home/devenv/.ws-only",
                      check=False).returncode == 1  # the workspace's only

    def workspace_copy() -> str:
        return exec_in(svc, f"{pod}-workspace", "sh", "-c",
                       'cat "$HOME/.ws-only"; stat -c %u "$HOME" "$HOME/.ws-only"')

    shown = workspace_copy().splitlines()
    assert shown[0] == "for the workspace" and shown[1] == shown[2]  # owned as the home
    rc, _out, err = run_devaipod("rebuild", name)  # new containers: copied again
    assert rc == 0, err
    assert workspace_copy().splitlines()[0] == "for the workspace"


def test_gpu_without_a_cdi_spec_is_one_clear_line(podman_service, gitserver, tmp_path,
                                                   monkeypatch):
    config = tmp_path / "devaipod.toml"
    config.write_text('[gpu]\nenabled = true\ntarget = "all"\n')
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
    name = f"{podman_service.instance}-gpu"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                 gitserver.network)
    last = err.strip().splitlines()[-1]
    assert rc != 0 and "nvidia-ctk cdi generate" in last and "Traceback" not in err, err
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY


def test_name_clash_is_one_clear_line(workspace_factory, podman_service):
    name = f"{podman_service.instance}-clash"
    workspace_factory(name)
    rc, _out, err = workspace_factory(name, ok=False)
    assert rc != 0
    assert err.strip().splitlines()[-1].startswith("Error: workspace")
    assert "already exists" in err and "Traceback" not in err


def test_unknown_workspace_suggests_close_names(workspace_factory, podman_service):
    name = f"{podman_service.instance}-near"
    workspace_factory(name)
    rc, _out, err = run_devaipod("status", name + "x")
    assert rc != 0 and f"did you mean {name}" in err


@pytest.mark.parametrize("case", ["missing-image", "bad-url", "missing-secret"])
def test_failed_up_leaves_nothing(case, podman_service, gitserver, tmp_path, monkeypatch):
    name = f"{podman_service.instance}-fail-{case}"
    args = ["up", gitserver.git_url, "--name", name, "--network", gitserver.network]
    if case == "missing-image":
        args += ["--image", "localhost/no-such-image:1"]
    elif case == "bad-url":
        args[1] = f"git://{gitserver.host}/no-such-repo.git"
    else:
        config = tmp_path / "devaipod.toml"
        config.write_text('[trusted]\nsecrets = ["GH_TOKEN=no-such-secret-xyz"]\n')
        monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
    rc, _out, err = run_devaipod(*args)
    assert rc != 0
    assert len(err.strip().splitlines()[-1]) < 400 and "Traceback" not in err
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY
    if case == "bad-url":
        assert "cloning" in err and "failed" in err


def test_interrupted_up_leaves_nothing(podman_service, gitserver):
    name = f"{podman_service.instance}-intr"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devaipod", "up", gitserver.git_url, "--name", name,
         "--network", gitserver.network], stderr=subprocess.PIPE, text=True,
        env=dict(os.environ))
    for line in proc.stderr:
        if "creating the pod" in line:
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, err
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY


def test_dry_run_prints_what_a_real_run_executes(podman_service, gitserver):
    name = f"{podman_service.instance}-dry"
    args = ["up", gitserver.git_url, "--name", name, "--network", gitserver.network]
    rc, planned, err = run_devaipod(*args, "--dry-run")
    assert rc == 0, err
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY
    try:
        rc, _out, err = run_devaipod(*args, "--debug")
        assert rc == 0, err
        prefix = "devaipod: + "
        executed = [ln[len(prefix):] for ln in err.splitlines() if ln.startswith(prefix)]
        # the same commands; steps that run at the same time (secrets with volumes, the
        # clones while the pod is made) may interleave, what depends on another may not
        planned_lines = normalise(planned.splitlines())
        assert sorted(planned_lines) == sorted(normalise(executed))
        assert len(executed) >= 10
        for lines in (planned_lines, executed):
            assert " pod start " in lines[-1]
            kinds = [kind(ln) for ln in lines]
            assert kinds.index("pod create") < kinds.index("container create")
            assert kinds.count("pod create") == 1 and "container create" in kinds
    finally:
        run_devaipod("delete", "--force", name)


def kind(line: str) -> str:
    """'pod create', 'container create', 'secret create', ... of a podman command line."""
    words = line.split()
    verb = words[words.index("create") - 1] if "create" in words else ""
    noun = verb if verb in ("pod", "secret", "volume") else "container"
    return f"{noun} create" if "create" in words else " ".join(words[4:6])


def normalise(lines: list[str]) -> list[str]:
    """Drop the creation time label, the only value that differs between two runs."""
    import re

    return [re.sub(r"io\.devaipod\.created=\S+", "io.devaipod.created=T", ln) for ln in lines]
