"""Private repositories on GitHub, GitLab and Forgejo, and PR look-ups (issue 12, items 2-3).

Three fake forges (tests/fakeforge), one per kind, each with its own token, serve
``owner/private`` (refusing clone and fetch without the token), its public fork
``someone/private`` and PR/MR 1 whose head is the fork's ``feature`` branch. devaipod
reaches their APIs on a host port ([forges."HOST"] api-url) and the pods clone from
``HOST:8000`` on the test network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from podfixtures import (
    PR_TITLE,
    Forge,
    exec_in,
    inspect,
    leftovers,
    private_forge_root,
    run_devaipod,
    start_fakeforge,
    trusted_config,
)

pytestmark = pytest.mark.podman

TOKENS = {"github": "ghp_private_clone_token_4711", "gitlab": "glpat-private-clone-0815",
          "forgejo": "fj_private_clone_token_2342"}
VARS = {"github": "GH_TOKEN", "gitlab": "GITLAB_TOKEN", "forgejo": "FORGEJO_TOKEN"}
APIS = {"github": "/api/v3", "gitlab": "/api/v4", "forgejo": "/api/v1"}
LLM_KEY = "sk-private-repo-llm-key-99"


@dataclass
class Forges:
    by_kind: dict[str, Forge]
    feature: str  # the fork's head commit
    config: Path  # all three tokens and hosts

    def url(self, kind: str, path: str = "") -> str:
        return f"http://{self.by_kind[kind].host}:8000/owner/private{path}"


def config_text(forges: dict[str, Forge], tokens: dict[str, str] | None = None) -> str:
    return "".join(
        f'[forges."{f.host}:8000"]\nkind = "{kind}"\n'
        f'api-url = "{f.url}{APIS[kind]}"\n\n' for kind, f in forges.items())


@contextmanager
def config_with(svc, directory: Path, forges: dict[str, Forge],
                tokens: dict[str, str]) -> Iterator[Path]:
    inst = svc.instance
    secrets = {"ANTHROPIC_API_KEY": (f"{inst}-{directory.name}-llm", LLM_KEY)}
    secrets |= {VARS[kind]: (f"{inst}-{directory.name}-{kind}", token)
                for kind, token in tokens.items()}
    with trusted_config(svc, directory, secrets, config_text(forges)) as path:
        yield path


@pytest.fixture(scope="module")
def forges(podman_service, gitserver, images, fakellm, tmp_path_factory) -> Iterator[Forges]:
    svc, inst = podman_service, podman_service.instance
    made: dict[str, Forge] = {}
    try:
        for kind in TOKENS:
            root = tmp_path_factory.mktemp(f"forge-{kind}")
            private_forge_root(root, gitserver.shas["work"])
            name = f"{inst}-{kind}"
            made[kind] = start_fakeforge(svc, name, gitserver.network, root, TOKENS[kind],
                                         images["base"], web_host=f"{name}:8000")
        with config_with(svc, tmp_path_factory.mktemp("privcfg"), made, TOKENS) as path:
            yield Forges(made, gitserver.shas["pr"], path)
    finally:
        for forge in made.values():
            svc.podman("rm", "-f", "-t", "0", forge.host, check=False)


@pytest.fixture
def pods(forges, monkeypatch, gitserver, unique):
    """``make(verb, source, *args)`` runs `devaipod VERB SOURCE`; pods deleted afterwards."""
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(forges.config))
    made: list[str] = []

    def make(verb: str, source: str, *args: str, name: str | None = None):
        name = name or unique("priv")
        made.append(name)
        rc, out, err = run_devaipod(verb, source, "--name", name, "--network",
                                    gitserver.network, *args, timeout=400)
        return name, rc, out, err

    yield make
    for name in made:
        run_devaipod("delete", "--force", name)


def no_token_anywhere(svc, pod: str, token: str) -> None:
    """Not in `podman inspect` of any of the pod's containers, not in the workspace's git
    config or remote URLs, not in the agent's environment or volumes."""
    ids = svc.podman("ps", "-aq", "--filter", f"pod={pod}").stdout.split()
    assert ids
    assert token not in json.dumps(inspect(svc, *ids))
    ws, agent = f"{pod}-workspace", f"{pod}-agent"
    config = exec_in(svc, ws, "sh", "-c", "cat /workspaces/*/.git/config; git -C "
                     "/workspaces/private remote -v")
    assert token not in config and "extraheader" not in config.lower()
    assert token not in exec_in(svc, agent, "sh", "-c", "env; cat /proc/*/environ 2>/dev/null",
                                check=False)
    found = svc.podman("exec", "--user", "0", agent, "grep", "-rlaF", token, "/workspaces",
                       "/home/devenv", "/mnt/main-workspace", check=False)
    assert found.returncode == 1 and not found.stdout, found.stdout


