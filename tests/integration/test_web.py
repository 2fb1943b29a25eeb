"""The control plane against real pods: creation jobs, review and merge, terminals, logs."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest
from websockets.sync.client import connect

from podfixtures import exec_in, run_devaipod, trusted_config, web_server

pytestmark = pytest.mark.podman


class ControlPlane:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body else None)
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return json.loads(raw) if resp.headers.get_content_type() == "application/json" \
                else raw.decode()

    def login(self) -> tuple[str, str]:
        """A browser's login: (the session cookie "name=value", the key handed out in the
        login's redirect)."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *_args, **_kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirected:
            opener.open(f"{self.base}/login?token={self.token}", timeout=30)
        headers = redirected.value.headers
        assert redirected.value.code == 303
        return headers["Set-Cookie"].split(";", 1)[0], headers["Location"].split("#key=")[1]


@pytest.fixture(scope="module")
def control_plane(podman_service, tmp_path_factory, quickstart_env):
    with web_server(tmp_path_factory.mktemp("web-state"), quickstart_env) as web:
        yield ControlPlane(web.base, web.token)


@pytest.fixture(scope="module")
def quickstart_env(podman_service, tmp_path_factory):
    """DEVAIPOD_CONFIG for the Quick Start's trusted LLM key."""
    inst = podman_service.instance
    with trusted_config(podman_service, tmp_path_factory.mktemp("web-config"),
                        {"ANTHROPIC_API_KEY": (f"{inst}-webllm", "sk-web-key")}) as path:
        yield {"DEVAIPOD_CONFIG": str(path)}


