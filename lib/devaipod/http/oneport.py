"""HTTP (a WSGI app) and WebSockets on one port.

Each connection's request head is peeked at without being consumed: a
WebSocket upgrade goes to the ``websockets`` library's sync connection (which
does the handshake itself), anything else to wsgiref's handler and the WSGI
app, whose responses may stream (server-sent events). One thread per
connection.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import time
from collections.abc import Callable, Sequence
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.sync.server import Server, ServerConnection
from websockets.typing import Subprotocol

log = logging.getLogger("devaipod")

HEAD_LIMIT = 16384

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


class QuietHandler(WSGIRequestHandler):
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
