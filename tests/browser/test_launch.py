"""Launching with `devaipod run`'s options from the New page, and managing a workspace
from its page: recreate (`devaipod rebuild`) when its image changed, revoke a grant.

Real pods, real OpenCode, the fake LLM; each test saves screenshots under
test-output/screenshots/.
"""

from __future__ import annotations

import json
import secrets

import pytest

from devaipod import layout
from podfixtures import exec_in, inspect

from .conftest import SCREENSHOTS, delete_pod, expect, wait_until

pytestmark = pytest.mark.podman

SUBJECT = "launch: add kept.txt"
TASK = f"WRITE_FILE kept.txt kept && RUN_BASH git add kept.txt; git commit -qm '{SUBJECT}'"


def wait_jobs(page, count: int, timeout: float = 420) -> list[str]:
    """The New page's COUNT job cards, each followed to its end: their pods."""
    cards = page.get_by_test_id("job")
    expect(cards).to_have_count(count)
    results = page.get_by_test_id("job-result")

    def ended() -> bool:
        return all(results.nth(n).get_attribute("data-state") not in (None, "running")
                   for n in range(count))

    wait_until(ended, timeout, "the creation jobs to end", interval=1)
    states = [results.nth(n).get_attribute("data-state") for n in range(count)]
    if states != ["succeeded"] * count:
        page.screenshot(path=str(SCREENSHOTS / "launch-jobs-failed.png"), full_page=True)
        logs = [page.get_by_test_id("job-log").nth(n).text_content()[-3000:]
                for n in range(count)]
        pytest.fail(f"the jobs ended {states}: {[r.text_content() for r in results.all()]}\n"
                    + "\n---\n".join(logs))
    return [page.get_by_test_id("job-pod-link").nth(n).text_content().strip()
            for n in range(count)]


def label(svc, pod: str, key: str) -> str | None:
    return layout.read_label(inspect(svc, pod, kind="pod")[0].get("Labels"), key)


def test_new_page_shows_every_option(control_plane, page, shot):
    """The screenshot of the New page that the README shows (docs/new.png)."""
    page.set_viewport_size({"width": 1200, "height": 750})
    page.goto(f"{control_plane.base}/new")
    page.get_by_test_id("field-source").fill(
        "https://github.com/org/repo/issues/42\nhttps://github.com/org/other")
    page.get_by_test_id("field-task").fill("Fix the issue; add a test")
    page.locator('[data-testid="more-options"] summary').click()
    page.get_by_test_id("field-mcp").fill("docs=http://127.0.0.1:9000/mcp")
    page.get_by_test_id("field-title").fill("Login fixes")
    page.get_by_test_id("field-no-auto-approve").check()
    for testid in ("field-network", "field-devcontainer-json", "field-gator-image",
                   "field-use-default-devcontainer", "field-gator-ro", "field-trust-source",
                   "field-pull"):
        expect(page.get_by_test_id(testid)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "new-page-options.png"), full_page=True)
    shot(page)


def test_new_form_refuses_a_bad_mcp_spec_with_the_clis_message(control_plane, ui_git,
                                                                page, shot):
    rc, _out, err = control_plane.devaipod("up", "--mcp", "ok=http://x/mcp", "--mcp", "docs",
                                           ui_git.git_url)
    assert rc != 0
    message = "--mcp 'docs': expected NAME=URL; e.g. --mcp docs=http://127.0.0.1:9000/mcp"
    assert f"Error: {message}" in err, err  # the CLI's own line
    page.goto(f"{control_plane.base}/new")
    page.get_by_test_id("field-source").fill(ui_git.git_url)
    page.get_by_test_id("mode-up").check()
    page.locator('[data-testid="more-options"] summary').click()
    page.get_by_test_id("field-mcp").fill("ok=http://x/mcp\ndocs")
    page.get_by_test_id("create-button").click()
    banner = page.get_by_test_id("error-banner")
    expect(banner).to_contain_text(message)
    expect(page.get_by_test_id("create-button")).to_be_enabled()
    expect(page.get_by_test_id("job")).to_have_count(0)  # nothing started
    shot(page, "-refused")


