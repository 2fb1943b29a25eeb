"""Fixtures for tests that make pods: a git server container on a test network,
the fake LLM, and helpers (registered for every test by tests/conftest.py).

The server serves the same bare repositories two ways:

- ``git://gitserver/repo.git`` (git daemon), and
- ``http://gitserver:8000/owner/repo`` (git's "dumb" HTTP protocol from a
  static file server), whose ``refs/pull/1/head`` makes PR URLs such as
  ``http://gitserver:8000/owner/repo/pull/1`` testable without a forge.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import serve_git, stop_git

BASE_IMAGE = "localhost/devaipod-base:bookworm"
DEVENV_IMAGE = "localhost/devaipod-devenv:latest"
API_IMAGE = "localhost/devaipod:latest"

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}


def run_devaipod(*args: str, input: str | None = None, timeout: float = 300):
    """``devaipod ARGS`` as a subprocess against the session's podman: (rc, out, err)."""
    proc = subprocess.run([sys.executable, "-m", "devaipod", *args], input=input,
                          capture_output=True, text=True, timeout=timeout, env=dict(os.environ))
    return proc.returncode, proc.stdout, proc.stderr


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout.strip()


def opencode_json(llm_host: str) -> str:
    """The project's OpenCode config: the fake LLM, keyed as in the Quick Start."""
    return json.dumps({
        "$schema": "https://opencode.ai/config.json",
        "provider": {"fake": {
            "npm": "@ai-sdk/openai-compatible", "name": "Fake LLM",
            "options": {"baseURL": f"http://{llm_host}:18080/v1",
                        "apiKey": "{env:ANTHROPIC_API_KEY}"},
            "models": {"fake-model": {"name": "Fake Model", "tool_call": True}}}},
        "model": "fake/fake-model", "small_model": "fake/fake-model",
        "enabled_providers": ["fake"],
    }, indent=2)


def make_repos(root: Path, llm_host: str) -> dict[str, str]:
    """A work repo with two commits and a PR branch, published as bare repos."""
    work = root / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "README.md").write_text("hello from the test repo\n")
    (work / "opencode.json").write_text(opencode_json(llm_host))
    git("add", "README.md", "opencode.json", cwd=work)
    git("commit", "-qm", "first", cwd=work)
    main_sha = git("rev-parse", "HEAD", cwd=work)
    git("checkout", "-qb", "feature", cwd=work)
    (work / "feature.txt").write_text("the PR's change\n")
    git("add", "feature.txt", cwd=work)
    git("commit", "-qm", "feature", cwd=work)
    pr_sha = git("rev-parse", "HEAD", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    srv = root / "srv"
    make_dotfiles(root, srv / "dotfiles.git")
    for bare in (srv / "repo.git", srv / "owner" / "repo"):
        bare.parent.mkdir(parents=True, exist_ok=True)
        git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
        git("update-ref", "refs/pull/1/head", pr_sha, cwd=bare)
        git("update-server-info", cwd=bare)
    return {"main": main_sha, "pr": pr_sha, "work": str(work)}


DOTFILES_MARKER = "DOTFILES_MARKER_RULES: always answer politely"


def make_dotfiles(root: Path, bare: Path) -> None:
    """A dotfiles repo: OpenCode rules (AGENTS.md) under dotfiles/, no install script."""
    work = root / "dotfiles"
    rules = work / "dotfiles" / ".config" / "opencode"
    rules.mkdir(parents=True)
    (rules / "AGENTS.md").write_text(f"# Rules\n\n{DOTFILES_MARKER}\n")
    # the fallback devcontainer.json for projects that have none
    (work / ".devcontainer.json").write_text(json.dumps(
        {"image": DEVENV_IMAGE, "containerEnv": {"FROM_DOTFILES_DC": "yes"}}))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "dotfiles", cwd=work)
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=root)


@dataclass
class GitServer:
    network: str
    host: str
    shas: dict[str, str]

    @property
    def git_url(self) -> str:
        return f"git://{self.host}/repo.git"

    @property
    def dotfiles_url(self) -> str:
        return f"git://{self.host}/dotfiles.git"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:8000/owner/repo"


@pytest.fixture(scope="session")
def images(podman_service):
    for ref in (BASE_IMAGE, DEVENV_IMAGE, API_IMAGE):
        if podman_service.podman("image", "exists", ref, check=False).returncode:
            pytest.fail(f"{ref} is missing: build the images with `make images`")
    return {"base": BASE_IMAGE, "devenv": DEVENV_IMAGE, "api": API_IMAGE}


