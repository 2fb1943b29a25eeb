"""The one-port server keeps an HTTP/1.1 connection for the next request when the answer
had its length and the request had no body; a stream, a POST, a client's close or an
HTTP/1.0 request end it. Each answer leaves in one write."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

from devaipod.http import oneport


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/stream":  # a generator: no length known
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return (f"data: {i}\n\n".encode() for i in range(3))
    if path == "/fresh":
        start_response("304 Not Modified", [("ETag", '"x"')])
        return []
    if path == "/boom":
        raise RuntimeError("the app failed")
    body = f"{environ['REQUEST_METHOD']} {path}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


@pytest.fixture
def server():
    srv = oneport.make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def connection(srv) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=10)


def ask(conn, method: str, path: str, **kwargs) -> tuple[int, bytes, socket.socket | None]:
    """(status, body, the socket it came on, None when the server closed it)."""
    conn.request(method, path, **kwargs)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body, conn.sock


def test_requests_follow_one_another_on_one_connection(server):
    conn = connection(server)
    status, body, first = ask(conn, "GET", "/a")
    assert (status, body) == (200, b"GET /a") and first is not None
    for path in ("/b", "/fresh", "/c"):
        status, body, sock = ask(conn, "GET", path)
        assert sock is first  # the same connection
    assert (status, body) == (200, b"GET /c")
    assert ask(conn, "GET", "/fresh")[:2] == (304, b"")


@pytest.mark.parametrize("method, path, kwargs", [
    ("GET", "/stream", {}),  # no length: the client reads to the end
    ("POST", "/p", {"body": b"x" * 10}),  # a body the app may leave unread
    ("GET", "/a", {"headers": {"Connection": "close"}}),
])
def test_these_answers_close_the_connection(server, method, path, kwargs):
    conn = connection(server)
    status, _body, sock = ask(conn, method, path, **kwargs)
    assert status == 200 and sock is None  # http.client saw "Connection: close"
    assert ask(conn, "GET", "/after")[:2] == (200, b"GET /after")  # a new connection


def test_after_a_failed_app_the_connection_serves_on(server, capsys):
    conn = connection(server)
    status, _body, first = ask(conn, "GET", "/boom")
    assert status == 500 and "the app failed" in capsys.readouterr().err
    assert ask(conn, "GET", "/a") == (200, b"GET /a", first)


def test_a_stream_comes_whole(server):
    assert ask(connection(server), "GET", "/stream")[1] == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


def test_http_1_0_gets_one_answer_and_the_end(server):
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert body == b"GET /a" and b"Content-Length: 6" in head


def test_an_answer_is_one_write(server, monkeypatch):
    writes = []

    def spy(real):
        def write(self, data, *args):
            if self.getsockname()[1] == server.server_port:  # the server's side
                writes.append(bytes(data))
            return real(self, data, *args)
        return write

    for name in ("send", "sendall"):
        monkeypatch.setattr(socket.socket, name, spy(getattr(socket.socket, name)))
    assert ask(connection(server), "GET", "/a")[:2] == (200, b"GET /a")
    [answer] = writes
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nGET /a")
