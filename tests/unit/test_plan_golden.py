"""Golden files: every podman command of fixed workspace plans, reviewed in diffs.

Each case of ``CASES`` is a fixed :class:`plan.Inputs`. Its plan (``plan.build``) is carried
out by ``create.execute`` under the runner's dry run, which records each command that
changes something instead of running it (what ``devaipod up --dry-run`` prints): the
``secret create``, ``volume create``, init containers' ``run``, ``pod create``, containers'
``create``, ``pod start``, home-file copies and after-start ``exec`` steps, in the order
``execute`` runs them. The file ``golden/<case>.txt`` holds them one per line, without the
``podman --remote --url URL`` prefix, quoted with ``shlex.join``. Secret values travel on
stdin: only secret names are in argv, and ``test_no_secret_value_in_argv`` checks that no
value is. An argument that is one of the multi-line script constants of ``PLACEHOLDERS``
is shown as ``<module.NAME>`` (the scripts have tests of their own; each file's header
lists the placeholders it uses); any other multi-line argument fails the test.

Fixed for the files: the creation time, devaipod's version label, the gator's tokens and
the worker's password (monkeypatched), and no ``DEVAIPOD_INSTANCE``.

A change of any flag fails with a unified diff (and the arguments that changed). When the
change is intended, regenerate the files and review their diff like code::

    DEVAIPOD_UPDATE_GOLDEN=1 PYTHONPATH=$PWD/lib pytest tests/unit/test_plan_golden.py
"""

from __future__ import annotations

import datetime
import difflib
import itertools
import os
import shlex
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from devaipod import devcontainer, forges, gitsafe, layout, podman, runner, source
from devaipod.agent import config as agent_config
from devaipod.gator.scopes import Scopes, repo_grant
from devaipod.podman import secret
from devaipod.podman.container import Limits
from devaipod.workspace import create, credentials, dotfiles, homefiles, plan, scripts
from devaipod.workspace import gator as gator_
from devaipod.workspace import worker as worker_

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DEVAIPOD_UPDATE_GOLDEN") == "1"
REGENERATE = "DEVAIPOD_UPDATE_GOLDEN=1 pytest tests/unit/test_plan_golden.py"

PASSWORD = "golden-opencode-password"
API_TOKEN = "golden-api-token"
WORKER_PASSWORD = "golden-worker-password"
CREATED = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
VERSION = "0.0.0-golden"

# arguments shown as <NAME>: multi-line scripts and texts that have tests of their own
PLACEHOLDERS = {
    scripts.CLONE_WORKSPACE: "scripts.CLONE_WORKSPACE",
    scripts.CLONE_AGENT: "scripts.CLONE_AGENT",
    worker_.CLONE_WORKER: "worker.CLONE_WORKER",
    gitsafe.SCRIPT: "gitsafe.SCRIPT",
    dotfiles.CLONE: "dotfiles.CLONE",
    dotfiles.INSTALL: "dotfiles.INSTALL",
    gator_.WRITE: "gator.WRITE",
    gator_.INSTRUCTIONS: "gator.INSTRUCTIONS",
    secret.LOAD_ENV: "secret.LOAD_ENV",
}
TASK_TEXT = "agent_config.task_text"  # the stored task's instructions (init-agent)


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    about: str
    inputs: plan.Inputs


def _src(text: str) -> source.Source:
    return source.parse(text, isdir=lambda path: path.startswith("/home/user/src/"))


def _devcontainer(text: str, pod: str, src: source.Source) -> devcontainer.DevContainer:
    """As inputs.apply_devcontainer makes it: parsed, then its variables substituted."""
    dc = devcontainer.parse(text, ".devcontainer/devcontainer.json")
    local = src.clone_url if src.kind == "local" else f"/{src.project}"
    return devcontainer.substitute(dc, {"USER": "user"}, local_workspace_folder=local,
                                   devcontainer_id=pod,
                                   workspace_folder=f"/workspaces/{src.project}")


def _partition(pod: str, dc: devcontainer.DevContainer | None = None,
               **kw) -> credentials.Partition:
    return credentials.partition(pod, credentials.Inputs(
        agent_allowlist=dc.env_allowlist if dc else (), **kw))


def plain() -> Case:
    pod = "devaipod-plain-000001"
    return Case("a git source (not GitHub), no devcontainer.json, no gator",
                plan.Inputs(pod=pod, source=_src("https://gitlab.com/example/plain"),
                            image="ghcr.io/example/devenv:1",
                            api_image="localhost/devaipod:golden",
                            creds=_partition(pod)))


