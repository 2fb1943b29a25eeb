"""End to end: the real `opencode serve` on the host, talking to the fake LLM.

The binary comes from $OPENCODE_BIN, else it is copied out of the devenv image
(localhost/devaipod-devenv:latest, /usr/local/bin/opencode) with the machine's
default podman. Everything runs on 127.0.0.1 with HOME in a temp dir; the
settings follow /work/shared/reference/opencode.md (§6: models fetch off,
~/.config/opencode pre-seeded so no `npm install` runs in the background).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import queue
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DEVENV_IMAGE = "localhost/devaipod-devenv:latest"
IMAGE_BIN = "/usr/local/bin/opencode"
PASSWORD = "e2e-" + secrets.token_hex(8)
FAKE_KEY = "fake-key-" + secrets.token_hex(8)
START_TIMEOUT = 30  # s until "listening on"
TURN_TIMEOUT = 60  # s until session.idle


def _default_podman_env() -> dict[str, str]:
    """The environment without anything that points podman elsewhere."""
    skip = ("CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINERS_CONF",
            "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF")
    return {k: v for k, v in os.environ.items() if k not in skip}


def _podman(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=300,
                          env=_default_podman_env())


def _copy_from_image(dest: Path) -> Path:
    if shutil.which("podman") is None:
        pytest.fail("no opencode binary: OPENCODE_BIN is not set and podman is not installed")
    if _podman("image", "exists", DEVENV_IMAGE).returncode != 0:
        pytest.fail(f"no opencode binary: OPENCODE_BIN is not set and the image {DEVENV_IMAGE}"
                    " does not exist (build it with `make images`, or set OPENCODE_BIN to an"
                    " opencode executable, e.g. from the npm package opencode-linux-x64)")
    name = f"fakellm-e2e-{secrets.token_hex(4)}"
    created = _podman("create", "--name", name, DEVENV_IMAGE, "true")
    if created.returncode != 0:
        pytest.fail(f"podman create {DEVENV_IMAGE} failed: {created.stderr}")
    try:
        copied = _podman("cp", f"{name}:{IMAGE_BIN}", str(dest))
        if copied.returncode != 0:
            pytest.fail(f"podman cp {IMAGE_BIN} out of {DEVENV_IMAGE} failed: {copied.stderr}")
    finally:
        _podman("rm", "--force", name)
    return dest


@pytest.fixture(scope="module")
def opencode_bin(tmp_path_factory) -> Path:
    if env := os.environ.get("OPENCODE_BIN"):
        path = Path(env)
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.fail(f"OPENCODE_BIN={env} is not an executable file")
        return path
    return _copy_from_image(tmp_path_factory.mktemp("opencode-bin") / "opencode")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _opencode_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),  # rg and bash come from here
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_SHARE": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "OPENCODE_SERVER_PASSWORD": PASSWORD,
        "FAKE_KEY": FAKE_KEY,
    }


def _seed_config_dir(config_dir: Path, version: str) -> None:
    """So that OpenCode skips its background `npm install @opencode-ai/plugin`."""
    (config_dir / "node_modules").mkdir(parents=True)
    deps = {"@opencode-ai/plugin": version}
    (config_dir / "package.json").write_text(json.dumps({"dependencies": deps}))
    (config_dir / "package-lock.json").write_text(
        json.dumps({"lockfileVersion": 3, "packages": {"": {"dependencies": deps}}}))


def _config(fake_url: str) -> str:
    return json.dumps({
        "$schema": "https://opencode.ai/config.json",
        "provider": {"fake": {
            "npm": "@ai-sdk/openai-compatible",
            "name": "Fake LLM",
            "options": {"baseURL": f"{fake_url}/v1", "apiKey": "{env:FAKE_KEY}"},
            "models": {"fake-model": {"name": "Fake Model", "tool_call": True}},
        }},
        "model": "fake/fake-model",
        "small_model": "fake/fake-model",
        "enabled_providers": ["fake"],
        "autoupdate": False,
        "share": "disabled",
        "permission": "allow",
    })


@dataclass
class OpenCode:
    """A running `opencode serve` and an HTTP client for it."""

    proc: subprocess.Popen
    port: int
    workdir: Path
    output: list[str] = field(default_factory=list)  # its stdout+stderr lines so far

    def auth(self, password: str = PASSWORD) -> dict[str, str]:
        token = base64.b64encode(f"opencode:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def call(self, method: str, path: str, body=None, headers=None):
        """(status, decoded JSON or None) of one API request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body)
            conn.request(method, path, data, {"Content-Type": "application/json",
                                              **(self.auth() if headers is None else headers)})
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw.strip() else None
        finally:
            conn.close()

    def events(self) -> Iterator[dict]:
        """The SSE stream of GET /event, as decoded `data:` payloads."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TURN_TIMEOUT)
        try:
            conn.request("GET", "/event", headers={"Accept": "text/event-stream", **self.auth()})
            resp = conn.getresponse()
            assert resp.status == 200, resp.read()
            while line := resp.readline():
                if line.startswith(b"data:"):
                    yield json.loads(line[5:])
        finally:
            conn.close()


def _pump(stream, lines: list[str], ready: queue.Queue) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        if "listening on" in line:
            ready.put(line)


@pytest.fixture(scope="module")
def opencode(opencode_bin, fake_llm_shared, tmp_path_factory) -> Iterator[OpenCode]:
    root = tmp_path_factory.mktemp("opencode")
    home, work = root / "home", root / "work"
    work.mkdir()
    env = _opencode_env(home)
    version = subprocess.run([str(opencode_bin), "--version"], env=env, capture_output=True,
                             text=True, timeout=60, check=True).stdout.strip()
    _seed_config_dir(home / ".config/opencode", version)
    env["OPENCODE_CONFIG_CONTENT"] = _config(fake_llm_shared.url)
    port = _free_port()
    proc = subprocess.Popen(
        [str(opencode_bin), "serve", "--port", str(port), "--hostname", "127.0.0.1"],
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    server = OpenCode(proc, port, work)
    ready: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, server.output, ready), daemon=True).start()
    try:
        try:
            ready.get(timeout=START_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"opencode serve did not print 'listening on' in {START_TIMEOUT} s;"
                        f" exit status {proc.poll()}; output:\n" + "\n".join(server.output))
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _run_turn(opencode: OpenCode, session_id: str, text: str, on_event=None) -> list[str]:
    """prompt_async TEXT and follow /event until the session is idle; returns event types.

    on_event(event) is called for every event of the session after the prompt.
    """
    seen: list[str] = []
    deadline = time.monotonic() + TURN_TIMEOUT
    for event in opencode.events():
        kind, props = event.get("type"), event.get("properties") or {}
        seen.append(kind)
        if kind == "server.connected":
            body = {"parts": [{"type": "text", "text": text}]}
            status, _ = opencode.call("POST", f"/session/{session_id}/prompt_async", body)
            assert status == 204
        elif props.get("sessionID") == session_id and on_event:
            on_event(event)
        if kind == "session.idle" and props.get("sessionID") == session_id:
            return seen
        if time.monotonic() > deadline:
            break
    pytest.fail(f"no session.idle within {TURN_TIMEOUT} s; events: {seen}")


def _new_session(opencode: OpenCode) -> str:
    status, session = opencode.call("POST", "/session", {})
    assert status == 200, session
    return session["id"]


def test_write_then_bash(opencode, fake_llm_shared):
    sid = _new_session(opencode)
    seen = _run_turn(opencode, sid, "WRITE_FILE hello.txt hi there && RUN_BASH cat hello.txt")

    assert "message.part.updated" in seen
    assert (opencode.workdir / "hello.txt").read_text() == "hi there"
    status, messages = opencode.call("GET", f"/session/{sid}/message")
    assert status == 200
    parts = [part for message in messages for part in message["parts"]]
    tools = {part["tool"]: part["state"] for part in parts if part["type"] == "tool"}
    assert tools["write"]["status"] == "completed"
    assert tools["write"]["input"]["filePath"] == str(opencode.workdir / "hello.txt")
    assert tools["bash"]["status"] == "completed"
    assert "hi there" in tools["bash"]["output"]
    texts = [part["text"] for part in parts if part["type"] == "text"]
    assert any(t.startswith("FAKE_DONE:") and "hi there" in t for t in texts), texts

    chats = fake_llm_shared.chats()
    assert {c["headers"].get("Authorization") for c in chats} == {f"Bearer {FAKE_KEY}"}
    assert any(c["body"]["messages"][-1]["role"] == "tool" for c in chats)


def test_abort_stops_the_slow_stream(opencode, fake_llm_shared):
    sid = _new_session(opencode)
    fake_llm_shared.json("POST", "/_reset")
    errors = []

    def abort_on_first_delta(event):
        if event["type"] == "message.part.delta" and not errors:
            errors.append("aborting")
            assert opencode.call("POST", f"/session/{sid}/abort") == (200, True)
        elif event["type"] == "session.error":
            errors.append(event["properties"]["error"]["name"])

    start = time.monotonic()
    _run_turn(opencode, sid, "SLOW 30", abort_on_first_delta)
    assert time.monotonic() - start < 10
    assert errors == ["aborting", "MessageAbortedError"]
    deadline = time.monotonic() + 3
    while True:  # the fake notices the closed connection within a tick or two
        slow = [c for c in fake_llm_shared.chats() if c["body"]["messages"][-1]["content"]
                == "SLOW 30" and len(c["body"]["messages"]) == 2]
        if slow and slow[0].get("stream_end"):
            break
        assert time.monotonic() < deadline, slow
        time.sleep(0.05)
    assert slow[0]["stream_end"] == "disconnected"


def test_wrong_password_is_refused(opencode):
    assert opencode.call("GET", "/session", headers=opencode.auth("wrong"))[0] == 401
    assert opencode.call("GET", "/session", headers={})[0] == 401
    assert opencode.call("GET", "/session")[0] == 200
