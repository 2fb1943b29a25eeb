"""devaipod review: rendering the sidecar's review, its arguments, and the library's checks
before a merge (the merge itself runs against real pods: tests/integration/test_review.py)."""

from __future__ import annotations

import json

import pytest

from devaipod import cli
from devaipod.commands import review as command
from devaipod.workspace import lookup
from devaipod.workspace import review as library

BASE, HEAD, LATER = "b" * 40, "a" * 40, "c" * 40
REVIEW = {
    "base": BASE, "head": HEAD, "branch": "main",
    "commits": [{"sha": HEAD, "subject": "Fix the typo", "author": "agent", "date": "x"},
                {"sha": "d" * 40, "subject": "Add a file", "author": "agent", "date": "x"}],
    "files": [
        {"path": "README.md", "status": "M", "additions": 3, "deletions": 1,
         "binary": False, "diff": "diff --git ...", "truncated": False},
        {"path": "logo.png", "status": "A", "additions": 0, "deletions": 0, "binary": True,
         "diff": "", "truncated": False},
        {"path": "new.txt", "old_path": "old.txt", "status": "R", "additions": 0,
         "deletions": 0, "binary": False, "diff": "", "truncated": False},
    ],
}


def test_render_shows_the_range_commits_and_files():
    assert command.render(REVIEW) == [
        f"range    {BASE}..{HEAD}",
        "branch   main (the agent's)",
        "commits  2",
        f"  {HEAD[:12]}  Fix the typo",
        f"  {'d' * 12}  Add a file",
        "files    3, +3 -1",
        "  M      +3     -1  README.md",
        "  A         binary  logo.png",
        "  R      +0     -0  old.txt -> new.txt",
    ]


def test_render_says_when_there_is_nothing_or_why_not():
    same = {"base": BASE, "head": BASE, "branch": "main", "commits": [], "files": []}
    assert command.render(same)[-1] == (
        "nothing to review: the agent has no commits the workspace lacks")
    apart = {**same, "head": HEAD, "error": "the agent's branch shares no history"}
    lines = command.render(apart)
    assert "note     the agent's branch shares no history" in lines
    assert "commits  0" in lines
    empty = {"base": None, "head": None, "branch": None, "commits": [], "files": [],
             "error": "the workspace has no commits"}
    assert command.render(empty)[0] == "range    (none)..(none)"


def test_a_path_or_subject_stays_on_its_line():
    evil = {**REVIEW, "commits": [{"sha": HEAD, "subject": "one\nmerged OK"}],
            "files": [{"path": "a\nb", "status": "A", "additions": 1, "deletions": 0}]}
    lines = command.render(evil)
    assert f"  {HEAD[:12]}  one\\nmerged OK" in lines
    assert "  A      +1     -0  a\\nb" in lines


class FakeSidecar:
    """The pod's sidecar: /git/review and /git/status, and what was asked."""

    def __init__(self, review: dict, agent_head: str | None) -> None:
        self.review, self.agent_head, self.asked = review, agent_head, []

    def get(self, path: str):
        self.asked.append(path)
        if path == "/git/review":
            return json.loads(json.dumps(self.review))
        if path == "/git/status":
            return {"workspace": {"head": self.review["base"]},
                    "agent": {"head": self.agent_head}}
        raise AssertionError(path)


@pytest.fixture
def pod(monkeypatch, tmp_path):
    """`devaipod review ws` against a fake sidecar; merges and rejects are recorded (the
    review record in a state dir of the test's)."""
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    state = {"sidecar": FakeSidecar(REVIEW, HEAD), "merged": [], "rejected": []}
    monkeypatch.setattr(lookup, "resolve", lambda name, latest=False: f"devaipod-{name}")
    monkeypatch.setattr(library, "sidecar", lambda name: state["sidecar"])

    def merge(name, head, base, agent_head):
        if agent_head != head:
            raise library.ReviewError("the agent's branch moved since the review")
        state["merged"].append((name, head, base))
        return head

    monkeypatch.setattr(library, "merge", merge)
    monkeypatch.setattr(library, "reject", lambda name: state["rejected"].append(name))
    return state


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        cli.main(["review", *args])
    out, err = capsys.readouterr()
    return caught.value.code, out, err


