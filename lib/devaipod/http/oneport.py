"""HTTP (a WSGI app) and WebSockets on one port.

Each connection's request head is peeked at without being consumed: a
WebSocket upgrade goes to the ``websockets`` library's sync connection (which
does the handshake itself), anything else to wsgiref's handler and the WSGI
app, whose responses may stream (server-sent events). One thread per
connection; an HTTP/1.1 connection carries one request after another (a
browser polling the API does not connect again each time) while each answer
has a known length and comes whole.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import time
from collections.abc import Callable, Sequence
from typing import IO, cast
from wsgiref.headers import Headers as WsgiHeaders
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.sync.server import Server, ServerConnection
from websockets.typing import Subprotocol

log = logging.getLogger("devaipod")

HEAD_LIMIT = 16384
IDLE = 15.0  # seconds a kept-alive connection may wait for its next request
BODILESS = ("1", "204", "304")  # statuses without a body

# (connection) -> None, chosen per request path; None means 404
WsHandler = Callable[[ServerConnection], None]
WsRouter = Callable[[Request], "WsHandler | Response"]


def peek_head(sock: socket.socket, timeout: float = 10) -> bytes:
    """The request line and headers, left unread on the socket."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
            more = sock.recv(HEAD_LIMIT, socket.MSG_PEEK)
            if not more or time.monotonic() > deadline:
                break
            if len(more) == len(data):
                time.sleep(0.01)  # the rest of the head is still on its way
            data = more
    except OSError:
        pass
    finally:
        sock.settimeout(None)
    return data


def is_websocket(head: bytes) -> bool:
    lines = head.split(b"\r\n")[1:]
    return any(ln.lower().startswith(b"upgrade:") and b"websocket" in ln.lower()
               for ln in lines)


class OneAnswer(ServerHandler):
    """wsgiref's handler of one request, in HTTP/1.1: the connection stays open after the
    answer when the request asked for no close, had no body (a GET or HEAD; a body the
    app left unread would be read as the next request) and the answer had its length
    (a stream's has none: "Connection: close", the client reads to the end)."""

    http_version = "1.1"
    request_handler: QuietHandler
    # wsgiref's own state (its stubs leave it out)
    environ: dict[str, str]
    headers: WsgiHeaders
    status: str | None
    headers_sent: bool
    bytes_sent: int

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        env = self.environ
        if (self.request_handler.close_connection
                or env["REQUEST_METHOD"] not in ("GET", "HEAD")
                or env.get("CONTENT_LENGTH", "0") not in ("", "0")
                or "HTTP_TRANSFER_ENCODING" in env
                or not (self._bodiless() or "Content-Length" in self.headers)):
            self.headers["Connection"] = "close"

    def _bodiless(self) -> bool:
        return (self.status or "").startswith(BODILESS)

    def close(self) -> None:
        """Keep the connection only after a whole answer of the announced length."""
        whole = self.headers_sent and self.headers.get("Connection") != "close" and (
            self._bodiless() or self.headers.get("Content-Length") == str(self.bytes_sent))
        if not whole:
            self.request_handler.close_connection = True
        super().close()


class QuietHandler(WSGIRequestHandler):
    server: OnePortServer
    protocol_version = "HTTP/1.1"  # parse_request: an HTTP/1.1 request may keep its connection
    # an answer leaves in one write: wsgiref writes the status line, Date, Server, the
    # headers and the body each on its own (a system call each, the GIL dropped and taken
    # again each time); its flush after each body chunk still sends a stream's events
    wbufsize = 1 << 17

    def handle(self) -> None:
        """wsgiref's handle() of one request, again while the connection stays open (at
        most IDLE seconds between two requests)."""
        self.one_request(None)
        while not self.close_connection:
            self.one_request(IDLE)

    def one_request(self, idle: float | None) -> None:
        self.close_connection = True
        try:
            self.connection.settimeout(idle)
            self.raw_requestline = self.rfile.readline(65537)
            self.connection.settimeout(None)
        except OSError:  # idle too long, or the client went away
            return
        if not self.raw_requestline:
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error answer is sent
            return
        handler = OneAnswer(self.rfile, cast(IO[bytes], self.wfile), self.get_stderr(),
                            self.get_environ(), multithread=False)
        handler.request_handler = self
        app = self.server.application
        assert app is not None  # set_app() in OnePortServer's __init__
        handler.run(app)
        self.wfile.flush()

    def handle_expect_100(self) -> bool:
        sent = super().handle_expect_100()
        self.wfile.flush()  # "100 Continue" now, not with the answer
        return sent

    def log_message(self, format, *args):  # the stdlib's signature
        log.debug("%s %s", self.address_string(), format % args)


class Dispatch(socketserver.BaseRequestHandler):
    server: OnePortServer

    def handle(self) -> None:
        head = peek_head(self.request)
        if not head:
            return
        if is_websocket(head):
            self.server.serve_websocket(self.request)
        else:
            QuietHandler(self.request, self.client_address, self.server)


class OnePortServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops connections under a burst of clients

    def __init__(self, address: tuple[str, int], app, ws_router: WsRouter) -> None:
        super().__init__(address, Dispatch)
        self.set_app(app)
        self.ws_router = ws_router
        # websockets wants a Server for its connections' bookkeeping only
        self.ws_server = Server(self.socket, lambda *_: None, log)

    def serve_websocket(self, sock: socket.socket) -> None:
        chosen: dict[str, WsHandler] = {}

        def process_request(_conn, request: Request) -> Response | None:
            target = self.ws_router(request)
            if isinstance(target, Response):
                return target
            chosen["handler"] = target
            return None

        conn = ServerConnection(sock, ServerProtocol(select_subprotocol=select_subprotocol),
                                self.ws_server)
        try:
            conn.handshake(process_request, timeout=10)
        except Exception as exc:  # a failed handshake: the client gets an HTTP error
            log.debug("websocket handshake failed: %s", exc)
            conn.close_socket()
            return
        if "handler" not in chosen:
            conn.close_socket()
            return
        with conn:
            chosen["handler"](conn)


def select_subprotocol(_protocol: ServerProtocol, offered: Sequence[Subprotocol]
                       ) -> Subprotocol | None:
    """``devaipod`` when the client offers it (the others may carry its credentials)."""
    return Subprotocol("devaipod") if "devaipod" in offered else None


def no_websockets(_request: Request) -> Response:
    return Response(404, "Not Found", Headers([("Content-Type", "text/plain")]),
                    b"no WebSockets here\n")


def make_server(host: str, port: int, app, ws_router: WsRouter = no_websockets) -> OnePortServer:
    return OnePortServer((host, port), app, ws_router)


def serve(app, host: str, port: int, ws_router: WsRouter = no_websockets) -> None:
    server = make_server(host, port, app, ws_router)
    log.info("listening on http://%s:%d", host, server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