def test_batch_launch_makes_a_workspace_per_source(control_plane, ui_git, ui_llm, page, shot,
                                                   podman_service):
    """Two sources, one per line: two jobs, each its own progress, two workspaces with
    the form's options."""
    svc, made = podman_service, []
    title = f"batch {secrets.token_hex(2)}"
    try:
        page.goto(f"{control_plane.base}/new")
        page.get_by_test_id("field-source").fill(f"{ui_git.git_url}\n{ui_git.http_url}\n")
        page.get_by_test_id("mode-up").check()
        page.locator('[data-testid="more-options"] summary').click()
        page.get_by_test_id("field-title").fill(title)
        page.get_by_test_id("field-mcp").fill("docs=http://127.0.0.1:9/mcp")
        with page.expect_response(lambda r: r.url.endswith("/api/pods")
                                  and r.request.method == "POST") as answer:
            page.get_by_test_id("create-button").click()
        jobs = answer.value.json()["jobs"]
        assert len(jobs) == 2 and len(set(jobs)) == 2
        expect(page.get_by_test_id("job-source")).to_have_text([ui_git.git_url,
                                                                ui_git.http_url])
        made = wait_jobs(page, 2)
        shot(page, "-jobs")
        assert len(set(made)) == 2
        assert sorted(label(svc, pod, "source") for pod in made) == sorted(
            [ui_git.git_url, ui_git.http_url])
        assert [label(svc, pod, "title") for pod in made] == [title, title]
        for pod in made:
            assert inspect(svc, f"{pod}-agent")[0]["State"]["Status"] == "running"
        rc, out, err = control_plane.devaipod("opencode", made[0], "mcp", "list", "--json",
                                              timeout=180)
        assert rc == 0 and "docs" in json.loads(out), (out, err)  # --mcp reached OpenCode
    finally:
        for pod in made:
            delete_pod(control_plane, pod)


@pytest.fixture
def own_image(podman_service, images):
    """A tag of the devenv image that the test can move to a newer image."""
    svc = podman_service
    tag = f"localhost/devaipod-launch-test:{secrets.token_hex(3)}"
    svc.podman("tag", images["devenv"], tag)
    yield tag
    svc.podman("rmi", "-f", tag, check=False)


def test_recreate_replaces_the_containers_and_keeps_the_commits(
        control_plane, ui_git, ui_llm, page, shot, podman_service, own_image):
    svc = podman_service
    name = f"{svc.instance}-rc-{secrets.token_hex(2)}"
    pod = f"devaipod-{name}"
    try:
        rc, _out, err = control_plane.devaipod("run", "--name", name, "--image", own_image,
                                               ui_git.git_url, TASK, timeout=420)
        assert rc == 0, err
        log = ["git", "-C", "/workspaces/repo", "log", "--format=%s", "-1"]
        wait_until(lambda: exec_in(svc, f"{pod}-agent", *log, check=False) == SUBJECT, 180,
                   "the agent's commit")
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{control_plane.base}/pods/{pod}")
        expect(page.get_by_test_id("pod-name")).to_have_text(name)
        expect(page.get_by_test_id("update-badge")).to_be_hidden()  # the same image

        # the tag moves to a newer image: the page offers to recreate
        layer = f"{svc.instance}-rc-layer-{secrets.token_hex(2)}"
        svc.podman("create", "--name", layer, own_image)
        svc.podman("commit", "-q", layer, own_image)  # the same files, a new image id
        svc.podman("rm", "-f", layer)
        before = {r: inspect(svc, f"{pod}-{r}")[0]["Id"] for r in ("workspace", "agent", "api")}
        page.reload()
        expect(page.get_by_test_id("update-badge")).to_be_visible()
        expect(page.get_by_test_id("update-reason")).to_contain_text(own_image)
        shot(page, "-update")
        page.get_by_test_id("action-recreate").click()
        result = page.get_by_test_id("rebuild-result")
        expect(result).to_have_attribute("data-state", "succeeded", timeout=420_000)
        expect(page.get_by_test_id("rebuild-log")).to_contain_text("removing the old containers")
        after = {r: inspect(svc, f"{pod}-{r}")[0]["Id"] for r in ("workspace", "agent", "api")}
        assert all(after[r] != before[r] for r in before), (before, after)
        new_id = inspect(svc, own_image, kind="image")[0]["Id"]
        assert inspect(svc, f"{pod}-agent")[0]["Image"] == new_id
        assert exec_in(svc, f"{pod}-agent", *log) == SUBJECT  # the agent's commit is kept
        assert exec_in(svc, f"{pod}-agent", "cat", "/workspaces/repo/kept.txt") == "kept"
        expect(page.get_by_test_id("update-badge")).to_be_hidden()
        shot(page)
    finally:
        delete_pod(control_plane, pod)


