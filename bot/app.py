"""The Flask app: the channel webhooks, the staff desk (``/desk``) and a health check."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import SQLAlchemyError

from bot.service import Service
from core import lease
from staff import desk

logger = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 32 * 2**20


def create_app(service: Service) -> Flask:
    """Build the web app of ``service``; a channel's webhook exists only when it is configured."""
    app = Flask(__name__)
    # Webhooks read at most 256 KiB (core/channels/base.py); nothing else takes more than a file.
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.extensions["pstbot"] = service
    for channel in service.channels.values():
        if channel.blueprint is not None:
            app.register_blueprint(channel.blueprint(service.receive))

    if service.downloads.links_enabled:
        app.register_blueprint(service.downloads.blueprint())

    desk.init_app(app, service)

    @app.get("/healthz")
    def healthz():
        """200 when the database answers, a scheduler holds the lease and no channel refused
        this process's credentials; 503 otherwise. The body says which, with the outbox
        backlog and the scheduler's last runs."""
        try:
            state = lease.health(service.db)
        except SQLAlchemyError as exc:
            logger.error("health check: database unavailable (%s)", type(exc).__name__)
            return jsonify(status="database unavailable"), 503
        alerts = dict(service.courier.alerts)  # channels whose credentials were refused
        ok = state["scheduler"]["alive"] and not alerts
        status = "ok" if ok else ("channel refused" if alerts else "scheduler not running")
        body = {"status": status, "alerts": alerts, **state}
        body["undelivered"] = service.courier.undelivered  # reported failed by a channel
        return jsonify(channels=sorted(service.senders), **body), 200 if ok else 503

    return app
