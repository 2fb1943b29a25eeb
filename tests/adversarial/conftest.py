"""Attacks run the way a hostile agent runs them, against real pods.

Every test here plays a prompt-injected agent: its commands run *inside the
agent (or worker) container* of a real pod, as the agent's own user (``podman
exec`` without ``--user``, or a ``RUN_BASH`` step the real OpenCode runs for
the fake LLM); then the trusted side is exercised (the sidecar's review, Merge,
a ``git status`` in the workspace, the control plane, the gator) and the test
checks that the attack had no effect. Each test names its attack in its
docstring; ``man/devaipod-security.7.md`` lists them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from podfixtures import WebServer, forge_config, run_devaipod, trusted_config, web_server

pytestmark = pytest.mark.podman

LLM_KEY = "sk-adversarial-llm-key-5150"
GH_TOKEN = "ghp_adversarial_trusted_token_1337"


@pytest.fixture(scope="module")
def hostile_config(podman_service, tmp_path_factory):
    """devaipod.toml with the LLM key and a GitHub token as trusted podman secrets."""
    inst = podman_service.instance
    with trusted_config(podman_service, tmp_path_factory.mktemp("hostile"), {
            "ANTHROPIC_API_KEY": (f"{inst}-adv-llm", LLM_KEY),
            "GH_TOKEN": (f"{inst}-adv-gh", GH_TOKEN)}) as path:
        yield path


def promisor_trap(path: str) -> str:
    """A shell script, run in the agent's tree: make it a partial clone whose promisor
    remote's uploadpack is `touch /tmp/PWNED-lazy`, and move the blob of PATH (at HEAD)
    to /tmp/hidden-blob, so that whoever reads that blob in the tree lazy-fetches."""
    return f"""blob=$(git rev-parse HEAD:{path})
git config core.repositoryformatversion 1
git config extensions.partialClone evil
git config remote.evil.url /nonexistent
git config remote.evil.promisor true
git config remote.evil.partialclonefilter blob:none
git config remote.evil.uploadpack 'touch /tmp/PWNED-lazy; false'
mv .git/objects/$(echo $blob | cut -c1-2)/$(echo $blob | cut -c3-) /tmp/hidden-blob
"""


@dataclass
class Pod:
    """A workspace whose agent is hostile."""

    name: str  # full pod name
    svc: object

    def container(self, role: str) -> str:
        return f"{self.name}-{role}"

    def run(self, role: str, script: str, *, user: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        """``sh -c SCRIPT`` in the pod's ROLE container (as its own user unless USER)."""
        args = ["exec", *(["--user", user] if user else []), self.container(role),
                "sh", "-c", script]
        proc = self.svc.podman(*args, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"{role}: {script!r} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def agent(self, script: str, check: bool = True) -> subprocess.CompletedProcess:
        """What the hostile agent does: a shell command in its own container, as itself."""
        return self.run("agent", script, check=check)

    def exists(self, role: str, path: str) -> bool:
        return self.run(role, f"test -e {path}", user="0", check=False).returncode == 0


@pytest.fixture
def hostile_pod(hostile_config, monkeypatch, gitserver, fakellm, podman_service, unique):
    """``make(*up_args)`` makes a workspace with `devaipod up` (the agent idle, ready to
    be driven) and returns a :class:`Pod`; every pod made is deleted afterwards."""
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(hostile_config))
    made: list[str] = []

    def make(*args: str, source: str | None = None) -> Pod:
        name = unique("adv")
        made.append(name)
        rc, _out, err = run_devaipod("up", source or gitserver.git_url, "--name", name,
                                     "--network", gitserver.network, *args, timeout=300)
        assert rc == 0, f"up failed ({rc}): {err}"
        return Pod(f"devaipod-{name}", podman_service)

    yield make
    for name in made:
        run_devaipod("delete", "--force", name)


@dataclass
class ControlPlane:
    """A `devaipod web` of the test's (on every address: pods reach it), called as a
    non-browser client with the token (Authorization: Bearer)."""

    web: WebServer

    def __getattr__(self, name: str):  # base, port, token, env
        return getattr(self.web, name)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        """(status, text) of an API call."""
        import json
        import urllib.error
        import urllib.request

        req = urllib.request.Request(self.web.base + path, method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {self.web.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def call_json(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        import json

        status, text = self.call(method, path, body)
        return status, json.loads(text or "null")


@pytest.fixture(scope="module")
def control_plane(hostile_config, tmp_path_factory):
    with web_server(tmp_path_factory.mktemp("adv-web"), {"DEVAIPOD_CONFIG": str(hostile_config)},
                    host="0.0.0.0") as web:
        yield ControlPlane(web)


def sidecar(pod: Pod):
    """The pod's API sidecar, as the CLI and the control plane call it (the pod's token)."""
    from devaipod.agent.client import Client

    return Client.for_pod(pod.name)


# the gator and the agent's OpenCode listen (a pod with a gator, no worker)
GATOR_READY = """
for _ in $(seq 60); do
  curl -s -m 5 -o /dev/null http://127.0.0.1:8765/healthz &&
    curl -s -m 5 -o /dev/null http://127.0.0.1:4096/global/health && exit 0
  sleep 1
done
exit 1
"""


@contextmanager
def forge_pod(svc, forge, gitserver, tmp_path_factory, tag: str, more: str = "",
              ready: str = GATOR_READY, args: tuple[str, ...] = ()) -> Iterator[Pod]:
    """A workspace of owner/repo on the fake forge (its gator pointed there; MORE added
    to the config; ARGS added to `up`), named ``<instance>-TAG``, ready when READY exits
    0 in the agent; deleted at the end."""
    name = f"{svc.instance}-{tag}"
    with forge_config(svc, tmp_path_factory.mktemp(tag), forge, more) as config, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEVAIPOD_CONFIG", str(config))
        try:
            rc, _out, err = run_devaipod("up", f"http://{forge.host}:8000/owner/repo",
                                         "--name", name, "--network", gitserver.network,
                                         *args, timeout=300)
            assert rc == 0, err
            pod = Pod(f"devaipod-{name}", svc)
            pod.run("agent", ready)
            yield pod
        finally:
            run_devaipod("delete", "--force", name)
