"""Attacks on the gator's push content policy from inside a real pod: the agent commits
a CI workflow (which would run with the repository's secrets on the forge) and pushes
it through the gator; the fake GitHub's branches must not change.

One pod serves every test; the grant test comes last (it changes the pod's grants).
"""

from __future__ import annotations

import json

import pytest

from adversarial.conftest import Pod, forge_pod
from adversarial.test_gator import REPO, one
from podfixtures import run_devaipod

pytestmark = pytest.mark.podman

RULE = "[service-gator] deny-paths"
@pytest.fixture(scope="module")
def policy_pod(podman_service, forge, gitserver, fakellm, tmp_path_factory):
    """A workspace of owner/repo on the fake forge with the automatic grant (read,
    create-draft, push-new-branch) and the default push policy."""
    with forge_pod(podman_service, forge, gitserver, tmp_path_factory, "advpolicy") as pod:
        yield pod.name.removeprefix("devaipod-"), pod


def push(pod: Pod, sha: str, description: str) -> dict:
    return one(pod, "github_push", {"repo_path": "/workspaces/repo", "commit_sha": sha,
                                    "repo": REPO, "description": description,
                                    "create_draft_pr": False})


def on_main(pod: Pod, script: str) -> str:
    """SCRIPT in the agent's tree on a fresh branch from origin's main; the new HEAD."""
    return pod.agent("cd /workspaces/repo && git checkout -q -B work origin/main\n" + script +
                     "\ngit rev-parse HEAD").stdout.strip().splitlines()[-1]


def test_a_workflow_push_is_refused(policy_pod, forge):
    """Attack: the agent adds .github/workflows/pwn.yml (a workflow that would run on the
    forge with the repository's secrets) and pushes it through github_push."""
    _name, pod = policy_pod
    before = forge.refs()
    sha = on_main(pod, "mkdir -p .github/workflows && echo 'on: push' > "
                  ".github/workflows/pwn.yml && git add . && git commit -qm ci")
    result = push(pod, sha, "ci")
    assert result["error"], result
    assert RULE in result["text"] and ".github/workflows/pwn.yml" in result["text"]
    assert forge.refs() == before
    # the audit trail has the refusal, with the rule and the path, and no push
    rc, out, err = run_devaipod("audit", "--json", pod.name)
    assert rc == 0, err
    last = json.loads(out)[-1]
    assert (last["kind"], last["tool"], last["decision"]) == ("gator", "github_push",
                                                              "refused"), last
    assert RULE in last["reason"] and ".github/workflows/pwn.yml" in last["reason"]


def test_a_rename_into_the_workflows_is_refused(policy_pod, forge):
    """Attack (variant): the workflow is committed under docs/ first, then renamed into
    .github/workflows in a second commit, hoping only the last diff's content is read."""
    _name, pod = policy_pod
    before = forge.refs()
    sha = on_main(pod, "mkdir -p docs && echo 'on: push' > docs/ci.yml && git add . && "
                  "git commit -qm docs && mkdir -p .github/workflows && "
                  "git mv docs/ci.yml .github/workflows/ci.yml && git commit -qm move")
    result = push(pod, sha, "rename")
    assert result["error"] and RULE in result["text"], result
    assert ".github/workflows/ci.yml" in result["text"]
    assert forge.refs() == before


def test_a_merge_carrying_a_workflow_is_refused(policy_pod, forge):
    """Attack (variant): a merge whose second parent adds .gitlab-ci.yml and deletes it
    again, and whose first parent is clean: the merge's own diff shows nothing."""
    _name, pod = policy_pod
    before = forge.refs()
    sha = on_main(pod, """
git checkout -q -b side origin/main
echo 'script: pwn' > .gitlab-ci.yml && git add . && git commit -qm add
git rm -q .gitlab-ci.yml && git commit -qm remove
git checkout -q work && echo ok > clean.txt && git add . && git commit -qm clean
git merge -q --no-edit side""")
    result = push(pod, sha, "merge")
    assert result["error"] and RULE in result["text"], result
    assert ".gitlab-ci.yml" in result["text"]
    assert forge.refs() == before


def test_with_the_allow_workflows_grant_the_push_is_accepted(policy_pod, forge):
    """The human's grant (devaipod gator add WS github:owner/repo:allow-workflows) lifts
    deny-paths for that repository, and keeps its other grants."""
    name, pod = policy_pod
    sha = on_main(pod, "mkdir -p .github/workflows && echo 'on: push' > "
                  ".github/workflows/ok.yml && git add . && git commit -qm ci")
    assert push(pod, sha, "before-grant")["error"]
    rc, _out, err = run_devaipod("gator", "add", name, f"github:{REPO}:allow-workflows")
    assert rc == 0, err
    result = push(pod, sha, "granted")
    assert not result["error"], result
    assert forge.refs()["agent-granted"] == sha
