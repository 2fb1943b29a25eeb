"""The control plane's pages in a real browser (Chromium via Playwright).

One `devaipod web` and one pod, created through the New page's form with a
task for the fake LLM; then every tab of the pod's page. Each test saves a
full-page screenshot as ``test-output/screenshots/<test>.png``.
"""

from __future__ import annotations

import http.server
import re
import secrets
import threading
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

import pytest

from podfixtures import exec_in

from .conftest import (
    SCREENSHOTS,
    PlaywrightError,
    delete_pod,
    expect,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.podman

TEXT = "made in the browser"
# Trojan Source: a right-to-left override and isolates make the line read otherwise
BIDI = 'if role != "user\u202e \u2066// admin\u2069\u2066": deny()'
SUBJECT = "ui: add ui.txt"
TASK = (f"WRITE_FILE ui.txt {TEXT} && WRITE_FILE bidi.txt {BIDI} && "
        f"RUN_BASH git add ui.txt bidi.txt; git commit -qm '{SUBJECT}'")


@dataclass
class UiPod:
    name: str  # the full pod name, as the job reported it
    short: str
    samples: list[tuple[str | None, int]]  # (job state shown, log lines shown), over time
    lines: list[str]  # the job log at the end
    job_page: object  # the New page, still showing the finished job


@pytest.fixture(scope="module")
def ui_pod(control_plane, logged_in, ui_git, ui_llm, podman_service):
    """A pod made through the New page's form (mode run, a task for the fake LLM)."""
    name = f"{podman_service.instance}-ui-{secrets.token_hex(2)}"
    page = logged_in.new_page()
    try:
        page.goto(f"{control_plane.base}/new")
        page.get_by_test_id("field-source").fill(ui_git.git_url)
        page.get_by_test_id("field-task").fill(TASK)
        page.get_by_test_id("mode-run").check()
        page.get_by_test_id("field-name").fill(name)
        page.get_by_test_id("field-gator").fill(GATOR_SCOPE)
        page.get_by_test_id("create-button").click()
        result, log = page.get_by_test_id("job-result"), page.get_by_test_id("job-log")
        samples: list[tuple[str | None, int]] = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = result.get_attribute("data-state")
            samples.append((state, len(log.text_content().splitlines())))
            if state not in (None, "running"):
                break
            time.sleep(0.25)
        lines = log.text_content().splitlines()
        if result.get_attribute("data-state") != "succeeded":
            page.screenshot(path=str(SCREENSHOTS / "ui_pod-creation-failed.png"), full_page=True)
            pytest.fail(f"the creation job did not succeed: {result.text_content()!r}\n"
                        + "\n".join(lines[-30:]))
        pod = page.get_by_test_id("job-pod-link").text_content().strip()
        yield UiPod(pod, pod.removeprefix("devaipod-"), samples, lines, page)
    finally:
        delete_pod(control_plane, name)


GATOR_SCOPE = "github:owner/repo:read"


def pod_page(page, control_plane, pod: UiPod, tab: str = "") -> None:
    page.goto(f"{control_plane.base}/pods/{pod.name}" + (f"#{tab}" if tab else ""))
    expect(page.get_by_test_id("pod-name")).to_have_text(pod.short)


# --- 1, 2: logging in ----------------------------------------------------------------


def test_without_a_cookie_pages_redirect_and_the_api_refuses(control_plane, new_context, shot):
    context = new_context()
    page = context.new_page()
    for path in ("/", "/pods/x"):
        page.goto(control_plane.base + path)
        expect(page).to_have_url(f"{control_plane.base}/login")
        expect(page.get_by_test_id("login-form")).to_be_visible()
        expect(page.get_by_test_id("login-error")).to_be_hidden()
    answer = context.request.get(f"{control_plane.base}/api/pods")
    assert answer.status == 401
    assert answer.json() == {"error": "log in first"}
    assert context.cookies() == []
    shot(page)
    page.get_by_test_id("login-token").fill("not-the-token")  # a wrong token is refused
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    assert "not-the-token" not in page.url
    assert context.cookies() == []
    shot(page, "-wrong-token")


def test_login_url_sets_the_cookie_and_shows_the_pods_page(control_plane, new_context, shot):
    context = new_context()
    page = context.new_page()
    page.goto(control_plane.login_url)
    expect(page).to_have_url(f"{control_plane.base}/")  # the key left the address bar
    [cookie] = context.cookies()
    assert cookie["name"] == "devaipod_session"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert control_plane.token not in cookie["value"]
    assert cookie["expires"] > time.time() + 11 * 3600  # 12 hours by default
    key = page.evaluate("localStorage.getItem('devaipod-key')")
    assert re.fullmatch(r"[0-9a-f]{64}", key or ""), key
    expect(page).to_have_title(re.compile("Workspaces"))
    expect(page.get_by_test_id("pods-table")).to_be_visible()
    expect(page.get_by_test_id("pods-loading")).to_be_hidden()
    expect(page.get_by_test_id("error-banner")).to_have_count(0)
    api = f"{control_plane.base}/api/pods"
    assert context.request.get(api).status == 401  # the cookie alone opens nothing
    assert context.request.get(api, headers={"X-Devaipod-Key": key}).status == 200
    answer = context.request.get(f"{control_plane.base}/")
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and "script-src 'self'" in policy
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    shot(page)


def test_logout_ends_the_session(control_plane, new_context, shot):
    context = new_context()
    page = context.new_page()
    page.goto(control_plane.login_url)
    expect(page.get_by_test_id("pods-loading")).to_be_hidden()
    [cookie] = context.cookies()
    key = page.evaluate("localStorage.getItem('devaipod-key')")
    page.get_by_test_id("logout-button").click()
    expect(page).to_have_url(f"{control_plane.base}/login")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    assert page.evaluate("localStorage.getItem('devaipod-key')") is None
    assert context.cookies() == []
    replayed = context.request.get(f"{control_plane.base}/api/pods", headers={
        "Cookie": f"devaipod_session={cookie['value']}", "X-Devaipod-Key": key})
    assert replayed.status == 401  # revoked: a copy of the cookie and key is worth nothing
    page.goto(f"{control_plane.base}/")
    expect(page).to_have_url(f"{control_plane.base}/login")
    shot(page)


# --- 3: the New page -----------------------------------------------------------------


def test_new_form_creates_a_workspace(control_plane, ui_pod, page, shot):
    running = [count for state, count in ui_pod.samples if state == "running"]
    assert any(running), f"no progress line shown while the job ran: {ui_pod.samples}"
    assert len(set(running)) > 1, f"the lines did not come in as the job went: {ui_pod.samples}"
    assert any("cloning" in line for line in ui_pod.lines), ui_pod.lines
    result = ui_pod.job_page.get_by_test_id("job-result")
    expect(result).to_have_attribute("data-state", "succeeded")
    expect(result).to_contain_text("Workspace ready")
    shot(ui_pod.job_page, "-job")

    page.goto(f"{control_plane.base}/")
    row = page.locator(f'[data-pod="{ui_pod.short}"]')
    expect(row).to_be_visible()
    expect(row.get_by_test_id("pod-link")).to_have_text(ui_pod.short)
    expect(row.get_by_test_id("state-badge")).to_have_text("idle", timeout=180_000)
    shot(page)


def test_new_form_refuses_a_bad_gator_scope(control_plane, page, shot):
    page.goto(f"{control_plane.base}/new")
    page.get_by_test_id("field-source").fill("https://github.com/octo/hello")
    page.get_by_test_id("mode-up").check()
    page.get_by_test_id("field-gator").fill("github:octo/hello:read, jira:PROJ")
    page.get_by_test_id("create-button").click()
    banner = page.get_by_test_id("error-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("only GitHub scopes are supported")
    expect(page.get_by_test_id("create-button")).to_be_enabled()  # nothing started
    shot(page, "-gator-refused")


def test_pod_page_shows_and_grants_github_access(control_plane, ui_pod, page, shot):
    pod_page(page, control_plane, ui_pod)
    grants = page.get_by_test_id("gator-grants")
    expect(grants).to_have_text(GATOR_SCOPE)  # from the New form's scopes
    expect(page.get_by_test_id("pod-containers")).to_contain_text("gator running")
    page.get_by_test_id("gator-add").fill("github:owner/other:push, draft")
    page.get_by_test_id("gator-grant").click()
    expect(grants).to_have_text(
        "github:owner/other:read,create-draft,push-new-branch · github:owner/repo:read")
    rc, out, err = control_plane.devaipod("gator", "show", ui_pod.name)
    assert rc == 0 and "github:owner/other:read,create-draft,push-new-branch" in out, err
    page.get_by_test_id("gator-add").fill("jira:PROJ")
    page.get_by_test_id("gator-grant").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text("only GitHub scopes")
    shot(page, "-gator")


def test_pod_page_edits_the_title(control_plane, ui_pod, page, shot):
    """The title set on the pod's page is `devaipod title`'s, shown as text on both pages."""
    title = f"Fix <b>the</b> login & more {secrets.token_hex(2)}"
    pod_page(page, control_plane, ui_pod)
    page.get_by_test_id("title-edit").click()
    page.get_by_test_id("title-input").fill(f"  {title}  ")
    shot(page, "-editing")
    page.get_by_test_id("title-save").click()
    expect(page.get_by_test_id("title-form")).to_be_hidden()
    expect(page.get_by_test_id("pod-title")).to_have_text(title)  # markup shown, not made
    rc, out, err = control_plane.devaipod("title", ui_pod.name)
    assert rc == 0 and out.strip() == title, (out, err)
    page.get_by_test_id("title-edit").click()
    page.get_by_test_id("title-input").fill("reads \u202eotherwise")  # refused, as the CLI does
    page.get_by_test_id("title-save").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text("printable characters")
    shot(page, "-refused")
    page.get_by_test_id("title-cancel").click()
    expect(page.get_by_test_id("title-form")).to_be_hidden()
    expect(page.get_by_test_id("pod-title")).to_have_text(title)
    shot(page)

    page.goto(f"{control_plane.base}/")
    row = page.locator(f'[data-pod="{ui_pod.short}"]')
    expect(row.locator("td.task")).to_have_text(title)
    shot(page, "-pods")


# --- 4-8: the pod's page -------------------------------------------------------------


def test_terminal_tab_runs_a_command(control_plane, ui_pod, page, shot):
    pod_page(page, control_plane, ui_pod)
    page.get_by_test_id("tab-terminal").click()
    page.get_by_test_id("terminal-kind").select_option("workspace")
    box = page.get_by_test_id("terminal")
    expect(box).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id("terminal-status")).to_have_text("connected")
    rows = page.locator("#terminal .xterm-rows > div")

    def shown() -> list[str]:
        return [row.strip() for row in rows.all_text_contents()]

    wait_until(lambda: any(shown()), 30, "the shell's prompt")
    box.click()
    page.keyboard.type("echo hello-from-browser")
    page.keyboard.press("Enter")
    wait_until(lambda: "hello-from-browser" in shown(), 30,
               "the output line hello-from-browser in the terminal")
    shot(page)


def opencode_app(frame) -> bool:
    try:
        return frame.locator("#root > *").count() > 0
    except PlaywrightError:
        return False


def test_agent_tab_shows_opencode_through_the_sidecar(control_plane, ui_pod, page, shot):
    pod_page(page, control_plane, ui_pod, "agent")
    frame_el = page.get_by_test_id("agent-frame")
    expect(frame_el).to_have_attribute(
        "src", re.compile(r"^http://127\.0\.0\.1:\d+/_devaipod/login\?ticket="))
    src = urlsplit(frame_el.get_attribute("src"))
    assert src.port != control_plane.port, "the iframe must load the sidecar's port"
    seen: list[tuple[str, str]] = []

    def opencode_shown():
        # the frame is looked up each time: a navigation may give the iframe a new one
        try:
            frame = frame_el.element_handle().content_frame()
            url, title = (frame.url, frame.title()) if frame else ("(no frame)", "")
        except PlaywrightError as exc:  # navigating right now
            frame, url, title = None, "(navigating)", str(exc).splitlines()[0]
        if not seen or seen[-1] != (url, title):
            seen.append((url, title))
        ok = url.startswith(f"http://127.0.0.1:{src.port}/") and "/_devaipod/" not in url
        # OpenCode's page: its title, or (on a session page that retitles itself) its app
        return frame if ok and ("OpenCode" in title or opencode_app(frame)) else None

    sandbox = set(frame_el.get_attribute("sandbox").split())
    assert {"allow-scripts", "allow-same-origin"} <= sandbox
    assert not any("top-navigation" in flag for flag in sandbox)
    assert frame_el.get_attribute("allow") == "clipboard-write"
    frame = wait_until(opencode_shown, 60, "OpenCode's UI in the iframe", on_fail=seen)
    # the sidecar's service worker adds the session's key to OpenCode's requests
    assert frame.evaluate("navigator.serviceWorker.controller.scriptURL").startswith(
        f"http://127.0.0.1:{src.port}/_devaipod/sw.js?key=")
    # let the single-page app render something before the screenshot
    wait_until(lambda: frame.locator("#root > *, body > div > *").count() > 0, 60,
               "OpenCode's app to render")
    expect(page.get_by_test_id("agent-status")).to_have_text("")
    time.sleep(2)
    shot(page)


def test_review_tab_shows_the_commit_and_merge_lands_it(control_plane, ui_pod, page, shot,
                                                        podman_service):
    page.on("dialog", lambda dialog: dialog.accept())
    pod_page(page, control_plane, ui_pod, "review")
    commits = page.get_by_test_id("review-commit")

    def commit_shown() -> bool:
        if commits.count():
            return True
        page.get_by_test_id("review-refresh").click()
        return False

    wait_until(commit_shown, 120, "the agent's commit in the review", interval=2)
    assert [s.strip() for s in commits.locator(".subject").all_text_contents()] == [SUBJECT]
    diff = page.locator('[data-testid="review-file"][data-path="ui.txt"]')
    expect(diff).to_be_visible()
    expect(diff.locator("pre.diff .add")).to_have_text([f"+{TEXT}"])
    bidi = page.locator('[data-testid="review-file"][data-path="bidi.txt"] pre.diff .add')
    expect(bidi).to_have_text(['+if role != "user⟪U+202E⟫ ⟪U+2066⟫// admin⟪U+2069⟫⟪U+2066⟫":'
                               ' deny()'])
    expect(bidi.locator(".hidden-char")).to_have_count(4)
    merge = page.get_by_test_id("merge-button")
    expect(merge).to_be_enabled()
    shown = page.get_by_test_id("review-summary").text_content()
    shot(page, "-before-merge")
    with page.expect_request(lambda r: r.url.endswith("/review/merge")) as sent:
        merge.click()
    body = sent.value.post_data_json  # the range reviewed, for the server to check
    assert set(body) == {"head", "base"}
    assert f"{body['base'][:10]}..{body['head'][:10]}" in shown
    expect(page.get_by_test_id("review-result")).to_contain_text("Merged into the workspace")
    assert exec_in(podman_service, f"{ui_pod.name}-workspace", "cat", "ui.txt") == TEXT
    expect(page.get_by_test_id("review-empty")).to_be_visible()
    expect(commits).to_have_count(0)
    expect(merge).to_be_disabled()
    shot(page)


# a page of another origin that opens the control plane's terminal WebSocket
OTHER_ORIGIN_PAGE = """<!doctype html>
<meta charset="utf-8"><title>another origin</title>
<h1>another origin</h1>
<pre id="out">opening WS_URL …</pre>
<script>
const out = document.getElementById("out");
const ws = new WebSocket("WS_URL");
ws.onopen = () => { document.body.dataset.result = "opened"; out.textContent += "\\nOPENED"; };
ws.onclose = (ev) => {
  if (!document.body.dataset.result) document.body.dataset.result = "refused";
  out.textContent += "\\n" + document.body.dataset.result + "; closed, code " + ev.code;
};
</script>
"""


class _OtherOrigin(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the stdlib's signature
        pass


def test_sidecar_and_terminal_refuse_strangers(control_plane, ui_pod, logged_in, new_context,
                                               shot, tmp_path):
    agent = logged_in.request.get(f"{control_plane.base}/api/pods/{ui_pod.name}/agent",
                                  headers={"X-Devaipod-Key": logged_in.devaipod_key}).json()
    sidecar = urlsplit(agent["url"]).port
    assert sidecar and sidecar != control_plane.port
    stranger = new_context().new_page()  # no cookie for the sidecar, no ticket
    answer = stranger.goto(f"http://127.0.0.1:{sidecar}/session")
    assert answer.status == 401, answer.text()
    shot(stranger, "-sidecar")

    # a page of another origin (another port), in the logged-in browser: the
    # control plane's cookie goes along (same site), the Origin header is wrong
    (tmp_path / "index.html").write_text(OTHER_ORIGIN_PAGE.replace(
        "WS_URL", f"ws://127.0.0.1:{control_plane.port}/ws/terminal/{ui_pod.name}?kind=workspace"))
    port = free_port()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), partial(_OtherOrigin, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = logged_in.new_page()
        console: list[str] = []
        page.on("console", lambda msg: console.append(msg.text))
        page.goto(f"http://127.0.0.1:{port}/")
        expect(page.locator("body")).to_have_attribute("data-result", re.compile("."))
        assert page.locator("body").get_attribute("data-result") == "refused", console
        # Chromium logs the handshake's status: 403 (the Origin check), not 401,
        # since the session cookie did go along
        codes = re.findall(r"Unexpected response code: (\d+)", "\n".join(console))
        assert codes == ["403"], console
        shot(page)
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_logs_tab_shows_the_agent_log(control_plane, ui_pod, page, shot):
    pod_page(page, control_plane, ui_pod, "logs")
    expect(page.get_by_test_id("logs-container")).to_have_value("agent")
    expect(page.get_by_test_id("logs-pre")).to_contain_text("opencode server listening",
                                                            timeout=60_000)
    expect(page.get_by_test_id("logs-status")).to_have_text("following")
    shot(page)


# --- the manual (/docs) ------------------------------------------------------------


def test_docs_lists_the_man_pages_and_renders_one(control_plane, page, shot):
    page.goto(f"{control_plane.base}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Docs").click()
    expect(page).to_have_url(f"{control_plane.base}/docs")
    expect(page).to_have_title(re.compile(r"Manual · devaipod$"))
    links = page.get_by_test_id("doc-link")
    expect(links.filter(has_text=re.compile(r"^devaipod-web\.1$"))).to_have_count(1)
    assert links.count() >= 20
    shot(page, "-index")
    links.filter(has_text=re.compile(r"^devaipod-up\.1$")).click()
    expect(page).to_have_url(f"{control_plane.base}/docs/devaipod-up.1")
    doc = page.get_by_test_id("doc")
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION"):
        expect(doc.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(doc).to_contain_text("create a workspace pod with an idle agent")
    expect(doc).not_to_contain_text("% devaipod-up 1")
    doc.get_by_role("link", name="devaipod", exact=True).first.click()  # **devaipod**(1)
    expect(page).to_have_url(f"{control_plane.base}/docs/devaipod.1")
    shot(page)


def test_pod_page_help_opens_its_man_page(control_plane, ui_pod, page, shot):
    pod_page(page, control_plane, ui_pod, "logs")
    page.get_by_test_id("help-logs").click()
    expect(page).to_have_url(f"{control_plane.base}/docs/devaipod-logs.1")
    expect(page.get_by_test_id("doc").get_by_role("heading", name="NAME")).to_be_visible()
    shot(page)


# --- attention: the title's count, notifications --------------------------------------

# record every notification the page makes (and still make it)
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  function Recording(title, options) {
    window.__notes.push({ title, body: (options || {}).body || "" });
    try { return new Real(title, options); } catch { return {}; }
  }
  Object.defineProperty(Recording, "permission", { get: () => Real.permission });
  Recording.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recording;
})();
"""


def waiting_title(count: int, title: str = "Workspaces · devaipod") -> str:
    return f"({count}) {title}" if count else title


def test_notify_me_tells_when_the_agent_waits_and_the_title_counts(control_plane, ui_pod,
                                                                    page, shot):
    page.context.grant_permissions(["notifications"], origin=control_plane.base)
    page.add_init_script(RECORD_NOTIFICATIONS)
    page.goto(f"{control_plane.base}/")
    row = page.locator(f'[data-pod="{ui_pod.short}"]')
    expect(row.get_by_test_id("state-badge")).to_have_text("idle", timeout=180_000)
    badges = page.locator("#pods-body [data-testid=state-badge]")
    waiting = sum(b.get_attribute("data-state") in ("idle", "error") for b in badges.all())
    assert waiting >= 1
    expect(page).to_have_title(waiting_title(waiting))
    button = page.get_by_test_id("notify-button")
    expect(button).to_have_text("Notify me")
    button.click()
    expect(button).to_have_text("Notifications on")
    expect(button).to_have_attribute("aria-pressed", "true")
    shot(page, "-on")

    sent: list = []
    sender = threading.Thread(daemon=True, target=lambda: sent.append(
        control_plane.devaipod("opencode", ui_pod.name, "send", "SLOW 20", timeout=240)))
    sender.start()
    try:
        expect(row.get_by_test_id("state-badge")).to_have_text("working", timeout=60_000)
        expect(page).to_have_title(waiting_title(waiting - 1))  # this one works
        assert page.evaluate("window.__notes") == []  # nothing to tell yet
        shot(page, "-working")
        notes = wait_until(lambda: page.evaluate("window.__notes"), 180,
                           "a notification that the agent waits")
    finally:
        sender.join(240)
    assert sent and sent[0][0] == 0, sent
    [note] = notes
    assert note["title"] == f"{ui_pod.short}: the agent is waiting", note
    assert "\n" not in note["body"] and len(note["body"]) <= 120, note
    expect(page).to_have_title(waiting_title(waiting))
    expect(row.get_by_test_id("state-badge")).to_have_text("idle")
    shot(page)

    button.click()  # off again: no more notifications
    expect(button).to_have_text("Notify me")
    assert page.evaluate("localStorage.getItem('devaipod-notify')") is None


# --- the workspaces page's Prune -----------------------------------------------------


def test_prune_lists_the_done_workspaces_and_deletes_them(control_plane, ui_git, ui_pod,
                                                          podman_service, page, shot):
    """A workspace marked done (CLI) is listed by Prune's confirmation, and deleted once
    confirmed; the other workspace is neither listed nor touched."""
    name = f"{podman_service.instance}-prune-{secrets.token_hex(2)}"
    try:
        rc, _out, err = control_plane.devaipod("up", ui_git.git_url, "--name", name)
        assert rc == 0, err
        rc, _out, err = control_plane.devaipod("done", name)
        assert rc == 0, err
        page.goto(f"{control_plane.base}/")
        rows = page.get_by_test_id("pods-table")  # the dialog's items have a data-pod too
        expect(rows.locator(f'[data-pod="{name}"]')).to_be_visible()
        page.get_by_test_id("prune-button").click()
        dialog = page.get_by_test_id("prune-dialog")
        expect(dialog).to_be_visible()
        items = page.get_by_test_id("prune-item")
        expect(items).to_have_count(1)
        expect(items.first).to_have_attribute("data-pod", name)
        shot(page, "-confirm")
        page.get_by_test_id("prune-confirm").click()
        expect(dialog).to_be_hidden()
        expect(rows.locator(f'[data-pod="{name}"]')).to_have_count(0)
        assert podman_service.podman("pod", "exists", f"devaipod-{name}",
                                     check=False).returncode != 0
        assert podman_service.podman("pod", "exists", ui_pod.name, check=False).returncode == 0
        expect(rows.locator(f'[data-pod="{ui_pod.short}"]')).to_be_visible()
        shot(page)
    finally:
        delete_pod(control_plane, name)


# --- the Audit tab ---------------------------------------------------------------------


def test_audit_tab_shows_the_trail_with_the_agents_text_as_text(control_plane, ui_pod,
                                                               podman_service, page, shot):
    """A grant (a human's action) and the agent's gator call show in the Audit tab; the
    agent's HTML in a tool argument is shown as text, never made into an element."""
    from adversarial.conftest import Pod
    from adversarial.test_gator import mcp

    rc, _out, err = control_plane.devaipod("gator", "add", ui_pod.name,
                                           "github:owner/audited:read")
    assert rc == 0, err
    hostile = '<img src=x onerror="document.title=\'pwned\'">'
    pod = Pod(ui_pod.name, podman_service)
    answer = mcp(pod, "agent", [["github_api_tool", {"endpoint": f"repos/{hostile}/x/pulls"}]])
    assert answer["status"] == 200 and answer["results"][0]["error"], answer
    pod_page(page, control_plane, ui_pod, "audit")
    page.get_by_test_id("tab-audit").click()
    rows = page.get_by_test_id("audit-row")
    expect(rows.first).to_contain_text(hostile)  # newest first: the refused call
    expect(rows.first).to_have_attribute("data-kind", "gator")
    expect(rows.first).to_have_class(re.compile("refused"))
    expect(page.get_by_test_id("panel-audit")).to_contain_text("github:owner/audited:read")
    assert page.locator("#panel-audit img").count() == 0 and page.title() != "pwned"
    expect(page.get_by_test_id("audit-status")).to_contain_text("events")
    shot(page)
