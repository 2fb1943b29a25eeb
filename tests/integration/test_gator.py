"""The gator end to end: real OpenCode calls the pod's service-gator over MCP, which
pushes to the fake GitHub (tests/fakeforge) with a token the agent never sees."""

from __future__ import annotations

import json
import time
import urllib.error

import pytest

from podfixtures import FORGE_TOKEN as TOKEN
from podfixtures import exec_in, inspect, leftovers, run_devaipod

pytestmark = pytest.mark.podman


@pytest.fixture
def gator_ws(gator_config, forge, gitserver, fakellm, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(gator_config))
    made: list[str] = []

    def up(name: str, *args: str, source: str | None = None):
        made.append(name)
        return run_devaipod("up", source or f"http://{forge.host}:8000/owner/repo", "--name",
                            name, "--network", gitserver.network, *args, timeout=300)

    yield up
    for name in made:
        run_devaipod("delete", "--force", name)


def send(name: str, text: str) -> str:
    rc, out, err = run_devaipod("opencode", name, "send", text, timeout=180)
    assert rc == 0, err
    return out


def mcp_status(name: str) -> str:
    rc, out, err = run_devaipod("opencode", name, "mcp", "list", "--json", timeout=180)
    assert rc == 0, err
    return json.loads(out)["service-gator"]["status"]


def push_call(sha: str, description: str) -> str:
    args = {"repo_path": "/workspaces/repo", "commit_sha": sha, "repo": "owner/repo",
            "description": description, "base": "main", "title": "Agent change"}
    return f"TOOL service-gator_github_push {json.dumps(args)}"


def agent_commit(svc, pod: str, text: str) -> str:
    script = (f"cd /workspaces/repo && echo {text} > gator.txt && git add gator.txt && "
              f"git commit -qm 'agent: {text}' -m 'Made by the agent.' && git rev-parse HEAD")
    return exec_in(svc, f"{pod}-agent", "sh", "-c", script)


def test_agent_pushes_through_the_gator_and_never_holds_the_token(
        gator_ws, podman_service, forge):
    svc, name = podman_service, f"{podman_service.instance}-gt1"
    pod = f"devaipod-{name}"
    rc, _out, err = gator_ws(name)
    assert rc == 0, err
    gator = inspect(svc, f"{pod}-gator")[0]
    assert gator["State"]["Status"] == "running"
    assert any(m["Name"] == f"{pod}-gator" and not m["RW"] for m in gator["Mounts"])
    for role in ("workspace", "agent", "api"):
        mounts = inspect(svc, f"{pod}-{role}")[0]["Mounts"]
        assert not any(m.get("Name") == f"{pod}-gator" for m in mounts), role
    rc, out, err = run_devaipod("gator", "show", name)
    assert out.strip() == "github:owner/repo:read,create-draft,push-new-branch", err

    # the agent's OpenCode knows the gator, and sends it its bearer token (OpenCode honours
    # the remote server's "headers"); without the token the gator answers 401
    assert mcp_status(name) == "connected"
    unauthenticated = exec_in(svc, f"{pod}-agent", "curl", "-s", "-o", "/dev/null", "-w",
                              "%{http_code}", "-X", "POST", "http://127.0.0.1:8765/mcp")
    assert unauthenticated == "401"
    # the token is in no container's inspect or env
    everything = svc.podman("container", "inspect", *[f"{pod}-{r}" for r in
                                                      ("workspace", "agent", "gator", "api")])
    assert TOKEN not in everything.stdout
    assert TOKEN not in exec_in(svc, f"{pod}-agent", "env")

    sha = agent_commit(svc, pod, "first")
    reply = send(name, push_call(sha, "gator-e2e"))
    assert "Pushed" in reply and "Draft pull request" in reply, reply
    branch = forge.get("/api/v3/repos/owner/repo/git/ref/heads/agent-gator-e2e")
    assert branch["object"]["sha"] == sha
    pr = next(p for p in forge.get("/api/v3/repos/owner/repo/pulls")
              if p["head"]["ref"] == "agent-gator-e2e")
    assert pr["draft"] and pr["body"] == "<!-- service-gator-pr -->\nMade by the agent."
    pushes = [r for r in forge.get("/_requests") if "receive-pack" in r["path"]]
    assert pushes and all(r["authorized"] for r in pushes if r["method"] == "POST")

    # grants change live: read only now, so the next push is refused
    rc, _out, err = run_devaipod("gator", "add", name, "github:owner/repo:read")
    assert rc == 0, err
    sha2 = agent_commit(svc, pod, "second")
    reply = send(name, push_call(sha2, "refused"))
    assert "no push-new-branch permission" in reply, reply
    with pytest.raises(urllib.error.HTTPError):
        forge.get("/api/v3/repos/owner/repo/git/ref/heads/agent-refused")

    # whatever starts first, the sidecar gets OpenCode connected to the gator
    svc.podman("stop", "-t", "0", f"{pod}-gator")
    svc.podman("restart", "-t", "0", f"{pod}-agent")
    assert mcp_status(name) == "failed"  # OpenCode started without its gator
    svc.podman("restart", "-t", "0", f"{pod}-api")
    svc.podman("start", f"{pod}-gator")
    deadline = time.monotonic() + 60
    while mcp_status(name) != "connected":
        assert time.monotonic() < deadline, "the sidecar never reconnected OpenCode"
        time.sleep(1)
    api_log = svc.podman("logs", f"{pod}-api").stderr
    assert "service-gator failed, connecting again" in api_log, api_log[-2000:]

    # rebuild keeps the gator, its grants, and the token the agent's OpenCode sends it
    secrets = {f"{pod}-gator-token", f"{pod}-gator-ro-token", f"{pod}-opencode-config"}
    ids = {s: inspect(svc, s, kind="secret")[0]["ID"] for s in secrets}
    rc, _out, err = run_devaipod("rebuild", name)
    assert rc == 0, err
    assert {s: inspect(svc, s, kind="secret")[0]["ID"] for s in secrets} == ids
    rc, out, _err = run_devaipod("gator", "show", "--json", name)
    assert json.loads(out)["scopes"]["gh"]["repos"]["owner/repo"]["push-new-branch"] is False
    assert inspect(svc, f"{pod}-gator")[0]["State"]["Status"] == "running"
    deadline = time.monotonic() + 60
    while mcp_status(name) != "connected":
        assert time.monotonic() < deadline, "OpenCode is not connected after the rebuild"
        time.sleep(1)
    rc, out, err = run_devaipod("status", name)
    assert rc == 0 and "gator" in out, err
    rc, _out, err = run_devaipod("delete", "--force", name)
    assert rc == 0, err
    assert leftovers(svc, pod) == {"pods": [], "containers": [], "volumes": [], "secrets": []}


def test_no_gator_without_grants_and_bad_scopes_create_nothing(
        gator_ws, podman_service, gitserver):
    svc, inst = podman_service, podman_service.instance
    rc, _out, err = gator_ws(f"{inst}-gt2", source=gitserver.git_url)
    assert rc == 0, err
    names = svc.podman("ps", "-a", "--filter", f"pod=devaipod-{inst}-gt2",
                       "--format", "{{.Names}}").stdout.split()
    assert not any(n.endswith("-gator") for n in names) and len(names) >= 3
    rc, _out, err = gator_ws(f"{inst}-gt3", "--service-gator", "jira:PROJ")
    assert rc != 0 and "only GitHub scopes" in err and "Traceback" not in err
    assert leftovers(svc, f"devaipod-{inst}-gt3") == {
        "pods": [], "containers": [], "volumes": [], "secrets": []}