def push_call(sha: str) -> str:
    args = {"repo_path": "/workspaces/repo", "commit_sha": sha, "repo": "owner/repo",
            "description": "revoked", "create_draft_pr": False}
    return f"TOOL service-gator_github_push {json.dumps(args)}"


def test_revoke_removes_a_grant_and_the_gator_refuses_the_next_call(
        control_plane, ui_git, ui_llm, page, shot, podman_service):
    svc = podman_service
    name = f"{svc.instance}-rv-{secrets.token_hex(2)}"
    pod = f"devaipod-{name}"
    try:
        rc, _out, err = control_plane.devaipod(
            "up", "--name", name, "--service-gator", "github:owner/repo:push",
            "--service-gator", "github:owner/other:read", ui_git.git_url, timeout=420)
        assert rc == 0, err

        def connected() -> bool:
            rc, out, _err = control_plane.devaipod("opencode", name, "mcp", "list", "--json",
                                                   timeout=180)
            return rc == 0 and json.loads(out)["service-gator"]["status"] == "connected"

        wait_until(connected, 120, "OpenCode connected to the gator", interval=2)

        def send(text: str) -> str:
            rc, out, err = control_plane.devaipod("opencode", name, "send", text, timeout=240)
            assert rc == 0, err
            return out

        # granted: the gator lets the call through to its own checks (a short commit id)
        reply = send(push_call("abc123"))
        assert "is not a full 40-character commit id" in reply, reply

        page.goto(f"{control_plane.base}/pods/{pod}")
        grants = page.get_by_test_id("gator-grants")
        held = "github:owner/other:read · github:owner/repo:read,push-new-branch"
        expect(grants).to_have_text(held)
        page.get_by_test_id("gator-revoke-choice").select_option(
            "github:owner/repo:read,push-new-branch")
        page.get_by_test_id("gator-revoke").click()
        expect(grants).to_have_text("github:owner/other:read")
        shot(page, "-revoked")
        rc, out, err = control_plane.devaipod("gator", "show", name)
        assert rc == 0 and out.split() == ["github:owner/other:read"], err

        # revoked: the same call is refused by the gator at once
        reply = send(push_call("abc123"))
        assert "refused: no push-new-branch permission on owner/repo" in reply, reply

        # replace all: the other grant goes too, the typed one comes
        page.on("dialog", lambda dialog: dialog.accept())
        page.get_by_test_id("gator-add").fill("github:owner/third:read")
        page.get_by_test_id("gator-set").click()
        expect(grants).to_have_text("github:owner/third:read")
        rc, out, err = control_plane.devaipod("gator", "show", name)
        assert out.split() == ["github:owner/third:read"], err

        # the CLI's verbs are the same functions
        rc, _out, err = control_plane.devaipod("gator", "revoke", name, "github:owner/nope")
        assert rc != 0 and f"{name} has no grant 'github:owner/nope'" in err, err
        rc, _out, err = control_plane.devaipod("gator", "revoke", name, "github:owner/third")
        assert rc == 0, err
        rc, out, err = control_plane.devaipod("gator", "show", name)
        assert out.strip() == "no access granted", (out, err)
        rc, _out, err = control_plane.devaipod("gator", "set", name, "github:owner/repo:push")
        assert rc == 0, err
        assert send(push_call("abc123")).count("is not a full 40-character commit id"), \
            "the grant set again lets the call through"
    finally:
        delete_pod(control_plane, pod)
