"""Attacks on the gator from inside a real pod: a hostile agent (and worker) against the
fake GitHub (tests/fakeforge), whose state must not change.

The agent talks to the gator the way anything in the pod can: MCP over HTTP on the pod's
127.0.0.1, with a small python3 client run in its own container and the bearer token it
finds in its own OpenCode configuration. One pod (with a worker) serves every test; each
test compares the forge's branches before and after.
"""

from __future__ import annotations

import json

import pytest

from adversarial.conftest import Pod, forge_pod, promisor_trap

pytestmark = pytest.mark.podman

CONFIG = "/run/devaipod-env/OPENCODE_CONFIG_CONTENT"  # its OpenCode config, in each container
REPO = "owner/repo"

# python3 - URL TOKEN CALLS: initialize an MCP session at URL (TOKEN "config": the bearer
# token of the container's own OpenCode config; "": none), run CALLS [[tool, args], ...];
# prints {"status": HTTP status of initialize, "results": [{"error", "text"}, ...]}
MCP_CLIENT = r"""
import json, sys, urllib.error, urllib.request
url, token, calls = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if token == "config":
    server = json.load(open("/run/devaipod-env/OPENCODE_CONFIG_CONTENT"))["mcp"]["service-gator"]
    token = (server.get("headers") or {}).get("Authorization", " ").split(" ", 1)[1]
session = {}

def post(message):
    headers = {"Content-Type": "application/json",
               "Accept": "application/json, text/event-stream", **session}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, json.dumps(message).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            if resp.headers.get("mcp-session-id"):
                session["mcp-session-id"] = resp.headers["mcp-session-id"]
            body, status = resp.read().decode(), resp.status
    except urllib.error.HTTPError as exc:
        return exc.code, None
    data = [json.loads(l[5:]) for l in body.splitlines() if l.startswith("data:")]
    return status, data[-1] if data else (json.loads(body) if body.strip() else None)

status, init = post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "hostile", "version": "1"}}})
results = []
if status == 200:
    session["mcp-protocol-version"] = init["result"]["protocolVersion"]
    post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    for n, (tool, args) in enumerate(calls, 1):
        _, answer = post({"jsonrpc": "2.0", "id": n, "method": "tools/call",
                          "params": {"name": tool, "arguments": args}})
        result = (answer or {}).get("result") or {}
        results.append({"error": bool(result.get("isError")) or "error" in (answer or {}),
                        "text": "".join(c.get("text", "") for c in result.get("content", []))
                                or json.dumps(answer)})
print(json.dumps({"status": status, "results": results}))
"""


READY = """
up() { curl -s -m 5 -o /dev/null "http://127.0.0.1:$1/$2"; }
for _ in $(seq 60); do
  up 8765 healthz && up 8766 healthz && up 4096 global/health &&
    up 4098 global/health && exit 0
  sleep 1
done
for port in 8765 8766 4096 4098; do up $port || echo "nothing listens on $port"; done
exit 1
"""


# the worker's OpenCode reports its gator MCP server connected (OpenCode connects at its
# start; the sidecar asks it again if the gator was not up yet)
WORKER_MCP_CONNECTED = """
for _ in $(seq 60); do
  state=$(curl -s -m 10 -u "opencode:$(cat /run/devaipod-env/OPENCODE_SERVER_PASSWORD)" \
    http://127.0.0.1:4098/mcp)
  case $state in *'"service-gator":{"status":"connected"'*) exit 0 ;; esac
  sleep 1
done
echo "$state"
exit 1
"""


def mcp(pod: Pod, role: str, calls: list, port: int = 8765, token: str = "config") -> dict:
    """CALLS to the gator on 127.0.0.1:PORT, run by python3 in ROLE's container as itself."""
    proc = pod.svc.podman("exec", "-i", pod.container(role), "python3", "-",
                          f"http://127.0.0.1:{port}/mcp", token, json.dumps(calls),
                          input=MCP_CLIENT)
    return json.loads(proc.stdout)


def one(pod: Pod, tool: str, args: dict, role: str = "agent", port: int = 8765) -> dict:
    answer = mcp(pod, role, [[tool, args]], port)
    assert answer["status"] == 200, answer
    return answer["results"][0]


@pytest.fixture(scope="module")
def gator_pod(podman_service, forge, gitserver, fakellm, tmp_path_factory):
    """A workspace of owner/repo on the fake forge, with a worker; the automatic grant
    (read, create-draft, push-new-branch) and GraphQL read."""
    more = 'graphql = "read"\n[orchestration]\nenabled = true\n'
    # both gator endpoints and both OpenCodes listen
    with forge_pod(podman_service, forge, gitserver, tmp_path_factory, "advgator", more,
                   READY) as pod:
        yield pod


