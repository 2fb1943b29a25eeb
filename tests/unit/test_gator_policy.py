"""The gator's push content policy: path patterns, the grant, and the walk over the
commits a push adds, on real git repositories an agent could have made."""

from __future__ import annotations

import os
import subprocess
import zlib
from pathlib import Path

import pytest

from devaipod import gitsafe
from devaipod.gator import gitwalk, pushcheck
from devaipod.gator.forge import ForgeError
from devaipod.gator.policy import Pattern, Policy, denied_by
from devaipod.gator.scopes import ScopeError, Scopes, repo_grant, split_allowance
from devaipod.workspace.gator import with_flags
from unit.test_gator_tools import agent_tree, forge  # noqa: F401 (fixtures)

ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "A",
       "GIT_COMMITTER_EMAIL": "a@x", "PATH": os.environ["PATH"]}
TARGET = "github:acme/widget"


def git(root: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, input=input,
                          env={**ENV, "HOME": str(root)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    (".github/workflows/**", ".github/workflows/ci.yml", True),
    (".github/workflows/**", ".github/workflows/deep/er/x.yaml", True),
    (".github/workflows/**", ".GitHub/WORKFLOWS/ci.yml", True),  # any case
    (".github/workflows/**", ".github", True),  # replaced by a link, file or submodule
    (".github/workflows/**", ".github/workflows", True),
    (".github/workflows/**", ".github/CODEOWNERS", False),
    (".github/workflows/**", "sub/.github/workflows/ci.yml", False),  # anchored
    (".gitlab-ci.yml", ".gitlab-ci.yml", True),
    (".gitlab-ci.yml", "x/.gitlab-ci.yml", False),
    (".gitlab-ci.yml", ".gitlab-ci.yml.bak", False),
    ("**/Makefile", "Makefile", True),
    ("**/Makefile", "a/b/Makefile", True),
    ("**/Makefile", "a/b", False),
    ("a/**/z.txt", "a/z.txt", True),
    ("a/**/z.txt", "a/b/c/z.txt", True),
    ("docs/*.md", "docs/a.md", True),
    ("docs/*.md", "docs/a/b.md", False),  # * stays in one component
    ("x?.txt", "x1.txt", True),
    ("x[!0-9].txt", "x1.txt", False),
    ("x[!0-9].txt", "xa.txt", True),
    (".devcontainer/**", ".devcontainer/devcontainer.json", True),
    (".devcontainer/**", ".devcontainer\udcff/x", False),
])
def test_patterns(pattern, path, hit):
    assert Pattern.compile(pattern).matches(path) is hit


def test_denied_by_names_the_first_pattern():
    patterns = [Pattern.compile(p) for p in Policy().deny_paths]
    assert denied_by(".forgejo/workflows/a.yml", patterns) == ".forgejo/workflows/**"
    assert denied_by("src/main.py", patterns) is None


def test_policy_travels_in_the_scope_document():
    policy = Policy(deny_paths=("a/**",), max_file_size=5, max_commits=2,
                    allow_workflows=(TARGET,))
    scopes = Scopes(repos={"acme/widget": repo_grant("push-new-branch")}, policy=policy)
    again = Scopes.from_json(scopes.to_json())
    assert again.policy == policy and again.repos == scopes.repos
    assert "github:acme/widget:allow-workflows" in again.describe()
    assert Scopes.from_json({"scopes": {}}).policy == Policy()  # older files: the default
    with pytest.raises(ScopeError, match="max-commits"):
        Scopes.from_json({"scopes": {}, "push-policy": {"max-commits": "many"}})
    with pytest.raises(ScopeError, match="unknown key"):
        Scopes.from_json({"scopes": {}, "push-policy": {"deny": []}})


def test_allow_workflows_grant_adds_to_the_repositorys_grants():
    assert split_allowance("github:acme/widget:allow-workflows") == (None, TARGET)
    assert split_allowance("gh:acme/widget:push,allow-workflows") == (
        "gh:acme/widget:push", TARGET)
    assert split_allowance("github:acme/widget:push") == ("github:acme/widget:push", None)
    with pytest.raises(ScopeError):
        split_allowance("github:not a repo:allow-workflows")
    before = Scopes(repos={"acme/widget": repo_grant("create-draft", "push-new-branch")})
    after = with_flags(before, ["github:acme/widget:allow-workflows"])
    assert after.repos == before.repos  # the other grants stay
    assert after.policy.allows_paths(TARGET) and not after.policy.allows_paths("github:a/b")
    assert with_flags(after, ["github:acme/*:allow-workflows"]).policy.allows_paths(
        "github:acme/other")


# ---------------------------------------------------------------- the walk


