"""A threaded WSGI server from the standard library, quiet, for bottle apps."""

from __future__ import annotations

import logging
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger("devaipod")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)


def serve(app, host: str, port: int) -> None:
    server = make_server(host, port, app, ThreadingWSGIServer, QuietHandler)
    log.info("listening on http://%s:%d", host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
