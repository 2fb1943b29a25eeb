"""agent.state: the sidecars' summaries, all at once, within a deadline, checked.

Each sidecar here is a real socket on 127.0.0.1 served by a thread: one answers, one
never does, one drips its answer, one answers too much or not JSON."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from devaipod.agent import state


class Sidecar:
    """A listening socket whose connections ``behave`` handles (in a thread each)."""

    def __init__(self, behave) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.behave, self.ended = behave, threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            try:
                conn.settimeout(30)
                self.behave(conn)
            except OSError:
                pass
            finally:
                self.ended.set()

    def info(self) -> dict:
        return {"State": "running",
                "Ports": [{"container_port": 8090, "host_port": self.port,
                           "host_ip": "127.0.0.1"}]}


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def answer(body: bytes, status: str = "200 OK"):
    def behave(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                     + body)
    return behave


def silent(conn: socket.socket) -> None:
    """Reads the request, never answers; returns when the client shuts the socket."""
    read_request(conn)
    while conn.recv(4096):
        pass


def dripping(conn: socket.socket) -> None:
    """An answer whose body comes one byte at a time, forever (until the client goes)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    while True:
        conn.sendall(b"{")
        time.sleep(0.05)


@pytest.fixture
def tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("DEVAIPOD_CONTAINER", raising=False)

    def add(*pods: str) -> None:
        for pod in pods:
            (tmp_path / "pods").mkdir(exist_ok=True)
            (tmp_path / "pods" / f"{pod}.token").write_text(f"token-of-{pod}")
    return add


IDLE = {"pod": "p", "state": "idle", "message": "all done", "last_activity": "2026-12-01T10:00Z",
        "sessions": 1}


def test_an_answer_keeps_only_the_checked_fields(tokens):
    tokens("devaipod-a")
    side = Sidecar(answer(json.dumps(IDLE).encode()))
    got = state.summaries(["devaipod-a"], {"devaipod-a": side.info()}, deadline=10)
    assert got == {"devaipod-a": {"state": "idle", "message": "all done",
                                  "last_activity": "2026-12-01T10:00Z", **state.NOW}}


def test_silent_and_dripping_sidecars_are_unknown_and_others_still_answer(tokens):
    """Attack: the agent (sharing the sidecar's pod) makes its sidecar slow, or drips an
    answer forever: its state is unknown, and the list is not held past the deadline
    (the sockets are shut: the silent sidecar sees its connection end)."""
    tokens("devaipod-ok", "devaipod-silent", "devaipod-drip")
    ok, quiet, drip = Sidecar(answer(json.dumps(IDLE).encode())), Sidecar(silent), \
        Sidecar(dripping)
    infos = {"devaipod-ok": ok.info(), "devaipod-silent": quiet.info(),
             "devaipod-drip": drip.info()}
    got = state.summaries(list(infos), infos, deadline=1.0)
    assert got["devaipod-ok"]["state"] == "idle"
    assert got["devaipod-silent"]["state"] == "unknown"
    assert got["devaipod-drip"]["state"] == "unknown"
    assert quiet.ended.wait(30)  # the client shut its socket at the deadline
    assert drip.ended.wait(30)


@pytest.mark.parametrize("body, message", [
    (b"x" * (state.MAX_BYTES + 10), "too long"),
    (b"[" * 50000 + b"]" * 50000, "too long"),
    (b"[" * 30000 + b"]" * 30000, "not JSON"),
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a summary"),
])
def test_a_broken_answer_is_unknown(tokens, body, message):
    tokens("devaipod-a")
    side = Sidecar(answer(body))
    got = state.summaries(["devaipod-a"], {"devaipod-a": side.info()}, deadline=10)
    assert got["devaipod-a"]["state"] == "unknown"
    assert message in got["devaipod-a"]["message"]


def test_fields_of_the_wrong_type_or_state_are_dropped():
    assert state.clean({"state": "pwned", "message": ["x"], "last_activity": 5, "tool": 3,
                        "status": {"x": 1}, "lines": "one\ntwo", "extra": "x"}) == \
        {"state": "unknown", "message": "", "last_activity": None, **state.NOW}
    assert state.clean({"state": "working", "message": "m" * 900,
                        "last_activity": "t" * 90, "tool": "t" * 90, "status": "s" * 900,
                        "lines": [*(f"line{i}" for i in range(9)), "x" * 900]}) == \
        {"state": "working", "message": "m" * 500, "last_activity": "t" * 40,
         "tool": "t" * 64, "status": "s" * 200,
         "lines": ["line5", "line6", "line7", "line8", "x" * 200], "stale": False}
    assert state.clean({"state": "idle", "lines": ["a", None, 5, ["b"], "", "c"]})["lines"] \
        == ["a", "c"]
    # a kept summary while the sidecar asks OpenCode again; only `true` is stale
    assert state.clean({"state": "idle", "stale": True, "as_of": "a" * 90}) == \
        {"state": "idle", "message": "", "last_activity": None, **state.NOW, "stale": True}
    assert state.clean({"state": "idle", "stale": "yes", "as_of": 5})["stale"] is False


@pytest.mark.parametrize("hostile, shown", [
    ("\x1b]52;c;Y3VybCBldmlsfHNo\x07done", "done"),  # OSC 52 writes the clipboard
    ("\x1b[2K\x1b[1Amerged\x1b[0m", "merged"),  # erase the line, move up, colours
    ("x\x9b2Ky\x1b]0;title\x1b\\z", "xyz"),  # an 8-bit CSI, a window title
    ("evil\u202etxt.sh", "evil\\u202etxt.sh"),  # a bidi override, shown escaped
    ("a\rb\nc\td\x00e\x07f", "a b c d\\x00e\\x07f"),  # one line; NUL, BEL escaped
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # text: the page escapes
])
def test_what_the_agent_is_doing_is_one_printable_line(hostile, shown):
    got = state.clean({"state": "working", "tool": hostile, "status": hostile,
                       "lines": [hostile, hostile]})
    assert got["status"] == shown[:200] and got["lines"] == [shown, shown]
    assert got["tool"] == shown[:64]
    for text in (got["tool"], got["status"], *got["lines"]):
        assert text.isprintable(), text


def test_an_http_error_or_no_listener_is_starting(tokens):
    tokens("devaipod-a", "devaipod-b")
    side = Sidecar(answer(b"{}", "502 Bad Gateway"))
    closed = socket.create_server(("127.0.0.1", 0))
    gone = {"State": "running", "Ports": [{"container_port": 8090, "host_ip": "127.0.0.1",
                                           "host_port": closed.getsockname()[1]}]}
    closed.close()
    got = state.summaries(["devaipod-a", "devaipod-b"],
                          {"devaipod-a": side.info(), "devaipod-b": gone}, deadline=10)
    assert got["devaipod-a"] == {"state": "starting", "last_activity": None,
                                 "message": "the sidecar answers HTTP 502", **state.NOW}
    assert got["devaipod-b"]["state"] == "starting"


def test_a_stopped_or_missing_sidecar_is_stopped(tokens):
    got = state.summaries(["devaipod-a", "devaipod-b"],
                          {"devaipod-a": {"State": "exited"}}, deadline=10)
    assert got == {"devaipod-a": state.STOPPED, "devaipod-b": state.STOPPED}