def github_gator_worker() -> Case:
    pod = "devaipod-widget-000002"
    src = _src("https://github.com/example/widget")
    ws, agent, wk = (layout.container(pod, r) for r in ("workspace", "agent", "worker"))
    adc = f"/home/user/{homefiles.ADC}"
    creds = _partition(
        pod, env_allowlist=("EDITOR",), env_vars={"LOG_LEVEL": "debug"},
        trusted_vars={"JIRA_URL": "https://jira.example.invalid/golden-trusted-value"},
        trusted_secrets=(("GH_TOKEN", "gh_token"), ("OPENAI_API_KEY", "openai_key")),
        file_secrets=(("KUBECONFIG", "kubeconfig"),),
        llm_env=frozenset({"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}),
        host_env={"EDITOR": "vim", "ANTHROPIC_API_KEY": "sk-ant-golden-llm-key-value",
                  "DEVAIPOD_AGENT_OPENCODE_MODEL": "anthropic/claude-golden",
                  "HOME": "/home/user"})
    return Case(
        "a GitHub source with the gator and the worker ([orchestration]), a stored task, "
        "trusted secrets, an LLM key, [bind_home], GPUs for the agent and the worker, "
        "[limits] on both",
        plan.Inputs(pod=pod, source=src, image="ghcr.io/example/devenv:1",
                    api_image="localhost/devaipod:golden", mode="up",
                    task="Fix the flaky test in widget_test.py", title="flaky test",
                    creds=creds, orchestration=True,
                    limits=Limits(cpus=2, memory=4 * 1024**3, pids=4096),
                    gator=Scopes(repos={"example/widget": repo_grant(*gator_.AUTO)}),
                    gator_image="localhost/devaipod:golden",
                    home_copies=[homefiles.Copy(adc, ws, homefiles.ADC),
                                 homefiles.Copy(adc, agent, homefiles.ADC, plan.AGENT_HOME),
                                 homefiles.Copy(adc, wk, homefiles.ADC, plan.AGENT_HOME)],
                    gpu_roles=("agent", "worker")))


DEVCONTAINER = """{
  // a repository's devcontainer.json, with comments
  "name": "webapp",
  "image": "ghcr.io/example/webapp-dev:1",
  "containerEnv": {"NODE_ENV": "development", "APP_ROOT": "${containerWorkspaceFolder}"},
  "remoteEnv": {"PAGER": "less"},
  "mounts": ["source=cache-${devcontainerId},target=/cache,type=volume",
             {"type": "tmpfs", "target": "/scratch"}],
  "forwardPorts": [3000, "8081:8080"],
  "runArgs": ["--shm-size=1g", "--cap-add=NET_RAW", "--device", "/dev/fuse"],
  "capAdd": ["SYS_PTRACE"],
  "securityOpt": ["no-new-privileges"],
  "secrets": {"NPM_TOKEN": {"description": "the npm registry's token"}},
  "remoteUser": "vscode",
  "onCreateCommand": ["npm", "ci"],
  "postCreateCommand": {"hooks": "git config core.hooksPath .githooks",
                        "build": ["npm", "run", "build"]},
  "postStartCommand": "npm run watch > /tmp/watch.log 2>&1 &",
  "customizations": {"devaipod": {"envAllowlist": ["NODE_OPTIONS", "GH_TOKEN"]}}
}"""


def devcontainer_full() -> Case:
    pod = "devaipod-webapp-000003"
    src = _src("https://codeberg.org/example/webapp")
    dc = _devcontainer(DEVCONTAINER, pod, src)
    creds = _partition(pod, dc, trusted_secrets=(("GH_TOKEN", "gh_token"),),
                       host_env={"NODE_OPTIONS": "--max-old-space-size=4096"})
    return Case(
        "a devcontainer.json with containerEnv, mounts, forwardPorts, runArgs, capAdd, "
        "secrets, lifecycle commands (array, object and string forms), remoteUser, "
        "envAllowlist; [dotfiles] with a script",
        plan.Inputs(pod=pod, source=src, image=dc.image, api_image="localhost/devaipod:golden",
                    devcontainer=dc, creds=creds,
                    dotfiles=("https://github.com/example/dotfiles", "setup.sh")))


PR_DEVCONTAINER = """{
  "image": "ghcr.io/example/devenv:1",
  "postCreateCommand": "make deps",
  "postStartCommand": ["make", "serve"]
}"""


def _pull_request(pod: str, trust: bool) -> plan.Inputs:
    src = _src("https://github.com/example/widget/pull/42")
    dc = _devcontainer(PR_DEVCONTAINER, pod, src)
    return plan.Inputs(pod=pod, source=src, image=dc.image,
                       api_image="localhost/devaipod:golden", devcontainer=dc,
                       creds=_partition(pod), trust_source=trust,
                       gator=Scopes(repos={"example/widget": repo_grant(*gator_.AUTO)}),
                       gator_image="localhost/devaipod:golden")


def pull_request() -> Case:
    return Case("a pull request with a devcontainer.json: its lifecycle commands run in the "
                "agent only (label lifecycle-in=agent)",
                _pull_request("devaipod-widget-pr42-000004", trust=False))


def pull_request_trusted() -> Case:
    return Case("a pull request with --trust-source: lifecycle commands in the workspace and "
                "the agent (labels trust-source, lifecycle-in)",
                _pull_request("devaipod-widget-pr42-000005", trust=True))


def local_nested() -> Case:
    pod = "devaipod-tool-000006"
    return Case("a local repository with an origin, `run` with a task, a podman network, "
                "published on 0.0.0.0 (in the devaipod container), container nesting",
                plan.Inputs(pod=pod, source=_src("/home/user/src/tool"),
                            image="ghcr.io/example/devenv:1",
                            api_image="localhost/devaipod:golden", mode="run",
                            task="Summarise the open TODOs", network="devnet",
                            publish_address="0.0.0.0", origin="https://example.invalid/tool.git",
                            nested=True, creds=_partition(pod)))


def private_merge_request() -> Case:
    pod = "devaipod-app-mr7-000007"
    src = _src("https://gitlab.com/group/sub/app/-/merge_requests/7")
    trusted = (("GITLAB_TOKEN", "gitlab_token"),)
    return Case("a merge request of a private GitLab repository whose head is in a fork: the "
                "token's secret in the init clone only, a fork remote, the MR's title",
                plan.Inputs(pod=pod, source=src, image="ghcr.io/example/devenv:1",
                            api_image="localhost/devaipod:golden", title="Make it faster",
                            creds=_partition(pod, trusted_secrets=trusted),
                            clone_auth=credentials.clone_auth(
                                src, forges.find("gitlab.com"), trusted),
                            fork=("https://gitlab.com/someone/app.git", "faster")))


def ssh_agent() -> Case:
    pod = "devaipod-widget-000008"
    src = _src("git@github.com:example/widget.git")
    return Case("an ssh source cloned with the user's ssh-agent: its socket and known_hosts "
                "in the init clone only",
                plan.Inputs(pod=pod, source=src, image="ghcr.io/example/devenv:1",
                            api_image="localhost/devaipod:golden", creds=_partition(pod),
                            clone_auth=credentials.clone_auth(
                                src, forges.find("github.com"), (("GH_TOKEN", "gh_token"),),
                                "/run/user/1000/ssh-agent.sock",
                                "/home/user/.ssh/known_hosts")))


def egress_allow_list() -> Case:
    pod = "devaipod-egress-000009"
    src = _src("https://github.com/example/egress")
    dc = _devcontainer('{"image": "ghcr.io/example/devenv:1", "forwardPorts": [3000]}',
                       pod, src)
    return Case("--egress allow-list with a gator and a forwarded port: the pod on its "
                "internal network, the proxy publishing and relaying its ports",
                plan.Inputs(pod=pod, source=src, image="ghcr.io/example/devenv:1",
                            api_image="localhost/devaipod:golden", devcontainer=dc,
                            creds=_partition(pod), gator=Scopes(), egress="allow-list",
                            allow=("pypi.org", "*.npmjs.org", "git.example.com:8443")))


CASES = {f.__name__.replace("_", "-"): f for f in (
    plain, github_gator_worker, devcontainer_full, pull_request, pull_request_trusted,
    local_nested, private_merge_request, ssh_agent, egress_allow_list)}


# ---------------------------------------------------------------- running a plan


class _Clock(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return CREATED.astimezone(tz)


@pytest.fixture(autouse=True)
def _fixed(monkeypatch, fp):
    """Fixed time, version, tokens and passwords; a dry run (``fp``: no command runs)."""
    monkeypatch.delenv("DEVAIPOD_INSTANCE", raising=False)
    monkeypatch.setattr(plan, "datetime", types.SimpleNamespace(datetime=_Clock,
                                                                UTC=datetime.UTC))
    monkeypatch.setattr(plan, "__version__", VERSION)
    tokens = (f"golden-gator-token-{n}" for n in itertools.count(1))
    monkeypatch.setattr(gator_, "new_token", lambda: next(tokens))
    monkeypatch.setattr(worker_, "new_password", lambda: WORKER_PASSWORD)
    monkeypatch.setattr(runner, "options", runner.Options(dry_run=True))
    monkeypatch.setattr(runner, "click_echo", lambda line: None)  # the plan, recorded


def carried_out(i: plan.Inputs) -> tuple[plan.Plan, list[list[str]]]:
    """The plan of I and the podman commands execute() runs for it (prefix removed)."""
    runner.options.planned.clear()
    p = plan.build(i, PASSWORD, API_TOKEN)
    create.execute(p, dry_run=True)
    prefix = podman.argv([])
    assert all(argv[:len(prefix)] == prefix for argv in runner.options.planned)
    return p, [argv[len(prefix):] for argv in runner.options.planned]


def render(name: str, case: Case, commands: list[list[str]]) -> str:
    placeholders = dict(PLACEHOLDERS)
    if case.inputs.stored_task:
        placeholders[agent_config.task_text(case.inputs.stored_task,
                                            case.inputs.source.repo)] = TASK_TEXT
    used: list[str] = []
    lines = []
    for argv in commands:
        shown = []
        for arg in argv:
            if arg in placeholders:
                used += [placeholders[arg]] if placeholders[arg] not in used else []
                arg = f"<{placeholders[arg]}>"
            assert "\n" not in arg, (f"a multi-line argument in {shlex.join(argv[:3])}: "
                                     f"give it a placeholder in PLACEHOLDERS:\n{arg}")
            shown.append(arg)
        lines.append(shlex.join(shown))
    header = [
        f"# {name}: {case.about}.",
        "# The podman commands (without `podman --remote --url URL`) that create.execute()",
        "# runs for this plan, in order, one per line; secret values go on stdin, not here.",
        f"# Written by tests/unit/test_plan_golden.py; regenerate: {REGENERATE}",
        "# Placeholders: " + (", ".join(f"<{u}>" for u in used) or "none"),
    ]
    return "\n".join(header + lines) + "\n"


def changed_arguments(old: list[str], new: list[str]) -> list[str]:
    """For each changed line, the arguments that differ (long lines hide them in a diff)."""
    out = []
    lines = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        for a, b in zip(old[i1:i2], new[j1:j2], strict=False) if tag == "replace" else ():
            ta, tb = shlex.split(a, comments=True), shlex.split(b, comments=True)
            args = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
            diffs = [_change(ta[x1:x2], tb[y1:y2])
                     for op, x1, x2, y1, y2 in args.get_opcodes() if op != "equal"]
            if diffs:
                out.append(f"  {shlex.join(tb[:3])}: " + "; ".join(diffs))
    return out


def _change(old: list[str], new: list[str]) -> str:
    if not new:
        return f"removed {shlex.join(old)}"
    return f"added {shlex.join(new)}" if not old else f"{shlex.join(old)} -> {shlex.join(new)}"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: generate it with {REGENERATE}"
    expected = path.read_text()
    if text == expected:
        return
    old, new = expected.splitlines(), text.splitlines()
    diff = "\n".join(difflib.unified_diff(old, new, f"golden/{name}.txt", "plan now",
                                          lineterm=""))
    changed = "\n".join(changed_arguments(old, new))
    pytest.fail(f"the plan {name} changed; if that is intended, run {REGENERATE} and "
                f"review the diff\n{diff}\n\narguments changed:\n{changed}", pytrace=False)


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("name", CASES)
def test_plan_argv_matches_its_golden_file(name):
    case = CASES[name]()
    _plan, commands = carried_out(case.inputs)
    check_golden(name, render(name, case, commands))


@pytest.mark.parametrize("name", CASES)
def test_no_secret_value_in_argv(name):
    case = CASES[name]()
    p, commands = carried_out(case.inputs)
    text = render(name, case, commands)
    assert {PASSWORD, API_TOKEN} <= set(p.secrets.values())
    for secret_name, value in p.secrets.items():
        assert value, secret_name
        assert value not in text, f"the value of {secret_name} is in the golden text"
        assert not any(value in arg for argv in commands for arg in argv), secret_name
    # and each secret the plan holds is created, by name
    created = [argv[-2] for argv in commands if argv[:2] == ["secret", "create"]]
    assert created == list(p.secrets)


def test_every_golden_file_has_a_case():
    stale = {f.stem for f in GOLDEN.glob("*.txt")} - set(CASES)
    assert not stale, f"golden files without a case in test_plan_golden.py: {sorted(stale)}"


def test_the_cases_cover_what_they_say():
    """The inputs still produce what each case is about (a refactor of the cases or of
    build() could otherwise silently drop it from the golden files)."""
    def labels(name):
        return carried_out(CASES[name]().inputs)[0].labels

    gw = carried_out(CASES["github-gator-worker"]().inputs)[0]
    assert {layout.container(gw.pod, r) for r in ("gator", "worker")} <= \
        {c.name for c in gw.containers}
    assert layout.read_label(labels("pull-request"), "lifecycle-in") == "agent"
    assert layout.read_label(labels("pull-request"), "trust-source") is None
    trusted = labels("pull-request-trusted")
    assert layout.read_label(trusted, "trust-source") == "true"
    assert layout.read_label(trusted, "lifecycle-in") == "workspace,agent"
    dc = carried_out(CASES["devcontainer-full"]().inputs)[0]
    groups = [s.group for s in dc.after_start if s.group]
    assert "postCreateCommand (workspace)" in groups and "postCreateCommand (agent)" in groups