def test_the_review_is_printed_escaped(pod, capsys):
    pod["sidecar"].review = {**REVIEW, "branch": "main\x1b]0;owned\x07",
                             "commits": [{"sha": HEAD, "subject": "fix \x1b[2K\x1b[1Amerged"}]}
    code, out, err = run(capsys, "ws")
    assert (code, err) == (0, "")
    assert "\x1b" not in out and "\x07" not in out
    assert "fix \\x1b[2K\\x1b[1Amerged" in out and "main\\x1b]0;owned\\x07" in out
    assert pod["merged"] == pod["rejected"] == []


def test_json_is_the_sidecars_answer(pod, capsys):
    code, out, _ = run(capsys, "ws", "--json")
    assert code == 0 and json.loads(out) == {**REVIEW, "sent": [], "history": []}


def test_merge_lands_the_range_shown(pod, capsys):
    code, out, err = run(capsys, "ws", "--merge")
    assert (code, err) == (0, "")
    assert pod["merged"] == [("devaipod-ws", HEAD, BASE)]
    assert out.splitlines()[0] == f"range    {BASE}..{HEAD}"
    assert out.splitlines()[-1] == f"merged {HEAD[:12]}: the workspace is at {HEAD[:12]}"
    assert pod["sidecar"].asked == ["/git/review", "/git/status"]


def test_merge_with_json(pod, capsys):
    code, out, _ = run(capsys, "ws", "--merge", "--json")
    assert code == 0 and json.loads(out) == {**REVIEW, "merged": HEAD, "sent": [],
                                             "history": []}


def test_merge_is_refused_when_the_agent_moved(pod, capsys):
    pod["sidecar"].agent_head = LATER
    code, out, err = run(capsys, "ws", "--merge", "--json")
    assert code == 1 and out == "" and pod["merged"] == []
    assert err == "Error: the agent's branch moved since the review\n"


def test_nothing_to_merge(pod, capsys):
    pod["sidecar"].review = {**REVIEW, "head": BASE, "commits": [], "files": []}
    code, _, err = run(capsys, "ws", "--merge")
    assert (code, err) == (0, "nothing to merge\n") and pod["merged"] == []


def test_a_review_that_failed_is_not_merged(pod, capsys):
    pod["sidecar"].review = {**REVIEW, "commits": [], "files": [],
                             "error": "the agent's branch shares no history"}
    code, _, err = run(capsys, "ws", "--merge")
    assert code == 1 and pod["merged"] == []
    assert err == "Error: cannot merge: the agent's branch shares no history\n"


def test_reject(pod, capsys):
    code, out, _ = run(capsys, "ws", "--reject")
    assert code == 0 and pod["rejected"] == ["devaipod-ws"] and pod["merged"] == []
    assert out.splitlines()[-1] == "rejected: the agent's branch is reset to the workspace's"
    code, out, _ = run(capsys, "ws", "--reject", "--json")
    assert json.loads(out)["rejected"] is True


def test_merge_and_reject_together_are_an_error(pod, capsys):
    code, out, err = run(capsys, "ws", "--merge", "--reject")
    assert code == 2 and out == ""
    assert "give one of --merge, --reject or --comment" in err
    assert pod["sidecar"].asked == [] and pod["merged"] == pod["rejected"] == []


# --- the library: what is checked before the workspace is touched -------------------------


@pytest.mark.parametrize(("head", "base"), [
    (None, BASE), (HEAD, None), ("HEAD", BASE), (HEAD, "main"), (HEAD[:12], BASE),
    (HEAD + "\n", BASE), (["a"], BASE),
])
def test_land_needs_a_range_of_commit_ids(head, base):
    sidecar = FakeSidecar(REVIEW, HEAD)
    with pytest.raises(library.ReviewError, match="reviewed range"):
        library.land("devaipod-ws", head, base, sidecar)
    assert sidecar.asked == []  # refused before asking anyone


@pytest.mark.parametrize("now", [LATER, None])
def test_land_refuses_a_moved_branch_before_touching_the_workspace(fp, now):
    """No podman command is registered: reaching the workspace would fail differently."""
    sidecar = FakeSidecar(REVIEW, now)
    with pytest.raises(library.ReviewError, match="moved since the review"):
        library.land("devaipod-ws", HEAD, BASE, sidecar)
    assert sidecar.asked == ["/git/status"]
    assert list(fp.calls) == []
