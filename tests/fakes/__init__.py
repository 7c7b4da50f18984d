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
from typing import Self

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["FakeServer", "FakeTelegram", "FakeTwilio"]


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class FakeServer:
    """Serve a Flask app on ``127.0.0.1:<free port>`` from a daemon thread.

    Subclasses build their app and pass it to ``__init__``. ``start()`` returns ``self`` so that
    ``fake = FakeX(...).start()`` works; the object is also a context manager.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._http_server: BaseWSGIServer | None = None
        self._http_thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._http_server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._http_server.server_port}"

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread (idempotent)."""
        if self._http_server is None:
            server = make_server(
                "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
            )
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}-server",
                daemon=True,
            )
            thread.start()
            self._http_server, self._http_thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        server, thread = self._http_server, self._http_thread
        self._http_server = self._http_thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

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
