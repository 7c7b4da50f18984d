"""The Flask app: the channel webhooks, the staff desk (``/desk``) and a health check."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text

import desk
from bot.channels import telegram, whatsapp
from bot.service import Service

logger = logging.getLogger(__name__)


def create_app(service: Service) -> Flask:
    """Build the web app of ``service``; a channel's webhook exists only when it is configured."""
    app = Flask(__name__)
    app.extensions["pstbot"] = service
    settings = service.settings
    if settings.telegram_enabled:
        app.register_blueprint(
            telegram.blueprint(service.receive, settings.telegram_webhook_secret)
        )
    if settings.whatsapp_enabled:
        app.register_blueprint(
            whatsapp.blueprint(
                service.receive, service.pst, settings.twilio_auth_token, settings.public_base_url
            )
        )

    if service.downloads.public_base_url:
        app.register_blueprint(service.downloads.blueprint())

    desk.init_app(app, service)

    @app.get("/healthz")
    def healthz():
        with service.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify(status="ok", channels=sorted(service.senders))

    return app
