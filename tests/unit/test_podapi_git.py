"""podapi.git: argv builders, parsers, and the views of real temp repositories
(a workspace repo, the agent's ``git clone --shared`` of it with its own
commits, and a human commit in the workspace made after the clone)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devaipod import runner
from devaipod.podapi import git

RS = "\x1f"


@pytest.fixture(autouse=True)
def _git_env(monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Ada Tester")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "ada@example.invalid")


def sh(root: Path, *args: str) -> str:
    return runner.capture(["git", "-C", str(root), *args]).stdout.strip()


def commit(root: Path, message: str) -> str:
    sh(root, "add", "-A")
    sh(root, "commit", "-q", "-m", message)
    return sh(root, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path):
    main, agent = tmp_path / "main" / "proj", tmp_path / "agent" / "proj"
    main.mkdir(parents=True)
    sh(main, "init", "-q", "-b", "main")
    (main / "keep.txt").write_text("one\ntwo\nthree\n")
    (main / "del.txt").write_text("gone soon\n")
    (main / "move.txt").write_text("".join(f"line {n}\n" for n in range(50)))
    (main / "bin").write_bytes(b"\0\1")
    root = commit(main, "initial")
    runner.capture(["git", "clone", "-q", "--shared", str(main), str(agent)])
    (agent / "keep.txt").write_text("one\ntwo\nthree\nfour\n")
    first = commit(agent, "agent: extend keep")
    sh(agent, "rm", "-q", "del.txt")
    sh(agent, "mv", "move.txt", "moved.txt")
    (agent / "sp ace.txt").write_text("added\n")
    (agent / "bin").write_bytes(b"\0\2")
    second = commit(agent, "agent: shuffle files")
    (main / "human.txt").write_text("by a human\n")
    human = commit(main, "human: note")
    (main / "scratch.txt").write_text("untracked\n")
    return {"trees": git.Trees(str(main), str(agent)), "main": main, "agent": agent,
            "root": root, "first": first, "second": second, "human": human}


# --- argv builders ------------------------------------------------------------

def test_argv_builders():
    assert git.status_args() == ["status", "--porcelain=v2", "--branch", "--no-ahead-behind",
                                 "-z", "--ignore-submodules=all"]
    assert git.log_args("a..b", 7) == ["log", "--max-count=7", "-z", "--no-color",
                                       git.LOG_FORMAT, "a..b", "--"]
    changes, patch = git.changes_args("B", "H"), git.patch_args("B", "H")
    for argv in (changes, patch):
        assert "B...H" in argv and argv[-1] == "--"
        assert {"--no-ext-diff", "--no-textconv", "--no-color", "-M"} <= set(argv)
    assert {"--raw", "--numstat", "-z"} <= set(changes) and "--patch" in patch


def test_trees_for_project():
    trees = git.Trees.for_project("proj")
    assert trees == git.Trees("/mnt/main-workspace/proj", "/mnt/agent-workspace/proj")


# --- parsers --------------------------------------------------------------------

def test_parse_status():
    out = "\0".join([
        "# branch.oid " + "a" * 40, "# branch.head feature", "# branch.ab +1 -0",
        "1 .M N... 100644 100644 100644 abc abc with space.txt",
        "2 R. N... 100644 100644 100644 abc abc R100 new name.txt", "old name.txt",
        "u UU N... 100644 100644 100644 100644 a b c both.txt",
        "? untracked/", "! ignored.o", ""])
    assert git.parse_status(out) == {
        "branch": "feature", "head": "a" * 40,
        "dirty": ["with space.txt", "new name.txt", "both.txt", "untracked/"]}
    fresh = git.parse_status("# branch.oid (initial)\0# branch.head (detached)\0")
    assert fresh == {"branch": None, "head": None, "dirty": []}


def test_parse_log():
    out = f"{'a' * 40}{RS}fix: it{RS}Ada{RS}2026-01-02T03:04:05+00:00\0" \
          f"{'b' * 40}{RS}sub{RS}with {RS} inside{RS}Bob{RS}2026\0"
    assert git.parse_log(out) == [
        {"sha": "a" * 40, "subject": "fix: it", "author": "Ada",
         "date": "2026-01-02T03:04:05+00:00"},
        {"sha": "b" * 40, "subject": "sub", "author": "with ", "date": f" inside{RS}Bob{RS}2026"},
    ]
    assert git.parse_log("") == []


def test_parse_changes():
    raw = ":100644 100644 bdc955b 8835708 M\0bin\0" \
          ":100644 000000 587be6b 0000000 D\0del.txt\0" \
          ":100644 100644 96cc558 96cc558 R100\0move.txt\0moved.txt\0" \
          ":000000 100644 0000000 76d4bb8 A\0sp ace.txt\0"
    numstat = "-\t-\tbin\0" "0\t1\tdel.txt\0" "0\t0\t\0move.txt\0moved.txt\0" \
              "1\t0\tsp ace.txt\0"
    assert git.parse_changes(raw + numstat) == [
        {"status": "M", "path": "bin", "additions": 0, "deletions": 0, "binary": True},
        {"status": "D", "path": "del.txt", "additions": 0, "deletions": 1, "binary": False},
        {"status": "R", "old_path": "move.txt", "path": "moved.txt", "additions": 0,
         "deletions": 0, "binary": False},
        {"status": "A", "path": "sp ace.txt", "additions": 1, "deletions": 0, "binary": False},
    ]
    assert git.parse_changes("") == []


def test_split_patch_and_cap():
    patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-diff --git no\n+y\n" \
            "diff --git a/z b/z\nBinary files a/z and b/z differ\n"
    first, second = git.split_patch(patch)
    assert first.startswith("diff --git a/x") and "-diff --git no\n" in first
    assert second == "diff --git a/z b/z\nBinary files a/z and b/z differ\n"
    assert git.split_patch("") == []
    assert git.cap("short\n", 100) == ("short\n", False)
    text, cut = git.cap("a" * 30 + "\n" + "é" * 40 + "\n", 50)
    assert cut and text == "a" * 30 + "\n" and len(text.encode()) <= 50


# --- the views of real repositories --------------------------------------------

def test_status_of_both_trees(repos):
    (repos["agent"] / "keep.txt").write_text("changed, not committed\n")
    state = git.status(repos["trees"])
    assert state["workspace"] == {"branch": "main", "head": repos["human"],
                                  "dirty": ["scratch.txt"], "dirty_count": 1}
    assert state["agent"] == {"branch": "main", "head": repos["second"],
                              "dirty": ["keep.txt"], "dirty_count": 1}


def test_status_of_a_detached_and_an_empty_tree(repos, tmp_path):
    sh(repos["agent"], "checkout", "-q", "--detach", repos["first"])
    empty = tmp_path / "empty"
    sh(tmp_path, "init", "-q", "-b", "trunk", str(empty))
    state = git.status(git.Trees(str(empty), repos["trees"].agent))
    assert state["workspace"] == {"branch": "trunk", "head": None, "dirty": [],
                                  "dirty_count": 0}
    assert (state["agent"]["branch"], state["agent"]["head"]) == (None, repos["first"])


def test_log_of_the_agents_branch(repos):
    commits = git.log(repos["trees"])["commits"]
    assert [c["sha"] for c in commits] == [repos["second"], repos["first"], repos["root"]]
    assert commits[0]["subject"] == "agent: shuffle files"
    assert commits[0]["author"] == "Ada Tester"
    assert commits[0]["date"][:2] == "20" and "T" in commits[0]["date"]
    assert [c["sha"] for c in git.log(repos["trees"], 1)["commits"]] == [repos["second"]]
    assert len(git.log(repos["trees"], 0)["commits"]) == 1  # clamped to at least one


def test_review_lists_the_agents_commits_and_changes(repos):
    review = git.review(repos["trees"])
    assert list(review) == ["base", "head", "branch", "commits", "files"]
    assert (review["base"], review["head"], review["branch"]) == (
        repos["human"], repos["second"], "main")
    assert [c["subject"] for c in review["commits"]] == ["agent: shuffle files",
                                                         "agent: extend keep"]
    files = {f["path"]: f for f in review["files"]}
    assert set(files) == {"bin", "del.txt", "keep.txt", "moved.txt", "sp ace.txt"}  # no human.txt
    assert {p: f["status"] for p, f in files.items()} == {
        "bin": "M", "del.txt": "D", "keep.txt": "M", "moved.txt": "R", "sp ace.txt": "A"}
    assert (files["keep.txt"]["additions"], files["keep.txt"]["deletions"]) == (1, 0)
    assert (files["del.txt"]["additions"], files["del.txt"]["deletions"]) == (0, 1)
    assert files["moved.txt"]["old_path"] == "move.txt"
    assert files["bin"]["binary"] is True
    for path, entry in files.items():
        assert entry["diff"].startswith("diff --git "), path
        assert entry["truncated"] is False
        assert {"path", "status", "additions", "deletions", "diff"} <= set(entry)
    assert "+four\n" in files["keep.txt"]["diff"]
    assert "+added\n" in files["sp ace.txt"]["diff"]
    assert "rename from move.txt" in files["moved.txt"]["diff"]
    json.dumps(review)


def test_review_caps_a_big_diff(repos):
    (repos["agent"] / "big.txt").write_text("".join(f"{n:0100d}\n" for n in range(4000)))
    commit(repos["agent"], "agent: big file")
    files = {f["path"]: f for f in git.review(repos["trees"])["files"]}
    big = files["big.txt"]
    assert big["truncated"] is True and big["additions"] == 4000
    assert len(big["diff"].encode()) <= git.DIFF_CAP and big["diff"].endswith("\n")
    assert files["keep.txt"]["truncated"] is False


def test_review_when_nothing_is_new(repos, tmp_path):
    fresh = tmp_path / "fresh"
    runner.capture(["git", "clone", "-q", "--shared", str(repos["main"]), str(fresh)])
    review = git.review(git.Trees(repos["trees"].workspace, str(fresh)))
    assert review == {"base": repos["human"], "head": repos["human"], "branch": "main",
                      "commits": [], "files": []}


def test_review_when_the_workspace_moved_past_the_agent(repos):
    sh(repos["agent"], "reset", "-q", "--hard", repos["root"])
    review = git.review(repos["trees"])
    assert (review["commits"], review["files"]) == ([], [])
    assert "error" not in review


def test_review_sees_the_base_even_when_the_agent_cut_its_alternates(repos, tmp_path):
    """The diff is computed with the objects of both trees: the agent cannot make the
    review fail (or differ) by removing the alternates to the workspace's objects."""
    (repos["agent"] / ".git" / "objects" / "info" / "alternates").unlink()
    review = git.review(repos["trees"])
    assert (review["base"], review["head"]) == (repos["human"], repos["second"])
    assert [c["subject"] for c in review["commits"]] == ["agent: shuffle files",
                                                         "agent: extend keep"]
    assert "error" not in review


