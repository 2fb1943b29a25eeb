"""What the agent is doing now, in a real browser: the pods page shows the status line
under the agent's state, the pod page's header the status line and the last lines of
output, as text (markup the agent writes stays text)."""

from __future__ import annotations

import json
import secrets

import pytest

from .conftest import delete_pod, expect, wait_until

pytestmark = pytest.mark.podman

MARKUP = "<b data-testid=injected>bold</b>"
# prints two lines, then waits until the test lets it go on
COMMAND = (f"echo summary-first; echo '{MARKUP}'; "
           "while [ ! -e /tmp/go-on ]; do sleep 0.2; done")


@pytest.fixture
def busy_pod(control_plane, ui_git, ui_llm, podman_service):
    """A pod whose agent runs COMMAND (a `bash` call of the fake LLM) until let go."""
    name = f"{podman_service.instance}-sum-{secrets.token_hex(2)}"
    rc, _out, err = control_plane.devaipod("run", ui_git.git_url, "--name", name,
                                           "-c", f"RUN_BASH {COMMAND}", timeout=300)
    assert rc == 0, err

    def running():  # OpenCode's first turn in a new pod is slow on a busy machine
        rc, out, _err = control_plane.devaipod("status", "--json", name)
        return rc == 0 and json.loads(out)["agent_tool"] == "bash"

    wait_until(running, 300, "the agent running its bash command")
    yield f"devaipod-{name}"
    delete_pod(control_plane, name)


def test_pods_page_and_header_show_what_the_agent_does(control_plane, busy_pod, page,
                                                        podman_service, shot):
    page.goto(f"{control_plane.base}/")
    row = page.locator(f'tr[data-pod="{busy_pod.removeprefix("devaipod-")}"]')
    status = row.get_by_test_id("agent-summary-status")
    expect(status).to_have_text(f"running bash: {COMMAND}", timeout=60_000)
    assert row.get_by_test_id("agent-summary").get_attribute("data-tool") == "bash"
    expect(row.get_by_test_id("agent-summary")).to_have_attribute(
        "title", f"summary-first\n{MARKUP}")
    expect(page.get_by_test_id("injected")).to_have_count(0)  # text, not markup
    shot(page, "-pods")

    page.goto(f"{control_plane.base}/pods/{busy_pod}")
    head = page.locator(".pod-head")
    expect(head.get_by_test_id("agent-summary-status")).to_have_text(
        f"running bash: {COMMAND}")
    expect(head.get_by_test_id("agent-summary-lines")).to_have_text(
        f"summary-first\n{MARKUP}")
    expect(page.get_by_test_id("injected")).to_have_count(0)
    shot(page)

    podman_service.podman("exec", f"{busy_pod}-agent", "touch", "/tmp/go-on")
    expect(page.get_by_test_id("state-badge").first).to_have_text("idle")
    expect(head.get_by_test_id("agent-summary-status")).to_have_text("")  # only "idle"
