"""The daemon's HTTP server (standard library, one thread per request):

- ``GET /healthz``  liveness: 200 while the loop runs, 503 once it is stopping;
- ``GET /readyz``   readiness: 200 when the source was fetched and the store answers, else 503;
- ``GET /metrics``  Prometheus text from the daemon's own registry;
- ``GET /status``   JSON: the source and each environment with its conditions;
- ``POST /hooks/git`` a signed push notification: 202 and a (coalesced) reconcile; 401 for a
  bad or missing signature (nothing fetched), 413 for a body over the limit (not even read), 411
  without a Content-Length, 404 when no secret is configured (unsigned hooks are never accepted).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from reconciler.daemon.logging import fields
from reconciler.daemon.webhook import authentic


@dataclass
class Endpoints:
    """What the server asks the daemon; the server knows nothing else of it."""

    health: Callable[[], tuple[bool, dict[str, Any]]]
    readiness: Callable[[], tuple[bool, dict[str, Any]]]
    metrics: Callable[[], tuple[bytes, str]]
    status: Callable[[], dict[str, Any]]
    hook: Callable[[], bool]  # wake the loop; True when merged into a pending request
    count_hook: Callable[[int], None]
    webhook_secret: str | None
    body_limit: int
    log: logging.Logger


class Handler(BaseHTTPRequestHandler):
    endpoints: Endpoints  # set on the subclass made per server
    server_version = "reconciler-daemon"
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stops sending mid-body does not hold a thread for ever

    def do_GET(self) -> None:
        route = {"/healthz": self._health, "/readyz": self._ready, "/metrics": self._metrics,
                 "/status": self._status}.get(self.path.split("?", 1)[0])
        if route is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {self.path}"})
            return
        try:
            route()
        except Exception as exc:  # the store is unreachable, say: an answer, not a dropped connection
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"{type(exc).__name__}: {exc}"})

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/hooks/git":
            self.close_connection = True  # its body is left unread
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {self.path}"})
            return
        code, body = self._hook()
        self.endpoints.count_hook(code)
        self._json(code, body)

    def _health(self) -> None:
        ok, detail = self.endpoints.health()
        self._json(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, detail)

    def _ready(self) -> None:
        ok, detail = self.endpoints.readiness()
        self._json(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, detail)

    def _metrics(self) -> None:
        body, content_type = self.endpoints.metrics()
        self._send(HTTPStatus.OK, body, content_type)

    def _status(self) -> None:
        self._json(HTTPStatus.OK, self.endpoints.status())

    def _hook(self) -> tuple[HTTPStatus, dict[str, Any]]:
        secret = self.endpoints.webhook_secret
        if not secret:
            self.close_connection = True
            return HTTPStatus.NOT_FOUND, {"error": "webhooks are off: start the daemon with --webhook-secret-env"}
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            return HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"}
        if int(length) > self.endpoints.body_limit:
            self.close_connection = True  # the body is left unread: the connection cannot be reused
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"body over {self.endpoints.body_limit} bytes"}
        body = self.rfile.read(int(length))
        if not authentic(self.headers, body, secret):
            return HTTPStatus.UNAUTHORIZED, {"error": "bad or missing signature"}
        merged = self.endpoints.hook()
        return HTTPStatus.ACCEPTED, {"accepted": True, "merged": merged}

    def _json(self, code: HTTPStatus, body: dict[str, Any]) -> None:
        self._send(code, json.dumps(body, default=str).encode(), "application/json")

    def _send(self, code: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        self.endpoints.log.debug("http-request", extra=fields(client=self.client_address[0], line=format % args))


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    log: logging.Logger

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-request is routine: a log line, not a traceback on stderr."""
        error = sys.exc_info()[1]
        self.log.debug("http-client-error", extra=fields(client=client_address[0], error=repr(error)))


class Server:
    """The HTTP server in a thread of its own."""

    def __init__(self, host: str, port: int, endpoints: Endpoints):
        handler = type("BoundHandler", (Handler,), {"endpoints": endpoints})
        self.httpd = _Httpd((host, port), handler)
        self.httpd.log = endpoints.log
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