def test_review_of_unrelated_histories(repos, tmp_path):
    other = tmp_path / "other"
    sh(tmp_path, "init", "-q", "-b", "main", str(other))
    (other / "x").write_text("x\n")
    base = commit(other, "unrelated")
    review = git.review(git.Trees(str(other), repos["trees"].agent))
    assert (review["base"], review["head"]) == (base, repos["second"])
    assert (review["commits"], review["files"]) == ([], [])
    assert "shares no history" in review["error"]


def test_missing_trees_raise_tree_missing(repos, tmp_path):
    not_repo = tmp_path / "plain"
    not_repo.mkdir()
    for trees, which, why in [
        (git.Trees(repos["trees"].workspace, str(tmp_path / "nope")), "agent", "is not there"),
        (git.Trees(str(not_repo), repos["trees"].agent), "workspace", "not a git repository"),
    ]:
        for view in (git.status, git.review):
            with pytest.raises(git.TreeMissing) as caught:
                view(trees)
            assert caught.value.which == which and why in str(caught.value)
    with pytest.raises(git.TreeMissing):
        git.log(git.Trees(repos["trees"].workspace, str(not_repo)))


def test_a_corrupt_tree_is_a_git_error(repos, tmp_path):
    broken = tmp_path / "broken"
    (broken / ".git").mkdir(parents=True)
    with pytest.raises(git.GitError) as caught:
        git.status(git.Trees(str(broken), repos["trees"].agent))
    assert "has no .git directory with objects" in str(caught.value)