def human_pull(forge, head: str, sha: str | None = None) -> int:
    """The human (with the token) opens a pull request from HEAD (made at SHA if given)."""
    if sha:
        status, data = forge.api("POST", f"repos/{REPO}/git/refs",
                                 {"ref": f"refs/heads/{head}", "sha": sha})
        assert status == 201, data
    status, data = forge.api("POST", f"repos/{REPO}/pulls", {
        "title": f"human work on {head}", "head": head, "base": "main", "body": "by a human"})
    assert status == 201, data
    return data["number"]


def agent_commit(pod: Pod, text: str) -> str:
    return pod.agent(f"cd /workspaces/repo && echo {text} > {text}.txt && git add {text}.txt "
                     f"&& git commit -qm {text} && git rev-parse HEAD").stdout.strip()


def test_agent_cannot_move_a_humans_pull_request(gator_pod, forge):
    """Attack: the agent moves the head branch (``feature``) of a pull request a human
    opened with gh_update_pr_head, which used to force any PR's head anywhere."""
    before = forge.refs()
    number = human_pull(forge, "feature")
    result = one(gator_pod, "gh_update_pr_head",
                 {"repo": REPO, "pull_number": number, "commit_sha": before["main"]})
    assert result["error"] and "not an agent-* branch" in result["text"], result
    assert forge.refs() == before


def test_agent_cannot_move_an_agent_branch_the_gator_did_not_open(gator_pod, forge):
    """Attack: a human's pull request whose head happens to be named ``agent-*`` (no
    gator marker in its body) is moved by the agent."""
    sha = forge.refs()["feature"]
    number = human_pull(forge, "agent-lookalike", sha)
    before = forge.refs()
    result = one(gator_pod, "gh_update_pr_head",
                 {"repo": REPO, "pull_number": number, "commit_sha": before["main"]})
    assert result["error"] and "not opened through the gator" in result["text"], result
    assert forge.refs() == before


def test_agent_cannot_force_its_own_pull_request(gator_pod, forge):
    """Attack: with push-new-branch only, the agent rewrites the history of its own pull
    request (a head move that is not a fast-forward: a force push)."""
    first = agent_commit(gator_pod, "own-first")
    pushed = one(gator_pod, "github_push", {
        "repo_path": "/workspaces/repo", "commit_sha": first, "repo": REPO,
        "description": "own", "base": "main", "title": "the agent's PR"})
    assert not pushed["error"] and "Draft pull request" in pushed["text"], pushed
    number = int(pushed["text"].rsplit("#", 1)[1].split(":")[0])
    before = forge.refs()
    result = one(gator_pod, "gh_update_pr_head",
                 {"repo": REPO, "pull_number": number, "commit_sha": before["feature"]})
    assert result["error"] and "not a fast forward" in result["text"], result
    assert forge.refs() == before
    # the control: a fast-forward of its own pull request is allowed
    second = agent_commit(gator_pod, "own-second")
    one(gator_pod, "github_push", {"repo_path": "/workspaces/repo", "commit_sha": second,
                                   "repo": REPO, "description": "own-next",
                                   "create_draft_pr": False})
    result = one(gator_pod, "gh_update_pr_head",
                 {"repo": REPO, "pull_number": number, "commit_sha": second})
    assert not result["error"], result
    assert forge.refs()["agent-own"] == second


MUTATIONS = [
    ("# c\nmutation { addStar(input: {starrableId: \"R_1\"}) { clientMutationId } }", None),
    (",mutation { addStar(input: {starrableId: \"R_1\"}) { clientMutationId } }", None),
    ("query A { viewer { login } } mutation B { deleteRef(input: {refId: \"x\"}) "
     "{ clientMutationId } }", "B"),
    ("subscription { x }", None),
]


def test_graphql_mutations_are_refused(gator_pod, forge):
    """Attack: GraphQL mutations through github_api_tool with a GraphQL read grant, past
    the old ``startswith("mutation")`` filter: a leading comment, a leading comma, a
    mutation named by operationName after a query, a subscription."""
    calls = [["github_api_tool", {"endpoint": "graphql", "method": "POST",
                                  "body": {"query": q, **({"operationName": op} if op else {})}}]
             for q, op in MUTATIONS]
    seen = len(forge.requests())
    answer = mcp(gator_pod, "agent", calls)
    assert answer["status"] == 200, answer
    for (query, _op), result in zip(MUTATIONS, answer["results"], strict=True):
        assert result["error"] and "refused" in result["text"], (query, result)
    assert not [r for r in forge.requests()[seen:] if "graphql" in r["path"]]
    # the control: a query goes through
    result = one(gator_pod, "github_api_tool", {"endpoint": "graphql", "method": "POST",
                                                "body": {"query": "{ viewer { login } }"}})
    assert not result["error"] and "fake-user" in result["text"], result
    assert [r["path"] for r in forge.requests()[seen:] if "graphql" in r["path"]] == [
        "/api/graphql"]