def wait_job(cp: ControlPlane, job: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = cp.call("GET", f"/api/jobs/{job}")
        if state["state"] != "running":
            return state
        time.sleep(0.5)
    pytest.fail(f"job {job} did not end")


def wait_agent(cp: ControlPlane, name: str, wanted: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        rows = {r["name"]: r for r in cp.call("GET", "/api/pods")}
        state = rows.get(name, {}).get("agent")
        if state == wanted:
            return
        time.sleep(0.5)
    pytest.fail(f"{name}: agent {state}, never {wanted}")


@pytest.fixture(scope="module")
def web_pod(control_plane, gitserver, fakellm, podman_service):
    task = ("WRITE_FILE web.txt made through the web && "
            "RUN_BASH git add web.txt; git commit -qm 'web: add web.txt'")
    name = f"{podman_service.instance}-web"
    job = control_plane.call("POST", "/api/pods", {
        "source": gitserver.git_url, "mode": "run", "task": task, "name": name,
        "network": gitserver.network})["job"]
    result = wait_job(control_plane, job)
    assert result["state"] == "succeeded", result
    assert any("cloning" in line for line in result["lines"])
    yield result["pod"]
    run_devaipod("delete", "--force", name)


def test_api_refuses_without_auth(control_plane):
    with pytest.raises(urllib.error.HTTPError) as refused:
        control_plane.call("GET", "/api/pods", auth=False)
    assert refused.value.code == 401


def test_created_pod_is_listed(control_plane, web_pod):
    names = [r["name"] for r in control_plane.call("GET", "/api/pods")]
    assert web_pod in names


def test_review_shows_the_agent_commit_and_merge_lands_it(control_plane, web_pod,
                                                          podman_service):
    deadline = time.monotonic() + 120  # the agent commits a few seconds after the job ends
    review = control_plane.call("GET", f"/api/pods/{web_pod}/review")
    while not review["commits"] and time.monotonic() < deadline:
        time.sleep(1)
        review = control_plane.call("GET", f"/api/pods/{web_pod}/review")
    assert [c["subject"] for c in review["commits"]] == ["web: add web.txt"]
    files = {f["path"]: f for f in review["files"]}
    assert "+made through the web" in files["web.txt"]["diff"]
    merged = control_plane.call("POST", f"/api/pods/{web_pod}/review/merge",
                                {"head": review["head"], "base": review["base"]})
    assert merged["ok"] and merged["head"] == review["head"]
    shown = exec_in(podman_service, f"{web_pod}-workspace", "cat", "web.txt")
    assert shown == "made through the web"
    assert control_plane.call("GET", f"/api/pods/{web_pod}/review")["commits"] == []


def test_terminal_runs_a_command(control_plane, web_pod):
    host = control_plane.base.removeprefix("http://")
    url = f"ws://{host}/ws/terminal/{web_pod}?kind=workspace"
    cookie, key = control_plane.login()
    with connect(url, additional_headers={"Cookie": cookie, "Origin": control_plane.base},
                 subprotocols=["devaipod", f"key.{key}"]) as ws:
        assert ws.subprotocol == "devaipod"
        ws.send(json.dumps(["set_size", 24, 100]))
        ws.send(json.dumps(["stdin", "echo hello-from-$((6*7))\r"]))
        seen = ""
        deadline = time.monotonic() + 30
        while "hello-from-42" not in seen and time.monotonic() < deadline:
            kind, *data = json.loads(ws.recv(timeout=30))
            if kind == "stdout":
                seen += data[0]
        assert "hello-from-42" in seen


def test_a_reopened_terminal_shows_the_same_screen(control_plane, web_pod):
    """Closing the browser's tab keeps the session: a new socket shows its screen again
    (tmux redraws it), without a keystroke."""
    host = control_plane.base.removeprefix("http://")
    url = f"ws://{host}/ws/terminal/{web_pod}?kind=workspace"

    def shows(ws, wanted: str) -> bool:
        seen, deadline = "", time.monotonic() + 30
        while wanted not in seen and time.monotonic() < deadline:
            kind, *data = json.loads(ws.recv(timeout=30))
            if kind == "stdout":
                seen += data[0]
        return wanted in seen

    cookie, key = control_plane.login()
    opened = {"additional_headers": {"Cookie": cookie, "Origin": control_plane.base},
              "subprotocols": ["devaipod", f"key.{key}"]}
    with connect(url, **opened) as ws:
        ws.send(json.dumps(["set_size", 24, 100]))
        ws.send(json.dumps(["stdin", "clear; echo kept-$((6*7))\r"]))
        assert shows(ws, "kept-42")
    with connect(url, **opened) as ws:
        ws.send(json.dumps(["set_size", 24, 100]))
        assert shows(ws, "kept-42")


@pytest.mark.parametrize(("headers", "with_key", "status"), [
    ({"Origin": "http://evil.example"}, True, "403"),     # logged in, from another origin
    ({"Origin": "ORIGIN", "Cookie": ""}, True, "401"),    # same origin, no cookie
    ({"Origin": "ORIGIN"}, False, "401"),                 # the cookie without its key
])
def test_terminal_refuses_foreign_or_anonymous_sockets(control_plane, web_pod, headers,
                                                       with_key, status):
    host = control_plane.base.removeprefix("http://")
    cookie, key = control_plane.login()
    sent = {"Cookie": cookie, **headers}
    sent = {k: (control_plane.base if v == "ORIGIN" else v) for k, v in sent.items() if v}
    with pytest.raises(Exception) as refused:
        connect(f"ws://{host}/ws/terminal/{web_pod}?kind=workspace", additional_headers=sent,
                subprotocols=["devaipod", *([f"key.{key}"] if with_key else [])],
                open_timeout=10)
    assert status in str(refused.value)


def test_logs_stream(control_plane, web_pod):
    text = control_plane.call("GET", f"/api/pods/{web_pod}/logs?container=agent&tail=100")
    assert "opencode server listening" in text


def test_lifecycle_actions(control_plane, web_pod):
    assert control_plane.call("POST", f"/api/pods/{web_pod}/done")["ok"]
    wait_agent(control_plane, web_pod, "done", timeout=10)
    assert control_plane.call("POST", f"/api/pods/{web_pod}/undone")["ok"]
    wait_agent(control_plane, web_pod, "idle", timeout=120)


def test_agent_tab_reaches_opencode_ui_through_the_sidecar(control_plane, web_pod):
    import http.cookiejar

    url = control_plane.call("GET", f"/api/pods/{web_pod}/agent")["url"]
    assert "ticket=" in url and "4096" not in url
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(url, timeout=30) as page:  # the sidecar's own page, with the key
        html = page.read().decode()
    key = re.search(r'name="devaipod-key" content="([^"]+)"', html).group(1)
    landing = re.search(r'name="devaipod-next" content="([^"]+)"', html).group(1)
    assert "/session/ses_" in landing  # the task's session, not OpenCode's empty home
    assert [c.name for c in jar] == [f"devaipod_pod_{web_pod.replace('-', '_')}"]
    base = url.split("/_devaipod/")[0]

    def get(path: str, with_key: bool = True):
        req = urllib.request.Request(base + path,
                                     headers={"X-Devaipod-Key": key} if with_key else {})
        return browser.open(req, timeout=30)

    with get(landing) as page:  # what the service worker fetches for the browser
        assert "<title>OpenCode</title>" in page.read().decode()
    with get("/session") as resp:  # cookie and key drive the agent
        assert isinstance(json.loads(resp.read()), list)
    with pytest.raises(urllib.error.HTTPError) as alone:  # the cookie alone does not
        get("/session", with_key=False)
    assert alone.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as reused:  # a ticket works once
        urllib.request.urlopen(url, timeout=30)
    assert reused.value.code == 401