def test_reads_do_not_run_programs_the_agents_config_names(repos, tmp_path):
    agent = repos["agent"]
    marker = tmp_path / "ran"
    sh(agent, "config", "core.fsmonitor", f"touch {marker}.fsmonitor; false")
    sh(agent, "config", "filter.evil.clean", f"touch {marker}.filter; cat")
    sh(agent, "config", "filter.evil.required", "true")
    sh(agent, "config", "log.showSignature", "true")
    (agent / ".gitattributes").write_text("*.txt filter=evil\n")
    later = os.stat(agent / "keep.txt").st_mtime + 100
    os.utime(agent / "keep.txt", (later, later))  # same content, new stat: git re-reads it
    state = git.status(repos["trees"])["agent"]
    git.log(repos["trees"])
    git.review(repos["trees"])
    assert state["dirty"] == [".gitattributes"]
    assert not list(tmp_path.glob("ran*"))
    sh(agent, "status")  # the trap is real: a plain git status springs both
    assert {p.name for p in tmp_path.glob("ran*")} == {"ran.fsmonitor", "ran.filter"}


# --- change detection and events ------------------------------------------------

def test_ref_marks_follow_head_branch_and_packed_refs(repos):
    agent = str(repos["agent"])
    before = git.ref_marks(agent)
    assert before[0] == "ref: refs/heads/main\n" and before[1].strip() == repos["second"]
    assert git.ref_marks(agent) == before
    (repos["agent"] / "new.txt").write_text("n\n")
    commit(repos["agent"], "agent: more")
    after = git.ref_marks(agent)
    assert after != before
    sh(repos["agent"], "pack-refs", "--all")
    packed = git.ref_marks(agent)
    assert packed[:2] == ("ref: refs/heads/main\n", None) and packed != after
    sh(repos["agent"], "checkout", "-q", "-b", "topic")
    assert git.ref_marks(agent)[0] == "ref: refs/heads/topic\n"
    assert git.ref_marks(str(repos["agent"] / "nope")) == (None,)


