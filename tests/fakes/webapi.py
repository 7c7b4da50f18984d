"""Fake BPS WebAPI serving the publication list (``list/model/publication``), v1 path form.

``GET /v1/api/list/model/publication/lang/ind/domain/<domain>/page/<n>/key/<key>/`` answers like
the real API (shapes in ``tests/fixtures/webapi``): a page of ``per_page`` publications as
``{"status": "OK", "data-availability": "available", "data": [{page, pages, per_page, count,
total}, [...]]}``; ``list-not-available`` for a domain it has nothing for or a page past the
end; and for a wrong key an error body ``{"status": "Error", "message": …}`` (the shape of the
SDK's error fixture; the message text here is ours, the real wording was not verified).
:meth:`FakeWebApi.fail_next` makes the next answers fail with an HTTP status (429, 503 …).
"""

from __future__ import annotations

import math
import threading
from typing import Any

from flask import Flask, jsonify

from . import FakeServer

NOT_AVAILABLE = {"status": "OK", "data-availability": "list-not-available", "data": ""}


class FakeWebApi(FakeServer):
    """``publications``: domain code → the list items it serves, in order. ``requests`` records
    every ``(domain, page, key)`` asked for; ``base_url + "/v1/api"`` is the API root."""

    def __init__(self, key: str, publications: dict[str, list[dict[str, Any]]], per_page: int):
        self.key = key
        self.publications = publications
        self.per_page = per_page
        self.requests: list[tuple[str, int, str]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        app = Flask(__name__)
        app.add_url_rule(
            "/v1/api/list/model/publication/lang/ind/domain/<domain>/page/<int:page>/key/<key>/",
            view_func=self._list,
        )
        super().__init__(app)

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with HTTP ``status`` and an HTML body."""
        with self._lock:
            self._failures.extend([status] * times)

    def _list(self, domain: str, page: int, key: str):
        with self._lock:
            self.requests.append((domain, page, key))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return "<html><body>Service Unavailable</body></html>", failure
        if key != self.key:
            return jsonify({"status": "Error", "message": "Invalid key"})
        items = self.publications.get(domain, [])
        pages = math.ceil(len(items) / self.per_page)
        if not 1 <= page <= pages:
            return jsonify(NOT_AVAILABLE)
        chunk = items[(page - 1) * self.per_page : page * self.per_page]
        info = {
            "page": page,
            "pages": pages,
            "per_page": self.per_page,
            "count": len(chunk),
            "total": len(items),
        }
        return jsonify({"status": "OK", "data-availability": "available", "data": [info, chunk]})