def test_github_private_repository_runs_to_the_agent(pods, forges, podman_service, fakellm,
                                                     gitserver):
    svc = podman_service
    name, rc, _out, err = pods("run", forges.url("github"), "--wait", "-c",
                               "PRIVATE_REPO_TASK hello")
    assert rc == 0, err
    pod = f"devaipod-{name}"
    ws = f"{pod}-workspace"
    origin = exec_in(svc, ws, "git", "-C", "/workspaces/private", "remote", "get-url", "origin")
    assert origin == forges.url("github")
    assert (exec_in(svc, ws, "git", "-C", "/workspaces/private", "rev-parse", "HEAD")
            == gitserver.shas["main"])
    agent_origin = exec_in(svc, f"{pod}-agent", "git", "-C", "/workspaces/private", "remote",
                           "get-url", "origin")
    assert agent_origin == forges.url("github")
    prompts = [json.dumps(r.get("body")) for r in fakellm.requests()]
    assert any("PRIVATE_REPO_TASK" in p for p in prompts)
    no_token_anywhere(svc, pod, TOKENS["github"])
    seen = forges.by_kind["github"].requests()
    clones = [r for r in seen if "/owner/private" in r["path"] and "upload-pack" in r["path"]]
    assert clones and all(r["authorized"] for r in clones)


def test_gitlab_merge_request_from_a_fork(pods, forges, podman_service):
    svc = podman_service
    name, rc, _out, err = pods("up", forges.url("gitlab", "/-/merge_requests/1"))
    assert rc == 0, err
    pod = f"devaipod-{name}"
    ws = f"{pod}-workspace"

    def ws_git(*args: str) -> str:
        return exec_in(svc, ws, "git", "-C", "/workspaces/private", *args)

    assert ws_git("rev-parse", "HEAD") == forges.feature
    assert ws_git("symbolic-ref", "--short", "HEAD") == "pr-1"
    host = forges.by_kind["gitlab"].host
    assert ws_git("remote", "get-url", "fork") == f"http://{host}:8000/someone/private.git"
    assert ws_git("config", "branch.pr-1.merge") == "refs/heads/feature"
    labels = json.dumps(inspect(svc, pod, kind="pod"))
    assert PR_TITLE in labels  # the workspace's title, from the forge's API
    no_token_anywhere(svc, pod, TOKENS["gitlab"])
    requests = forges.by_kind["gitlab"].requests()
    assert any(r["path"].startswith("/api/v4/projects/owner%2Fprivate/merge_requests/1")
               and r["authorized"] for r in requests)


def test_forgejo_private_issue_runs_with_the_default_task(pods, forges, podman_service):
    url = forges.url("forgejo", "/issues/5")
    name, rc, _out, err = pods("run", url)
    assert rc == 0, err
    pod = f"devaipod-{name}"
    labels = json.dumps(inspect(podman_service, pod, kind="pod"))
    assert f"Fix {url}" in labels and "Issue 5" in labels  # the task, and the issue's title
    no_token_anywhere(podman_service, pod, TOKENS["forgejo"])


def test_default_task_of_a_forgejo_pull_request_has_its_title(forges, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(forges.config))
    from devaipod.config import load_config
    from devaipod.workspace.request import default_task

    url = forges.url("forgejo", "/pulls/1")
    assert default_task(url, load_config()) == f"Review and continue {url}: {PR_TITLE}"


@pytest.mark.parametrize("case", ["wrong token", "no token"])
def test_refused_clone_is_one_line_and_leaves_nothing(case, forges, podman_service,
                                                      gitserver, tmp_path, monkeypatch, unique,
                                                      images):
    svc = podman_service
    tokens = {"gitlab": "glpat-wrong"} if case == "wrong token" else {}
    with config_with(svc, tmp_path, forges.by_kind, tokens) as path:
        monkeypatch.setenv("DEVAIPOD_CONFIG", str(path))
        for extra in ([], ["--devcontainer-json", json.dumps({"image": images["devenv"]})]):
            name = unique("refused")  # the peek refused; then (no peek) the init clone
            rc, _out, err = run_devaipod("up", forges.url("gitlab"), "--name", name,
                                         "--network", gitserver.network, *extra)
            assert rc != 0
            error = [line for line in err.splitlines() if line.startswith("Error:")]
            assert len(error) == 1, err
            if case == "wrong token":
                assert "refused the credentials of GITLAB_TOKEN" in error[0]
            else:
                assert "no token for host" in error[0] and "GITLAB_TOKEN" in err
            assert "Traceback" not in err and "glpat-wrong" not in err
            assert leftovers(svc, f"devaipod-{name}") == {
                "pods": [], "containers": [], "volumes": [], "secrets": []}