@pytest.fixture
def repos(tmp_path):
    """(bare, agent): a bare "forge" with main (which has a workflow already) and the
    agent's clone of it."""
    seed, bare, agent = tmp_path / "seed", tmp_path / "bare.git", tmp_path / "agent"
    git(tmp_path, "init", "-q", "-b", "main", str(seed))
    (seed / ".github" / "workflows").mkdir(parents=True)
    (seed / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (seed / "README").write_text("hello\n")
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "first")
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    git(tmp_path, "clone", "-q", str(bare), str(agent))
    return bare, agent


def commit(agent: Path, message: str, files: dict[str, str | None]) -> str:
    for name, text in files.items():
        if text is None:
            git(agent, "rm", "-rq", name)
            continue
        path = agent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(agent, "add", name)
    git(agent, "commit", "-qm", message, "--allow-empty")
    return git(agent, "rev-parse", "HEAD")


def check(bare: Path, agent: Path, sha: str, policy: Policy | None = None,
          target: str = TARGET) -> None:
    known = git(bare, "for-each-ref", "--format=%(objectname)").split()
    with gitsafe.shadow(str(agent)) as shadow:
        pushcheck.check(policy or Policy(), shadow, sha, known, target)


def refused(bare, agent, sha, rule: str, policy: Policy | None = None) -> pushcheck.Refusal:
    with pytest.raises(pushcheck.Refusal) as info:
        check(bare, agent, sha, policy)
    assert info.value.rule == rule and f"[service-gator] {rule}" in str(info.value)
    return info.value


def test_ordinary_commits_pass_and_the_forges_history_is_not_checked(repos):
    bare, agent = repos
    commit(agent, "one", {"src/a.py": "x = 1\n"})
    check(bare, agent, commit(agent, "two", {"src/b.py": "y = 2\n"}))


def test_a_workflow_change_is_refused_with_its_rule_and_path(repos):
    bare, agent = repos
    sha = commit(agent, "ci", {".github/workflows/ci.yml": "on: push\nrun: evil\n"})
    exc = refused(bare, agent, sha, "deny-paths")
    assert exc.path == ".github/workflows/ci.yml" and exc.commit == sha
    assert "'.github/workflows/**'" in str(exc) and "allow-workflows" in str(exc)
    check(bare, agent, sha, Policy(allow_workflows=(TARGET,)))  # the grant lifts it


def test_added_then_removed_is_still_refused(repos):
    bare, agent = repos
    commit(agent, "add", {".gitlab-ci.yml": "script: evil\n"})
    refused(bare, agent, commit(agent, "remove", {".gitlab-ci.yml": None}), "deny-paths")


def test_a_rename_into_the_workflows_is_refused(repos):
    bare, agent = repos
    commit(agent, "innocent", {"docs/build.yml": "on: push\n"})
    git(agent, "mv", "docs/build.yml", ".github/workflows/build.yml")
    git(agent, "commit", "-qm", "move")
    exc = refused(bare, agent, git(agent, "rev-parse", "HEAD"), "deny-paths")
    assert exc.path == ".github/workflows/build.yml"


def test_a_merge_whose_second_parent_adds_a_workflow_is_refused(repos):
    bare, agent = repos
    base = git(agent, "rev-parse", "HEAD")
    side = commit(agent, "side", {".forgejo/workflows/x.yml": "evil\n"})
    git(agent, "reset", "-q", "--hard", base)
    commit(agent, "main work", {"src/c.py": "z\n"})
    git(agent, "merge", "-q", "--no-edit", side)
    refused(bare, agent, git(agent, "rev-parse", "HEAD"), "deny-paths")


def test_a_merge_made_of_plumbing_carrying_the_workflow_is_refused(repos):
    """The merge's own tree has the workflow; both parents are clean."""
    bare, agent = repos
    base = git(agent, "rev-parse", "HEAD")
    clean = commit(agent, "clean", {"src/d.py": "d\n"})
    (agent / ".github" / "workflows" / "ci.yml").write_text("evil\n")
    git(agent, "add", ".")
    tree = git(agent, "write-tree")
    merge = git(agent, "commit-tree", tree, "-p", clean, "-p", base, "-m", "merge")
    refused(bare, agent, merge, "deny-paths")


def test_a_symlink_or_submodule_in_place_of_the_directory_is_refused(repos):
    bare, agent = repos
    git(agent, "rm", "-rq", ".github")
    os.symlink("elsewhere", agent / ".github")
    git(agent, "add", ".github")
    git(agent, "commit", "-qm", "link")
    assert refused(bare, agent, git(agent, "rev-parse", "HEAD"), "deny-paths").path \
        in (".github", ".github/workflows/ci.yml")
    git(agent, "reset", "-q", "--hard", "HEAD~1")
    blob = git(agent, "rev-parse", "HEAD")
    git(agent, "update-index", "--add", "--cacheinfo", f"160000,{blob},.devcontainer")
    git(agent, "commit", "-qm", "submodule")
    assert refused(bare, agent, git(agent, "rev-parse", "HEAD"), "deny-paths").path == \
        ".devcontainer"


