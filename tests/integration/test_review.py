"""devaipod review against a real pod: the review the sidecar computes, --merge landing it
in the workspace, --reject resetting the agent, and a moved agent branch refused."""

from __future__ import annotations

import json
import shlex

import pytest

from podfixtures import exec_in, run_devaipod

pytestmark = pytest.mark.podman

TREE = "/workspaces/repo"  # the test repository's clone, in the workspace and the agent


@pytest.fixture(scope="module")
def review_pod(podman_service, gitserver):
    """A workspace (`devaipod up`) whose agent commits with `podman exec`, as itself."""
    name = f"{podman_service.instance}-review"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name,
                                 "--network", gitserver.network, timeout=300)
    assert rc == 0, f"up failed ({rc}): {err}"
    yield f"devaipod-{name}"
    run_devaipod("delete", "--force", name)


def agent_commits(svc, pod: str, path: str, text: str, subject: str) -> str:
    """The agent writes PATH and commits it; returns the commit id."""
    script = (f"cd {TREE} && printf %s {shlex.quote(text)} > {shlex.quote(path)} && "
              f"git add -A && git commit -qm {shlex.quote(subject)} && git rev-parse HEAD")
    return exec_in(svc, f"{pod}-agent", "sh", "-c", script).splitlines()[-1]


def head(svc, pod: str, role: str) -> str:
    return exec_in(svc, f"{pod}-{role}", "git", "-C", TREE, "rev-parse", "HEAD")


def review(*args: str) -> tuple[int, str, str]:
    return run_devaipod("review", *args, timeout=120)


def test_review_shows_the_commit_and_merge_lands_it(review_pod, podman_service):
    svc = podman_service
    base = head(svc, review_pod, "workspace")
    commit = agent_commits(svc, review_pod, "review.txt", "one\ntwo\n", "agent: add review.txt")
    rc, out, err = review(review_pod)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"range    {base}..{commit}"
    assert f"  {commit[:12]}  agent: add review.txt" in lines
    assert "  A      +2     -0  review.txt" in lines
    rc, out, err = review(review_pod, "--json")
    shown = json.loads(out)
    assert (shown["base"], shown["head"]) == (base, commit)
    assert [f["path"] for f in shown["files"]] == ["review.txt"]
    assert "+two" in shown["files"][0]["diff"]

    rc, out, err = review(review_pod, "--merge")
    assert rc == 0, err
    assert out.splitlines()[-1] == f"merged {commit[:12]}: the workspace is at {commit[:12]}"
    assert head(svc, review_pod, "workspace") == commit  # a fast-forward
    assert exec_in(svc, f"{review_pod}-workspace", "cat", f"{TREE}/review.txt") == "one\ntwo"
    rc, out, err = review(review_pod)
    assert rc == 0 and "nothing to review" in out, (out, err)


def test_a_moved_agent_branch_is_not_merged(review_pod, podman_service):
    """The agent commits again between the review and the merge: nothing lands; the
    range reviewed again does."""
    from devaipod.workspace import review as library

    svc = podman_service
    agent_commits(svc, review_pod, "first.txt", "reviewed\n", "agent: reviewed")
    shown = library.load(review_pod)
    late = agent_commits(svc, review_pod, "late.txt", "never reviewed\n", "agent: sneaked in")
    before = head(svc, review_pod, "workspace")
    with pytest.raises(library.ReviewError, match="moved since the review"):
        library.land(review_pod, shown["head"], shown["base"])
    assert head(svc, review_pod, "workspace") == before
    assert svc.podman("exec", f"{review_pod}-workspace", "test", "-e", f"{TREE}/late.txt",
                      check=False).returncode == 1

    rc, out, err = review(review_pod, "--merge", "--json")
    assert rc == 0, err
    landed = json.loads(out)
    assert landed["head"] == late and landed["merged"] == late
    assert [c["subject"] for c in landed["commits"]] == ["agent: sneaked in", "agent: reviewed"]
    assert head(svc, review_pod, "workspace") == late


def test_reject_resets_the_agents_branch(review_pod, podman_service):
    svc = podman_service
    workspace = head(svc, review_pod, "workspace")
    dropped = agent_commits(svc, review_pod, "dropped.txt", "no\n", "agent: to be dropped")
    rc, out, err = review(review_pod, "--reject")
    assert rc == 0, err
    assert f"  {dropped[:12]}  agent: to be dropped" in out.splitlines()
    assert out.splitlines()[-1] == "rejected: the agent's branch is reset to the workspace's"
    assert head(svc, review_pod, "agent") == workspace
    assert head(svc, review_pod, "workspace") == workspace
    rc, out, _ = review(review_pod)
    assert "nothing to review" in out