@contextmanager
def trusted_config(svc, directory: Path, secrets: dict[str, tuple[str, str]],
                   more: str = "") -> Iterator[Path]:
    """DIRECTORY/devaipod.toml whose ``[trusted] secrets`` are podman secrets made here,
    ``{ENV: (secret name, value)}``, and removed afterwards; MORE is appended."""
    for name, value in secrets.values():
        svc.podman("secret", "create", name, "-", input=value)
    try:
        path = directory / "devaipod.toml"
        refs = ", ".join(f'"{env}={name}"' for env, (name, _value) in secrets.items())
        path.write_text(f"[trusted]\nsecrets = [{refs}]\n{more}")
        yield path
    finally:
        svc.podman("secret", "rm", *(name for name, _value in secrets.values()), check=False)


@contextmanager
def serve_test_repos(svc, root: Path, prefix: str, image: str) -> Iterator[GitServer]:
    """The test repositories as ``<prefix>-git`` on ``<prefix>-net``; the fake LLM is to be
    ``<prefix>-llm`` (the repo's opencode.json points there)."""
    server = GitServer(f"{prefix}-net", f"{prefix}-git", make_repos(root, f"{prefix}-llm"))
    try:
        serve_git(svc, root / "srv", server.network, server.host, image)
        yield server
    finally:
        stop_git(svc, server.network, server.host)


@pytest.fixture(scope="session")
def gitserver(podman_service, images, tmp_path_factory):
    with serve_test_repos(podman_service, tmp_path_factory.mktemp("gitserver"),
                           podman_service.instance, images["base"]) as server:
        yield server


@pytest.fixture
def workspace_factory(gitserver, podman_service):
    """``make(name, *args)`` runs `devaipod up`; every pod made is deleted afterwards."""
    made: list[str] = []

    def make(name: str, *args: str, source: str | None = None, ok: bool = True):
        made.append(name)
        rc, out, err = run_devaipod("up", source or gitserver.git_url, "--name", name,
                                    "--network", gitserver.network, *args, timeout=300)
        if ok:
            assert rc == 0, f"up failed ({rc}): {err}"
        return rc, out, err

    yield make
    for name in made:
        run_devaipod("delete", "--force", name)


DEVCONTAINER_CLI = (Path(__file__).resolve().parent.parent
                    / "hack/devcontainer-cli/node_modules/.bin/devcontainer")


@pytest.fixture
def devcontainer_cli(monkeypatch, tmp_path):
    """The devcontainer CLI that `make devcontainer-cli` installs, for devaipod to build
    features with; its cache holds a fresh, empty control manifest, so that the CLI has
    no reason to fetch one from containers.dev (nothing outside this machine)."""
    if not DEVCONTAINER_CLI.is_file():
        pytest.fail(f"{DEVCONTAINER_CLI} is missing: run `make devcontainer-cli`")
    cache = tmp_path / "cache"
    manifest = (cache / "devaipod/devcontainer-cli" / f"devcontainercli-{getpass.getuser()}"
                / "control-manifest.json")
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"disallowedFeatures": [], "featureAdvisories": []}')
    monkeypatch.setenv("DEVAIPOD_DEVCONTAINER_CLI", str(DEVCONTAINER_CLI))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return DEVCONTAINER_CLI


def inspect(svc, *names: str, kind: str = "container") -> list[dict]:
    data = json.loads(svc.podman(kind, "inspect", *names).stdout)
    return data if isinstance(data, list) else [data]  # podman 4.3's pod inspect: one object


def exec_in(svc, container: str, *cmd: str, check: bool = True) -> str:
    proc = svc.podman("exec", container, *cmd, check=check)
    return proc.stdout.strip()


def leftovers(svc, pod: str) -> dict[str, list[str]]:
    """Everything still labelled as ``pod``'s own (or named after it)."""
    label = f"label=io.devaipod.pod={pod}"
    found = {
        "pods": svc.podman("pod", "ps", "-q", "--filter", f"name=^{pod}$").stdout.split(),
        "containers": svc.podman("ps", "-aq", "--filter", label).stdout.split(),
        "volumes": svc.podman("volume", "ls", "-q", "--filter", label).stdout.split(),
    }
    secrets = svc.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    found["secrets"] = [s for s in secrets if s.startswith(pod + "-")]
    return found


FAKELLM_DIR = Path(__file__).resolve().parent / "fakellm"


@dataclass
class FakeLLM:
    host: str
    url: str  # from the host, for /_requests

    def requests(self) -> list[dict]:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/_requests", timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/_reset", data=b"",
                                                      method="POST"), timeout=10).read()


