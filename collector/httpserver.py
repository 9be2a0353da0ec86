"""A tiny read-only HTTP server in a thread, for the health check and the collector's own metrics.

The standard library's ThreadingHTTPServer is enough for a handful of GETs a minute and keeps these
endpoints answering even while the event loop is busy; it only reads state the loop publishes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("collector.http")

Response = tuple[int, str, bytes]  # status, content type, body
Handler = Callable[[str, dict[str, str]], Response]  # (path, headers) -> response


def parse_endpoint(endpoint: str, default_host: str = "localhost") -> tuple[str, int]:
    """`host:port`, `:port` (all interfaces, as in the Collector) or `[::1]:port`."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"invalid endpoint {endpoint!r}: expected host:port, e.g. localhost:13133")
    host = host.strip("[]")
    return (host if host else "0.0.0.0"), int(port)


class _RequestHandler(BaseHTTPRequestHandler):
    handle_request: Handler

    def do_GET(self) -> None:
        try:
            status, content_type, body = self.handle_request(self.path, dict(self.headers.items()))
        except Exception:
            log.exception("HTTP handler failed", extra={"path": self.path})
            status, content_type, body = 500, "text/plain", b"internal error\n"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: no line per request
        return


class ThreadedHTTPServer:
    def __init__(self, endpoint: str, handler: Handler, name: str) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self.name = name
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def start(self) -> None:
        host, port = parse_endpoint(self.endpoint)
        handler_class = type("Handler", (_RequestHandler,), {"handle_request": staticmethod(self.handler)})
        self._server = ThreadingHTTPServer((host, port), handler_class)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
