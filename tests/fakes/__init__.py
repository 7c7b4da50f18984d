"""Fake Telegram Bot API and Twilio REST API servers for the test suite.

Each fake is a real HTTP server on ``127.0.0.1`` (port chosen by the OS): a small Flask app served
by :func:`werkzeug.serving.make_server` in a daemon thread. Point the real clients at
``fake.base_url`` and they speak real HTTP to it, raising their real exceptions on the error
answers, which copy the real APIs' shapes.

    with FakeTelegram(token) as tg, FakeTwilio(sid, auth, {"whatsapp:+14155238886"}) as tw:
        ...
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

import httpx
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

__all__ = ["FakeServer", "FakeTelegram", "FakeTwilio", "HttpServer", "http"]

# The one HTTP client of the harness and the fakes (thread-safe). ``httpx.post`` builds a client
# per request, loading the CA store each time: that was a quarter of the suite's CPU. Like
# ``httpx.post`` it keeps no connection alive, so a server that joins its request threads on
# stop (the bot's) is never held up by an idle connection.
http = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


POLL_SECONDS = 0.02  # how often a server loop looks for shutdown(): a stop waits about half


class HttpServer:
    """A WSGI app served over HTTP on ``127.0.0.1:port`` (0: a free one) from a daemon thread,
    until :meth:`stop`. The one server helper of the fakes and of the bot under test.

    ``join_requests``: :meth:`stop` waits for requests still being answered (non-daemon request
    threads, joined by ``server_close()``); a client must then not keep connections alive.
    ``quiet``: no line per request on stderr.
    """

    def __init__(
        self,
        app: Any,
        port: int = 0,
        *,
        join_requests: bool = False,
        quiet: bool = True,
        name: str = "http-server",
    ) -> None:
        handler = _QuietHandler if quiet else None
        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=handler)
        self._server.daemon_threads = not join_requests
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=name,
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FakeServer:
    """Serve a Flask app on ``127.0.0.1:<free port>`` from a daemon thread.

    Subclasses build their app and pass it to ``__init__``. ``start()`` returns ``self`` so that
    ``fake = FakeX(...).start()`` works; the object is also a context manager.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._http: HttpServer | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._http is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._http.port}"

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread (idempotent)."""
        if self._http is None:
            self._http = HttpServer(self._app, name=f"{type(self).__name__}-server")
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        http, self._http = self._http, None
        if http is not None:
            http.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# Imported last: the submodules import FakeServer from this package.
from .telegram import FakeTelegram  # noqa: E402
from .twilio import FakeTwilio  # noqa: E402
