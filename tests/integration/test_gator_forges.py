"""The gator's GitLab and Forgejo tools end to end: real OpenCode (driven by the fake LLM)
calls the pod's service-gator over MCP (`gl`, `forgejo`, `git_push_local`), which reads
from and pushes to a fake forge playing GitLab (/api/v4) and Forgejo (/api/v1), with a
token the agent never sees (tests/gatorforge.py)."""

from __future__ import annotations

import json

import pytest

from gatorforge import TOKEN, gator_forge, gator_forge_config, merge_requests, source
from podfixtures import exec_in, run_devaipod

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def glforge(podman_service, gitserver, images, tmp_path_factory):
    with gator_forge(podman_service, gitserver, images["base"],
                     tmp_path_factory.mktemp("glforge"),
                     f"{podman_service.instance}-glforge") as forge:
        yield forge


def send(name: str, tool: str, args: dict) -> str:
    rc, out, err = run_devaipod("opencode", name, "send",
                                f"TOOL service-gator_{tool} {json.dumps(args)}", timeout=180)
    assert rc == 0, err
    return out


def agent_commit(svc, pod: str, text: str) -> str:
    script = (f"cd /workspaces/repo && echo {text} > {text}.txt && git add {text}.txt && "
              f"git commit -qm 'agent: {text}' -m 'Made by the agent.' && git rev-parse HEAD")
    return exec_in(svc, f"{pod}-agent", "sh", "-c", script)


def test_agent_reads_pushes_and_opens_a_draft_on_gitlab_and_forgejo(
        podman_service, glforge, gitserver, fakellm, tmp_path, monkeypatch):
    svc, name = podman_service, f"{podman_service.instance}-gtf"
    pod = f"devaipod-{name}"
    with gator_forge_config(svc, tmp_path, glforge) as config:
        monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
        try:
            rc, _out, err = run_devaipod("up", source(glforge), "--name", name, "--network",
                                         gitserver.network, timeout=300)
            assert rc == 0, err
            # a GitLab source: its project gets the automatic grant
            rc, out, err = run_devaipod("gator", "show", name)
            assert out.strip() == "gitlab:owner/repo:read,create-draft,push-new-branch", err
            assert TOKEN not in exec_in(svc, f"{pod}-agent", "env")
            everything = svc.podman("container", "inspect", f"{pod}-agent", f"{pod}-gator")
            assert TOKEN not in everything.stdout

            reply = send(name, "gl", {"args": ["api", "projects/owner%2Frepo", "--jq",
                                               ".path_with_namespace"]})
            assert "owner/repo" in reply, reply
            sha = agent_commit(svc, pod, "gitlab")
            reply = send(name, "git_push_local", {
                "repo_path": "/workspaces/repo", "commit_sha": sha,
                "target": "gitlab:owner/repo", "description": "gl-e2e", "create_draft": True,
                "base": "main", "title": "Agent change"})
            assert "Pushed" in reply and "Draft merge request" in reply, reply
            assert glforge.refs()["agent-gl-e2e"] == sha
            mr = next(m for m in merge_requests(glforge) if m["source_branch"] == "agent-gl-e2e")
            assert mr["draft"] and mr["title"] == "Draft: Agent change"
            assert mr["description"] == "<!-- service-gator-pr -->\nMade by the agent."
            pushes = [r for r in glforge.requests() if "receive-pack" in r["path"]]
            assert pushes and all(r["authorized"] for r in pushes if r["method"] == "POST")
            # a pending review on GitLab: a draft note, which a human publishes
            reply = send(name, "gitlab_pending_review_tool", {
                "operation": "create", "project": "owner/repo",
                "merge_request_iid": mr["iid"], "body": "Please add a test."})
            assert "Created draft note" in reply, reply
            notes = glforge.get(f"/api/v4/projects/owner%2Frepo/merge_requests/{mr['iid']}"
                                "/draft_notes")
            assert [n["note"] for n in notes] == [
                "<!-- service-gator-review -->\nPlease add a test."]

            # Forgejo: nothing until granted; then read, and a push needs push-new-branch
            reply = send(name, "forgejo", {"args": ["api", "/api/v1/repos/owner/repo"]})
            assert "no read permission on forgejo:owner/repo" in reply, reply
            rc, _out, err = run_devaipod("gator", "add", name, "forgejo:owner/repo:read")
            assert rc == 0, err
            reply = send(name, "forgejo", {"args": ["api", "/api/v1/repos/owner/repo",
                                                    "--jq", ".full_name"]})
            assert "owner/repo" in reply and "permission" not in reply, reply
            sha2 = agent_commit(svc, pod, "forgejo")
            push = {"repo_path": "/workspaces/repo", "commit_sha": sha2,
                    "target": "forgejo:owner/repo", "description": "fj-e2e"}
            reply = send(name, "git_push_local", push)
            assert "no push-new-branch permission on forgejo:owner/repo" in reply, reply
            assert "agent-fj-e2e" not in glforge.refs()
            rc, _out, err = run_devaipod("gator", "add", name, "forgejo:owner/repo:push,draft")
            assert rc == 0, err
            reply = send(name, "git_push_local", {**push, "create_draft": True,
                                                  "base": "main", "title": "On Forgejo"})
            assert "Pushed" in reply and "Draft pull request" in reply, reply
            assert glforge.refs()["agent-fj-e2e"] == sha2
            pr = next(p for p in glforge.get("/api/v1/repos/owner/repo/pulls")
                      if p["head"]["ref"] == "agent-fj-e2e")
            assert pr["title"] == "WIP: On Forgejo"
            # a pending review on Forgejo needs its own grant
            review = {"operation": "create", "repo": "owner/repo",
                      "pull_number": pr["number"], "body": "One question."}
            reply = send(name, "forgejo_pending_review_tool", review)
            assert "no pending-review permission on forgejo:owner/repo" in reply, reply
            rc, _out, err = run_devaipod("gator", "add", name, "forgejo:owner/repo:review")
            assert rc == 0, err
            reply = send(name, "forgejo_pending_review_tool", review)
            assert "Created pending review" in reply, reply
            made = glforge.get(f"/api/v1/repos/owner/repo/pulls/{pr['number']}/reviews")
            assert [(r["state"], r["body"]) for r in made] == [
                ("PENDING", "<!-- service-gator-review -->\nOne question.")]
        finally:
            run_devaipod("delete", "--force", name)
