"""Attacks on the control plane (`devaipod web`) and the pods' sidecars by a hostile agent.

The control plane runs here on 0.0.0.0, so that the agents reach it at
``host.containers.internal:PORT`` as they would reach a control plane on a
host's network. Two pods (A, B) of the same network: the agent of A is the
attacker. What the browser holds (cookies) is got the way a browser gets it
(the login URL, the Agent tab's ticket) and then handed to the agent, as a
dev server the agent runs and the user opens would collect it (cookies go
to every port of a host).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import socket
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from browser.conftest import chromium
from podfixtures import run_devaipod

from .conftest import ControlPlane, Pod

pytestmark = pytest.mark.podman

GATOR_SCOPE = "github:owner/repo:read"
GATEWAY = "host.containers.internal"


@pytest.fixture(scope="module")
def pods(hostile_config, gitserver, fakellm, podman_service):
    """Pods A and B (A with a gator), made with `devaipod up`; deleted at the end."""
    made: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEVAIPOD_CONFIG", str(hostile_config))
        try:
            for word, extra in (("a", ["--service-gator", GATOR_SCOPE]), ("b", [])):
                name = f"{podman_service.instance}-advweb-{word}"
                made.append(name)
                rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name,
                                             "--network", gitserver.network, *extra,
                                             timeout=300)
                assert rc == 0, f"up failed ({rc}): {err}"
            yield [Pod(f"devaipod-{n}", podman_service) for n in made]
        finally:
            for name in made:
                run_devaipod("delete", "--force", name)


@pytest.fixture(scope="module")
def browser():
    """Chromium (the browser tests' driver, shared)."""
    with chromium() as browser:
        yield browser


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None


def no_redirect_get(url: str, headers: dict | None = None):
    """GET without following a redirect: (status, headers, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=60) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def browser_login(cp: ControlPlane) -> tuple[str, str | None]:
    """Log in as a browser does: (the session cookie "name=value", the key the login
    handed out in its redirect's fragment, if any)."""
    status, headers, _ = no_redirect_get(f"{cp.base}/login?token={cp.token}")
    assert status == 303, status
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    key = re.search(r"[#&]key=([^&]+)", headers.get("Location", ""))
    return cookie, key.group(1) if key else None


def http_code(pod: Pod, *curl_args: str) -> str:
    """The HTTP status the agent gets for ``curl CURL_ARGS`` run in its container."""
    args = " ".join(shlex.quote(a) for a in curl_args)
    out = pod.agent(f"curl -s -o /tmp/body -w '%{{http_code}}' --max-time 10 {args}; "
                    "echo; cat /tmp/body", check=False).stdout
    code, _, body = out.partition("\n")
    return code.strip() + " " + body[:300]


def tmux_sessions(cp: ControlPlane) -> str:
    return subprocess.run(["tmux", "ls"], env=cp.env, capture_output=True, text=True).stdout


def pod_ip(svc, pod: str, network: str) -> str:
    infra = svc.podman("pod", "inspect", pod, "--format", "{{.InfraContainerID}}").stdout.strip()
    nets = json.loads(svc.podman("inspect", infra, "--format",
                                 "{{json .NetworkSettings.Networks}}").stdout)
    return nets[network]["IPAddress"]


# --- 1: the control plane's cookie, replayed from inside a pod --------------------------


def test_control_plane_cookie_replayed_from_the_agent_is_refused(control_plane, pods,
                                                                  podman_service):
    """Attack: the control plane's session cookie reaches every port of 127.0.0.1, so a dev
    server the agent runs collects it when the user opens it; the agent replays it from its
    container against host.containers.internal:PORT (list pods, mark a pod done, open a
    terminal WebSocket with a forged Origin)."""
    a, _b = pods
    cp = control_plane
    cookie, key = browser_login(cp)
    if key:  # the browser's cookie and key together do work (the test is not vacuous)
        req = urllib.request.Request(f"{cp.base}/api/pods",
                                     headers={"Cookie": cookie, "X-Devaipod-Key": key})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert a.name in resp.read().decode()
    base = f"http://{GATEWAY}:{cp.port}"
    origin = ["-H", f"Origin: {base}"]

    listed = http_code(a, "-H", f"Cookie: {cookie}", f"{base}/api/pods")
    assert listed.split()[0] in ("401", "403"), listed
    assert a.name not in listed

    done = http_code(a, "-X", "POST", "-H", f"Cookie: {cookie}", *origin,
                     f"{base}/api/pods/{a.name}/done")
    assert done.split()[0] in ("401", "403"), done
    status, text = cp.call("GET", f"/api/pods/{a.name}")
    assert status == 200 and json.loads(text).get("done") is not True, text

    socket_answer = http_code(
        a, "-H", f"Cookie: {cookie}", *origin, "-H", "Connection: Upgrade",
        "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
        "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "-H", "Sec-WebSocket-Protocol: devaipod",
        f"{base}/ws/terminal/{a.name}?kind=workspace")
    assert socket_answer.split()[0] in ("401", "403"), socket_answer
    assert a.name.removeprefix("devaipod-") not in tmux_sessions(cp)  # no terminal made


# --- 2: another pod's sidecar cookie ------------------------------------------------------


def test_another_pods_sidecar_cookie_is_refused(control_plane, pods, podman_service,
                                                gitserver):
    """Attack: the Agent tab's sidecar cookie of pod B (devaipod_pod_*) also goes to every
    port of the host; pod A's agent replays it against pod B's sidecar (pod B's address on
    the pods' network) to read and drive pod B's agent."""
    from devaipod.agent.client import AgentError, Client

    a, b = pods
    status, text = control_plane.call("GET", f"/api/pods/{b.name}/agent")
    assert status == 200, text
    ticket_url = json.loads(text)["url"]
    status, headers, _ = no_redirect_get(ticket_url)
    assert status in (200, 303), status
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert cookie.startswith("devaipod_pod_")
    def sessions() -> list | None:  # B's sessions, once its OpenCode answers
        try:
            return Client.for_pod(b.name).get("/session")
        except AgentError:
            return None

    before = len(wait_for(lambda: (found := sessions()) is not None and [found], 120,
                          "pod B's OpenCode")[0])

    target = f"http://{pod_ip(podman_service, b.name, gitserver.network)}:8090"
    read = http_code(a, "-H", f"Cookie: {cookie}", f"{target}/session")
    assert read.split()[0] == "401", read
    host = ["-H", f"Host: {urlsplit(target).netloc}", "-H", f"Origin: {target}"]
    made = http_code(a, "-X", "POST", "-H", f"Cookie: {cookie}", *host,
                     "-H", "Content-Type: application/json", "-d", "{}", f"{target}/session")
    assert made.split()[0] == "401", made
    assert len(sessions()) == before  # no session made
    # the ticket was used once: replaying it gets nothing either
    again = http_code(a, ticket_url.replace(urlsplit(ticket_url).netloc, urlsplit(target).netloc))
    assert again.split()[0] == "401", again


# --- 3: framing the control plane ---------------------------------------------------------


FRAMING_PAGE = """<!doctype html><meta charset="utf-8"><title>the agent's dev server</title>
<h1>a harmless dev server</h1>
<iframe id="f" src="TARGET" width="1000" height="600"
        onload="document.body.dataset.loaded = 'yes'"></iframe>
"""


class _Relay(socketserver.BaseRequestHandler):
    """127.0.0.1:PORT → the agent's server in the pod (as a forwarded port is)."""

    def handle(self) -> None:
        upstream = socket.create_connection(self.server.target, timeout=30)

        def pipe(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        other = threading.Thread(target=pipe, args=(upstream, self.request), daemon=True)
        other.start()
        pipe(self.request, upstream)
        other.join(timeout=30)
        upstream.close()


def test_a_page_the_agent_serves_cannot_frame_the_control_plane(control_plane, pods, browser,
                                                                  podman_service, gitserver):
    """Attack: the agent serves a page (reached on a port of 127.0.0.1, as a forwarded port
    is: same site as the control plane, so its cookie goes along) that frames the logged-in
    control plane's pod page, to have the user click Merge, Delete or Grant in it."""
    a, _b = pods
    cp = control_plane
    page_html = FRAMING_PAGE.replace("TARGET", f"{cp.base}/pods/{a.name}")
    a.agent(f"mkdir -p /tmp/site && printf '%s' {shlex.quote(page_html)} > /tmp/site/index.html"
            " && (setsid python3 -m http.server 7777 -d /tmp/site >/dev/null 2>&1 &)")
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    relay = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Relay)
    relay.daemon_threads = True
    relay.target = (pod_ip(podman_service, a.name, gitserver.network), 7777)
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    context = browser.new_context()
    try:
        login = context.new_page()
        login.goto(f"{cp.base}/login?token={cp.token}")
        login.wait_for_url(f"{cp.base}/")
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda msg: console.append(msg.text))
        deadline = time.monotonic() + 30
        while True:  # the agent's server may take a moment to start
            try:
                page.goto(f"http://127.0.0.1:{relay.server_address[1]}/")
                if page.locator("#f").count():
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, "the agent's page never came up"
            time.sleep(0.5)
        page.wait_for_selector("body[data-loaded=yes]", timeout=30_000)
        framed = [f for f in page.frames if f.url.startswith(cp.base)]
        shown = sum(f.locator("[data-testid=pod-name]").count() for f in framed)
        assert shown == 0, f"the control plane rendered inside the agent's page: {page.frames}"
        assert any("frame-ancestors" in m and "blocked" in m for m in console), console

        # the Agent tab's iframe (the sidecar, which shows what the agent writes) is sandboxed
        own = context.new_page()
        own.goto(f"{cp.base}/pods/{a.name}")
        frame = own.get_by_test_id("agent-frame")
        sandbox = (frame.get_attribute("sandbox") or "").split()
        assert "allow-scripts" in sandbox and not any("top-navigation" in s for s in sandbox)
        assert frame.get_attribute("allow") == "clipboard-write"
    finally:
        context.close()
        relay.shutdown()
        relay.server_close()


# --- 4: a log line that fakes server-sent events --------------------------------------------


def sse_events(raw: str) -> list[dict]:
    """The events an EventSource would see (lines end at CR, LF or CRLF)."""
    events, current = [], {"event": "message", "data": []}
    for line in re.split(r"\r\n|\r|\n", raw):
        if line == "":
            if current["data"]:
                events.append({"event": current["event"], "data": "\n".join(current["data"])})
            current = {"event": "message", "data": []}
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            current["data"].append(value)
        elif field == "event":
            current["event"] = value
    return events


def test_a_log_line_cannot_fake_server_sent_events(control_plane, pods, browser):
    """Attack: the agent prints to its container's log a line with a carriage return
    followed by ``data: ...`` and ``event: end``; the Logs stream would split it into
    lines of its own and the browser would see fake events."""
    a, _b = pods
    cp = control_plane
    marker = "advweb-sse-marker"
    line = f"{marker}\rdata: injected\r\revent: end\rdata: {{\"state\": \"forged\"}}\r"
    a.agent(f"printf '%s\\n' {shlex.quote(line)} > /proc/1/fd/1")
    status, raw = cp.call("GET", f"/api/pods/{a.name}/logs?container=agent&tail=50")
    assert status == 200, raw
    events = sse_events(raw)
    assert {e["event"] for e in events} == {"message"}, events
    decoded = [json.loads(e["data"]) for e in events]  # each line is one JSON string
    assert [d for d in decoded if marker in d] == [line]
    assert not any(e["data"] == "injected" for e in events)

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{cp.base}/login?token={cp.token}")
        page.wait_for_url(f"{cp.base}/")
        page.goto(f"{cp.base}/pods/{a.name}#logs")
        pre = page.get_by_test_id("logs-pre")
        deadline = time.monotonic() + 60
        while marker not in (pre.text_content() or ""):
            assert time.monotonic() < deadline, "the marker line never showed in the Logs tab"
            time.sleep(0.5)
        shown = [ln for ln in pre.text_content().split("\n") if marker in ln or "injected" in ln]
        assert shown == [line], shown
    finally:
        context.close()


# --- 5: GETs with side effects ----------------------------------------------------------------


def logs_followers(pod: str) -> int:
    """`podman logs --follow` processes on this machine for the pod's containers."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"logs" in argv and b"--follow" in argv and any(pod.encode() in a for a in argv):
            count += 1
    return count


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (last := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)
    return last


def test_many_log_follows_and_gator_reads_are_bounded(control_plane, pods, podman_service):
    """Attack: a page that holds the credentials (or a looping client) opens many
    ``logs?follow=1`` streams and ``GET .../gator`` reads of one pod: each follow was a
    ``podman logs -f`` that never ended, each read a new container."""
    a, _b = pods
    cp = control_plane
    wait_for(lambda: logs_followers(a.name) == 0, 60, "earlier log streams to end")
    conns, codes = [], []
    for _ in range(6):
        conn = http.client.HTTPConnection("127.0.0.1", cp.port, timeout=60)
        conn.request("GET", f"/api/pods/{a.name}/logs?container=agent&tail=1&follow=1",
                     headers={"Authorization": f"Bearer {cp.token}"})
        resp = conn.getresponse()
        codes.append(resp.status)
        if resp.status == 429:
            assert "at most" in resp.read().decode()
        conns.append((conn, resp))
    assert sorted(codes) == [200, 200, 429, 429, 429, 429], codes
    # the two streams run a `podman logs -f` each; the refused ones never started one
    wait_for(lambda: logs_followers(a.name) == 2, 60, "the two streams' `podman logs -f`")
    for conn, resp in conns:  # the clients go away: so do their `podman logs -f`
        resp.close()
        conn.close()
    wait_for(lambda: logs_followers(a.name) == 0, 90, "the `podman logs -f` processes to end")

    start = time.time() - 1
    results: list[tuple[int, str]] = []

    def read_gator() -> None:
        results.append(cp.call("GET", f"/api/pods/{a.name}/gator"))

    threads = [threading.Thread(target=read_gator) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert [s for s, _ in results] == [200] * 8, results
    assert len({t for _, t in results}) == 1 and GATOR_SCOPE in results[0][1]
    events = podman_service.podman(
        "events", "--stream=false", "--since", str(int(start)), "--filter", "event=create",
        "--format", "{{.Name}}", check=False)
    assert events.returncode == 0, f"podman events: {events.stderr}"
    helpers = [n for n in events.stdout.split() if n.startswith(f"{a.name}-gator-read")]
    assert len(helpers) == 1, helpers
