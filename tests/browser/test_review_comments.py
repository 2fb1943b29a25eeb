"""The Review tab talks back: line comments on the agent's diff go to the agent as one
message, its next commit shows up in the same review, Merge lands the reviewed commit
and the merged review stays listed as a record.

A real pod (made with `devaipod run`, the control plane's environment), the real
OpenCode, the fake LLM: the human's comment is a fake-LLM command (RUN_BASH ...), so
the agent answers the review by committing again.
"""

from __future__ import annotations

import json
import secrets

import pytest

from podfixtures import exec_in

from .conftest import SCREENSHOTS, delete_pod, expect, wait_until

pytestmark = pytest.mark.podman

SUBJECT = "notes: add notes.txt"
TASK = (r"RUN_BASH printf 'one\ntwo\nthree\n' > notes.txt; git add notes.txt; "
        f"git commit -qm '{SUBJECT}'")
FIX = "review: two in capitals"
# the human's comment: for the fake LLM, a command to run (to the end of its line)
COMMENT = f"RUN_BASH sed -i s/two/TWO/ notes.txt; git commit -qam '{FIX}'"
SECOND = "and keep the first line as it is"
TREE = "/workspaces/repo"


@pytest.fixture(scope="module")
def review_pod(control_plane, ui_git, ui_llm, podman_service):
    """A pod whose agent committed notes.txt (its task done), made as a person would."""
    name = f"{podman_service.instance}-rc-{secrets.token_hex(2)}"
    try:
        rc, out, err = control_plane.devaipod("run", ui_git.git_url, TASK, "--name", name,
                                              "--wait", timeout=400)
        assert rc == 0, f"devaipod run failed ({rc}): {out}\n{err}"
        yield f"devaipod-{name}"
    finally:
        delete_pod(control_plane, name)


def user_messages(llm) -> list[str]:
    """The text of every user message the fake LLM was sent."""
    found = []
    for request in llm.requests():
        body = request.get("body") or {}
        for message in body.get("messages") or [] if isinstance(body, dict) else []:
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    content = "\n".join(p.get("text", "") for p in content
                                        if isinstance(p, dict))
                found.append(content or "")
    return found


def test_line_comments_reach_the_agent_and_the_merged_review_is_kept(
        control_plane, review_pod, page, shot, ui_llm, podman_service):
    page.goto(f"{control_plane.base}/pods/{review_pod}#review")
    commits = page.get_by_test_id("review-commit")
    wait_until(lambda: commits.count() or page.get_by_test_id("review-refresh").click(),
               120, "the agent's commit in the review", interval=2)
    notes = page.locator('[data-testid="review-file"][data-path="notes.txt"]')
    # click a line: a box; write; the comment waits in the pending review
    notes.locator('pre.diff span[data-side="new"][data-line="2"]').click()
    page.get_by_test_id("comment-text").fill(COMMENT)
    page.get_by_test_id("comment-add").click()
    notes.locator('pre.diff span[data-side="new"][data-line="1"]').click()
    page.get_by_test_id("comment-text").fill(SECOND)
    page.get_by_test_id("comment-add").click()
    pending = page.get_by_test_id("review-pending").get_by_test_id("comment-item")
    expect(pending).to_have_count(2)
    expect(pending.first).to_contain_text("notes.txt:2")
    expect(notes.locator("pre.diff .commented")).to_have_count(2)
    expect(notes.get_by_test_id("inline-comment")).to_have_text([SECOND, COMMENT])
    shown_head = exec_in(podman_service, f"{review_pod}-agent", "git", "-C", TREE,
                         "rev-parse", "HEAD")
    docs_shot(page)
    shot(page, "-pending")

    with page.expect_request(lambda r: r.url.endswith("/review/comments")) as sent:
        page.get_by_test_id("review-send").click()
    body = sent.value.post_data_json
    assert body["head"] == shown_head and len(body["comments"]) == 2
    assert body["comments"][0] == {"path": "notes.txt", "side": "new", "line": 2,
                                   "text": COMMENT, "context": ["+one", "+two"]}
    expect(page.get_by_test_id("review-result")).to_contain_text("Sent 2 comment(s)")
    expect(page.get_by_test_id("review-pending")).to_be_hidden()

    # the message: one user message, file:line and the diff's lines as shown
    def the_message() -> str | None:
        return next((m for m in user_messages(ui_llm) if "Please change the following" in m),
                    None)

    message = wait_until(the_message, 60, "the review in the fake LLM's requests")
    assert f"- notes.txt:2: {COMMENT}\n    | +one\n    | +two\n" in message
    assert f"- notes.txt:1: {SECOND}\n    | +one\n" in message

    # the agent commits again: the same review shows it, marked new
    def fixed() -> bool:
        if commits.count() == 2:
            return True
        page.get_by_test_id("review-refresh").click()
        return False

    wait_until(fixed, 180, "the agent's commit after the review", interval=3)
    expect(commits.first.locator(".subject")).to_have_text(FIX)
    expect(commits.first.get_by_test_id("review-commit-new")).to_be_visible()
    expect(commits.nth(1).get_by_test_id("review-commit-new")).to_have_count(0)
    expect(notes.locator("pre.diff .add")).to_have_text(["+one", "+TWO", "+three"])
    expect(page.get_by_test_id("sent-comment")).to_have_count(2)
    summary = page.get_by_test_id("review-summary").text_content()
    shot(page, "-answered")

    # Merge lands exactly the reviewed head
    with page.expect_request(lambda r: r.url.endswith("/review/merge")) as merged:
        page.get_by_test_id("merge-button").click()
    pinned = merged.value.post_data_json
    assert f"{pinned['base'][:10]}..{pinned['head'][:10]}" in summary
    expect(page.get_by_test_id("review-result")).to_contain_text("Merged into the workspace")
    landed = exec_in(podman_service, f"{review_pod}-workspace", "git", "-C", TREE,
                     "rev-parse", "HEAD")
    assert landed == pinned["head"]
    assert exec_in(podman_service, f"{review_pod}-workspace", "cat",
                   f"{TREE}/notes.txt") == "one\nTWO\nthree"

    # the merged review is a record: in the tab, and for the CLI
    past = page.get_by_test_id("past-review")
    expect(past).to_have_count(1)
    expect(past).to_contain_text("2 comment(s)")
    expect(past.get_by_test_id("past-comment")).to_have_count(2)
    expect(page.get_by_test_id("review-sent")).to_be_hidden()
    rc, out, err = control_plane.devaipod("review", review_pod, "--json")
    assert rc == 0, err
    [record] = json.loads(out)["history"]
    assert (record["base"], record["head"], record["merged"]) == (
        pinned["base"], pinned["head"], landed)
    assert [c["text"] for c in record["comments"]] == [COMMENT, SECOND]
    assert all(c["head"] == shown_head for c in record["comments"])
    shot(page)


def docs_shot(page) -> None:
    """The picture for the README (docs/review.png, copied by hand after a look): the
    Review panel with its pending comments."""
    page.get_by_test_id("panel-review").screenshot(path=str(SCREENSHOTS / "review-docs.png"))