def test_paths_with_odd_bytes_are_compared_as_bytes(repos):
    bare, agent = repos
    blob = git(agent, "hash-object", "-w", "--stdin", input=b"evil\n")
    name = b".github/workflows/\xff\n.yml"
    git(agent, "update-index", "--add", "--index-info",
        input=f'100644 {blob}\t".github/workflows/\\377\\n.yml"\n'.encode())
    git(agent, "commit", "-qm", "odd")
    exc = refused(bare, agent, git(agent, "rev-parse", "HEAD"), "deny-paths")
    assert exc.path == name.decode("utf-8", "surrogateescape")


def test_a_large_file_is_refused(repos):
    bare, agent = repos
    sha = commit(agent, "big", {"data/blob.bin": "x" * 2048})
    exc = refused(bare, agent, sha, "max-file-size", Policy(max_file_size=1024))
    assert exc.path == "data/blob.bin" and "2048 bytes" in str(exc)
    check(bare, agent, sha, Policy(max_file_size=4096))


def test_too_many_commits_are_refused(repos):
    bare, agent = repos
    for n in range(4):
        sha = commit(agent, f"c{n}", {f"f{n}": "x"})
    refused(bare, agent, sha, "max-commits", Policy(max_commits=3))
    check(bare, agent, sha, Policy(max_commits=4))


def test_a_forged_object_under_a_forge_commits_id_is_refused(repos):
    """Attack: the agent replaces its copy of the bare's commit (its parent) with a loose
    object under the same id whose tree already has the evil workflow, so a diff that
    trusted it would see no change."""
    bare, agent = repos
    parent = git(agent, "rev-parse", "HEAD")
    sha = commit(agent, "ci", {".github/workflows/ci.yml": "evil\n"})
    forged = git(agent, "cat-file", "commit", sha).replace(f"parent {parent}\n", "")
    data = f"commit {len(forged.encode()) + 1}\0{forged}\n".encode()
    pack_dir = agent / ".git" / "objects" / "pack"
    for pack in pack_dir.glob("*"):
        pack.unlink()  # the clone's pack held the true parent
    loose = agent / ".git" / "objects" / parent[:2] / parent[2:]
    loose.parent.mkdir(exist_ok=True)
    loose.unlink(missing_ok=True)  # a hard link to the bare's own copy
    loose.write_bytes(zlib.compress(data))
    # git itself believes the forgery: the diff it would show is empty
    assert git(agent, "diff", "--name-only", parent, sha) == ""
    with pytest.raises(ForgeError, match="corrupt"):
        check(bare, agent, sha)


def test_changes_lists_added_removed_and_replaced_paths(repos):
    _bare, agent = repos
    old = git(agent, "rev-parse", "HEAD^{tree}")
    commit(agent, "x", {"README": None, "new/deep/f": "1\n"})
    new = git(agent, "rev-parse", "HEAD^{tree}")
    with gitsafe.shadow(str(agent)) as shadow:
        found = {p: e is not None for p, e in gitwalk.changes(gitwalk.Objects(shadow), old,
                                                               new)}
    assert found == {"README": False, "new/deep/f": True}


# ---------------------------------------------------------------- through the MCP tool


def test_github_push_refusal_is_a_tool_error_and_the_forge_is_unchanged(
        forge, agent_tree):  # noqa: F811
    from unit.test_gator_tools import GRANT, call
    from unit.test_gator_tools import git as tgit

    (agent_tree / ".github" / "workflows").mkdir(parents=True)
    (agent_tree / ".github" / "workflows" / "x.yml").write_text("on: push\n")
    tgit("add", ".", cwd=agent_tree)
    tgit("commit", "-qm", "ci", cwd=agent_tree)
    args = {"repo_path": str(agent_tree), "commit_sha": tgit("rev-parse", "HEAD", cwd=agent_tree),
            "repo": "acme/widget", "description": "ci", "create_draft_pr": False}
    before = tgit("for-each-ref", cwd=forge["bare"])
    err, text = call(GRANT, forge, "github_push", args)
    assert err and "[service-gator] deny-paths" in text and ".github/workflows/x.yml" in text
    assert tgit("for-each-ref", cwd=forge["bare"]) == before
    granted = with_flags(GRANT, ["github:acme/widget:allow-workflows"])
    err, text = call(granted, forge, "github_push", args)
    assert not err, text
    assert tgit("rev-parse", "refs/heads/agent-ci", cwd=forge["bare"]) == args["commit_sha"]