def start_fakellm(svc, name: str, network: str, image: str) -> FakeLLM:
    """The fake LLM as ``<name>:18080`` on ``network``, answering on a host port too."""
    svc.podman(
        "run", "-d", "--name", name, "--network", network, "--init",
        "--label", f"io.devaipod.instance={svc.instance}",
        "-p", "127.0.0.1::18080", "-v", f"{FAKELLM_DIR}:/srv:ro", image,
        "python3", "/srv/fakellm.py", "--port", "18080")
    port = svc.podman("port", name, "18080").stdout.strip().rsplit(":", 1)[1]
    llm = FakeLLM(name, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            llm.requests()
            return llm
        except OSError:
            time.sleep(0.3)
    pytest.fail("the fake LLM did not start: " + svc.podman("logs", name, check=False).stderr)


@pytest.fixture(scope="session")
def fakellm(podman_service, gitserver, images):
    """The fake OpenAI-compatible LLM, as `<instance>-llm:18080` on the test network."""
    name = f"{podman_service.instance}-llm"
    try:
        yield start_fakellm(podman_service, name, gitserver.network, images["base"])
    finally:
        podman_service.podman("rm", "-f", "-t", "0", name, check=False)


FAKEFORGE_DIR = Path(__file__).resolve().parent / "fakeforge"
FORGE_TOKEN = "ghp_gator_only_token_8c21"  # the GitHub token only the gator holds
FORGE_LLM_KEY = "sk-gator-llm-key-77"


class Forge:
    """The fake GitHub (tests/fakeforge) as seen from the tests, with the human's token."""

    def __init__(self, host: str, url: str) -> None:
        self.host, self.url = host, url  # name on the test network; address from here

    def api(self, method: str, path: str, body=None):
        """(status, JSON) of an API call under /api/v3, as the human."""
        import urllib.error
        import urllib.request

        req = urllib.request.Request(
            f"{self.url}/api/v3/{path.lstrip('/')}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {FORGE_TOKEN}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str):
        """GET PATH (from the root, e.g. /api/v3/user); HTTPError unless it succeeds."""
        import urllib.request

        req = urllib.request.Request(f"{self.url}{path}",
                                     headers={"Authorization": f"token {FORGE_TOKEN}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def requests(self) -> list[dict]:
        return self.get("/_requests")

    def refs(self, repo: str = "owner/repo") -> dict[str, str]:
        """Every branch of REPO: {name: sha}."""
        return {b["name"]: b["commit"]["sha"] for b in self.api("GET", f"repos/{repo}/branches")[1]}


def start_fakeforge(svc, name: str, network: str, root: Path, token: str, image: str,
                    web_host: str | None = None) -> Forge:
    """tests/fakeforge serving ROOT as ``NAME:8000`` on NETWORK (and on a host port), with
    TOKEN; WEB_HOST: the host its API puts in URLs. Remove it with ``podman rm -f NAME``."""
    svc.podman("run", "-d", "--name", name, "--network", network, "--init",
               "--label", f"io.devaipod.instance={svc.instance}", "-p", "127.0.0.1::8000",
               "-v", f"{FAKEFORGE_DIR}:/srv:ro", "-v", f"{root}:/forge", image,
               "python3", "/srv/fakeforge.py", "--port", "8000", "--root", "/forge",
               "--token", token, *(["--web-host", web_host] if web_host else []))
    port = svc.podman("port", name, "8000").stdout.strip().rsplit(":", 1)[1]
    forge = Forge(name, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            forge.requests()
            return forge
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"the fake forge {name} did not start: " + svc.podman(
                    "logs", name, check=False).stderr)
            time.sleep(0.3)


PR_TITLE = "Speed up the widget (from a fork)"


def private_forge_root(root: Path, work: str) -> None:
    """A fake forge's ROOT: owner/private (private), its fork someone/private (public), and
    PR/MR 1 of owner/private whose head is the fork's ``feature`` branch."""
    for full in ("owner/private", "someone/private"):
        git("clone", "-q", "--bare", work, str(root / f"{full}.git"), cwd=root)
    bare = root / "owner" / "private.git"
    feature = git("rev-parse", "refs/heads/feature", cwd=bare)
    git("update-ref", "-d", "refs/heads/feature", cwd=bare)  # the head is the fork's only
    for ref in ("refs/pull/1/head", "refs/merge-requests/1/head"):
        git("update-ref", ref, feature, cwd=bare)
    (root / "forge.json").write_text(json.dumps({
        "private": ["owner/private"],
        "pulls": {"owner/private#1": {"title": PR_TITLE, "head_repo": "someone/private",
                                      "head": "feature"}}}))


@pytest.fixture(scope="module")
def forge(podman_service, gitserver, images, tmp_path_factory):
    """The fake GitHub as ``<instance>-forge:8000`` on the test network, serving owner/repo
    (a copy of the test repository: main and feature)."""
    svc, inst = podman_service, podman_service.instance
    root = tmp_path_factory.mktemp("forge")
    (root / "owner").mkdir()
    git("clone", "-q", "--bare", gitserver.shas["work"], str(root / "owner" / "repo.git"),
        cwd=root)
    name = f"{inst}-forge"
    forge = start_fakeforge(svc, name, gitserver.network, root, FORGE_TOKEN, images["base"])
    yield forge
    svc.podman("rm", "-f", "-t", "0", name, check=False)


@contextmanager
def forge_config(svc, directory: Path, forge: Forge, more: str = "") -> Iterator[Path]:
    """devaipod.toml with the LLM key and the forge's token as trusted secrets, and the
    gator pointed at the fake forge; MORE is appended."""
    inst = svc.instance
    with trusted_config(svc, directory, {
            "ANTHROPIC_API_KEY": (f"{inst}-{directory.name}-llm", FORGE_LLM_KEY),
            "GH_TOKEN": (f"{inst}-{directory.name}-gh", FORGE_TOKEN)},
            f'[service-gator.gh]\nurl = "http://{forge.host}:8000"\n'
            f'api-url = "http://{forge.host}:8000/api/v3"\n{more}') as path:
        yield path


@pytest.fixture(scope="module")
def gator_config(podman_service, forge, tmp_path_factory):
    with forge_config(podman_service, tmp_path_factory.mktemp("gatorcfg"), forge) as path:
        yield path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class WebServer:
    """A `devaipod web` the test started: where it listens and its login token."""

    port: int
    token: str
    env: dict[str, str]
    output: list[str]  # its stdout so far

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def web_server(state: Path, env: dict[str, str], host: str = "127.0.0.1",
               stderr=subprocess.DEVNULL) -> Iterator[WebServer]:
    """`devaipod web` on a free port with STATE as its state dir (and its terminals' own
    tmux server); ENV is added to the environment. Stopped, with its tmux, afterwards."""
    import re
    import threading

    port = free_port()
    env = {**os.environ, **env, "DEVAIPOD_STATE_DIR": str(state), "TMUX_TMPDIR": str(state)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devaipod", "web", "--host", host, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    output: list[str] = []
    login = threading.Event()

    def drain() -> None:  # keep reading stdout, so the server never blocks on it
        for line in proc.stdout:
            output.append(line)
            if "Login URL" in line:
                login.set()
        login.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        found = login.wait(60) and next((ln for ln in output if "Login URL" in ln), "")
        match = re.search(r"/login\?token=(\S+)", found or "")
        if not match:
            pytest.fail(f"`devaipod web` printed no login URL: {''.join(output)!r}")
        yield WebServer(port, match.group(1), env, output)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        subprocess.run(["tmux", "kill-server"], env=env, capture_output=True, check=False)


@contextmanager
def http_servers(svc, network: str, image: str, root: Path,
                 kinds: tuple[str, ...] = ("ok", "no")) -> Iterator[dict[str, str]]:
    """``{kind: host}``: python http.servers as ``<instance>-eg-<kind>:8000`` on NETWORK,
    each serving ``/<kind>.txt`` with the text ``<kind>-served`` (egress tests)."""
    made: dict[str, str] = {}
    try:
        for kind in kinds:
            srv = root / kind
            srv.mkdir(parents=True, exist_ok=True)
            (srv / f"{kind}.txt").write_text(f"{kind}-served")
            srv.chmod(0o755)
            name = f"{svc.instance}-eg-{kind}"
            svc.podman("run", "-d", "--name", name, "--network", network, "--init",
                       "--label", f"io.devaipod.instance={svc.instance}",
                       "-v", f"{srv}:/srv:ro,Z", image,
                       "python3", "-m", "http.server", "8000", "--directory", "/srv")
            made[kind] = name
        yield made
    finally:
        for name in made.values():
            svc.podman("rm", "-f", "-t", "0", name, check=False)


def ip_of(svc, name: str) -> str:
    """NAME's address on its (first) network."""
    info = json.loads(svc.podman("inspect", name).stdout)[0]
    return next(iter(info["NetworkSettings"]["Networks"].values()))["IPAddress"]