def test_ref_marks_follow_a_gitdir_file(repos, tmp_path):
    wt = tmp_path / "wt"
    sh(repos["agent"], "worktree", "add", "-q", "-b", "side", str(wt))
    before = git.ref_marks(str(wt))
    assert before[0] == "ref: refs/heads/side\n"
    (wt / "w.txt").write_text("w\n")
    commit(wt, "in the worktree")
    assert git.ref_marks(str(wt)) != before
    assert git.git_dirs(str(repos["agent"])) == (str(repos["agent"] / ".git"),) * 2


def parse_event(chunk: bytes) -> tuple[str, dict]:
    head, data = chunk.decode().rstrip("\n").split("\n")
    return head.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def next_event(stream, limit: int = 500) -> bytes:
    """The next chunk that is not a keepalive."""
    for _ in range(limit):
        chunk = next(stream)
        if chunk != b": keepalive\n\n":
            return chunk
    raise AssertionError("no event came")


def test_events_on_head_and_branch_changes(repos):
    stream = git.events(repos["trees"], poll=0.01, keepalive=0.05)
    event, data = parse_event(next(stream))
    assert event == "git.updated" and data == git.status(repos["trees"])
    (repos["agent"] / "n.txt").write_text("n\n")
    tip = commit(repos["agent"], "agent: next")
    event, data = parse_event(next_event(stream))
    assert event == "git.updated" and data["agent"]["head"] == tip
    sh(repos["main"], "checkout", "-q", "-b", "review")
    event, data = parse_event(next_event(stream))
    assert data["workspace"]["branch"] == "review"
    stream.close()
    with pytest.raises(StopIteration):
        next(stream)


def test_events_keepalive_and_no_event_for_packing_refs(repos):
    stream = git.events(repos["trees"], poll=0.01, keepalive=0.05)
    next(stream)
    sh(repos["agent"], "pack-refs", "--all")
    assert next(stream) == b": keepalive\n\n"  # refs moved, HEAD did not
    assert next(stream) == b": keepalive\n\n"
    stream.close()


def test_events_polls_with_the_given_sleep(repos):
    naps: list[float] = []
    clock = iter(range(100))
    stream = git.events(repos["trees"], poll=1.0, keepalive=15,
                        sleep=naps.append, clock=lambda: next(clock))
    next(stream)
    assert next(stream) == b": keepalive\n\n"
    assert naps and set(naps) == {1.0}
    stream.close()


def test_events_report_a_failing_tree(repos, tmp_path):
    stream = git.events(git.Trees(repos["trees"].workspace, str(tmp_path / "nope")),
                        poll=0.01, keepalive=0.05)
    event, data = parse_event(next(stream))
    assert event == "git.error" and "is not there" in data["error"]
    stream.close()
