"""The PST staff desk on the web, under ``/desk`` of the bot's Flask app.

Server-rendered Jinja templates in Indonesian styled by Pico CSS (vendored in ``static/``, MIT),
no JavaScript. Staff sign in with a password (``pstbot staff add``); the Flask session cookie is
signed with ``PSTBOT_SECRET_KEY`` and expires after ``PSTBOT_DESK_SESSION_HOURS``; every form
carries a CSRF token (Flask-WTF ``CSRFProtect``). An account sees only its office; an account
without an office (an admin) sees every office.

| page                  | module              | what                                          |
|-----------------------|---------------------|-----------------------------------------------|
| /desk/masuk, /keluar  | desk/auth.py        | sign in and out                               |
| /desk/tiket[/NOMOR]   | desk/tickets.py     | open tickets with their clocks; ticket page   |
| /desk/antrian         | desk/guestbook.py   | today's queue, call next, register a walk-in  |
| /desk/bukutamu[.xlsx] | desk/guestbook.py   | the guest book of a date range, Excel export  |
| /desk/laporan[.xlsx]  | desk/reports.py     | IKM and the monthly service report            |
| /desk/sehat           | desk/health.py      | outbox, scheduler and database (admins only)  |
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

logger = logging.getLogger(__name__)
bp = Blueprint(
    "desk", __name__, url_prefix="/desk", template_folder="templates", static_folder="static"
)
csrf = CSRFProtect()


def init_app(app: Flask, service: Any) -> None:
    """Add the desk to ``app`` for ``service`` (the running :class:`bot.service.Service`, which
    wires the desk in: the desk does not import the application) when ``PSTBOT_SECRET_KEY`` is
    set (it signs the sessions); without it the desk is left out and a warning logged."""
    settings = service.settings
    if not settings.secret_key:
        logger.warning("PSTBOT_SECRET_KEY is not set: the staff desk (/desk) is off")
        return
    app.config.update(
        SECRET_KEY=settings.secret_key,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.desk_session_hours),
        SESSION_COOKIE_NAME="pstdesk",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(settings.public_base_url or "").startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed session
        WTF_CSRF_CHECK_DEFAULT=False,  # checked on the desk only: webhooks carry signatures
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,  # uploads: data files for the visitor
    )
    csrf.init_app(app)
    for name, fn in FILTERS.items():
        app.jinja_env.filters[name] = fn
    from staff.desk import auth, guestbook, health, reports, tickets  # noqa: F401  (routes on bp)

    app.register_blueprint(bp)


@bp.before_request
def _check_csrf() -> None:
    """Refuse (400) any desk form posted without this session's CSRF token."""
    csrf.protect()


def _local(value: dt.datetime | None, tz: dt.tzinfo, pattern: str = "d MMM y HH.mm") -> str:
    """A stored naive-UTC time shown in ``tz`` (the office's zone), Indonesian."""
    if value is None:
        return "–"
    return format_datetime(value.replace(tzinfo=dt.UTC), pattern, tzinfo=tz, locale="id")


def _day(value: dt.date | None, pattern: str = "EEE, d MMM y") -> str:
    return "–" if value is None else format_date(value, pattern, locale="id")


def _number(value):
    """Numbers with the Indonesian decimal comma (6,9); anything else as it is."""
    return format_decimal(value, locale="id") if isinstance(value, int | float) else value


FILTERS = {"local": _local, "day": _day, "number": _number}