def test_worker_reaches_only_its_own_endpoint_and_opencode(gator_pod, forge):
    """Attack: the worker (read-only gator) calls the agent's full gator endpoint on the
    pod's shared 127.0.0.1, without a token or with its own, and drives the agent's
    OpenCode with the password it holds."""
    pod, before = gator_pod, forge.refs()
    for token in ("", "config"):
        assert mcp(pod, "worker", [["status", {}]], 8765, token)["status"] == 401
    assert mcp(pod, "worker", [["status", {}]], 8766, "")["status"] == 401
    # its own, read-only endpoint works, and refuses writes
    sha = before["main"]
    results = mcp(pod, "worker", [
        ["status", {}],
        ["gh_create_branch", {"repo": REPO, "commit_sha": sha, "description": "worker"}],
        ["github_api_tool", {"endpoint": f"repos/{REPO}/git/refs", "method": "POST",
                             "body": {"ref": "refs/heads/worker", "sha": sha}}]], 8766)
    assert results["status"] == 200, results
    status, create, api = results["results"]
    assert not status["error"] and "read-only endpoint" in status["text"], status
    assert create["error"] and "read-only" in create["text"], create
    assert api["error"] and "read-only" in api["text"], api
    assert forge.refs() == before

    # the agent's OpenCode refuses the worker's password; the worker's own accepts it
    def opencode(port: int) -> str:
        return pod.run("worker", 'curl -s -o /dev/null -w "%{http_code}" -u '
                       f'"opencode:$(cat /run/devaipod-env/OPENCODE_SERVER_PASSWORD)" '
                       f"http://127.0.0.1:{port}/session").stdout

    assert opencode(4096) == "401"
    assert opencode(4098) == "200"
    # the controls: the agent drives the worker with OPENCODE_WORKER_PASSWORD, and the
    # sidecar (with it too) gets the worker's OpenCode connected to its gator endpoint
    driven = pod.run("agent", 'curl -s -o /dev/null -w "%{http_code}" -u '
                     '"opencode:$(cat /run/devaipod-env/OPENCODE_WORKER_PASSWORD)" '
                     "http://127.0.0.1:4098/session").stdout
    assert driven == "200"
    connected = pod.run("worker", WORKER_MCP_CONNECTED, check=False)
    assert connected.returncode == 0, connected.stdout

    # neither the agent's password nor its gator token is anywhere the worker can read
    agent_password = pod.run("agent", "cat /run/devaipod-env/OPENCODE_SERVER_PASSWORD",
                             user="0").stdout.strip()
    agent_config = json.loads(pod.run("agent", f"cat {CONFIG}", user="0").stdout)
    agent_token = agent_config["mcp"]["service-gator"]["headers"]["Authorization"]
    assert len(agent_password) >= 16 and agent_token.startswith("Bearer ")
    for secret in (agent_password, agent_token.split(" ", 1)[1]):
        found = pod.run("worker", f"grep -rlF -- '{secret}' /proc/[0-9]*/environ /run /home "
                        "/workspaces /mnt /tmp /etc 2>/dev/null", user="0", check=False)
        assert found.stdout.strip() == "", found.stdout


def test_pushing_from_a_hostile_repository_runs_nothing_in_the_gator(gator_pod, forge):
    """Attack (variant): the agent's repository is a partial clone whose promisor remote's
    uploadpack is a command, its new commit's blob is missing, and it has hooks and an
    upload-pack hook: github_push reads it in the gator, next to the token."""
    pod, before = gator_pod, forge.refs()
    sha = agent_commit(pod, "hostile")
    pod.agent("cd /workspaces/repo\n" + promisor_trap("hostile.txt") + """
git config uploadpack.packObjectsHook 'touch /tmp/PWNED-hook'
mkdir -p .git/hooks && printf '#!/bin/sh\\ntouch /tmp/PWNED-prepush\\n' > .git/hooks/pre-push
chmod +x .git/hooks/pre-push""")
    try:
        result = one(pod, "github_push", {"repo_path": "/workspaces/repo", "commit_sha": sha,
                                          "repo": REPO, "description": "hostile",
                                          "create_draft_pr": False})
        assert result["error"], result  # the blob is missing: nothing to push
        marks = pod.run("gator", "ls /tmp", user="0").stdout.split()
        assert [m for m in marks if m.startswith("PWNED")] == []
        assert forge.refs() == before
    finally:  # the next tests share this pod
        pod.agent("""cd /workspaces/repo
git config --unset extensions.partialClone; git config --remove-section remote.evil
git config --unset uploadpack.packObjectsHook; rm -f .git/hooks/pre-push
blob=$(git rev-parse HEAD:hostile.txt)
mkdir -p .git/objects/$(echo $blob | cut -c1-2)
mv /tmp/hidden-blob .git/objects/$(echo $blob | cut -c1-2)/$(echo $blob | cut -c3-)""",
                  check=False)
