"""Dates and times as the visitor reads them: one format per language, by Babel's locale data
("Senin, 30 November 2026" / "Monday, November 30, 2026"; times "08.00" / "8:00 AM")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time


def shown_date(day: dt.date, lang: str) -> str:
    """``day`` in the full date format of locale ``lang`` (a language code: "id", "en")."""
    return format_date(day, "full", locale=lang)


def shown_moment(moment: dt.datetime, tz: ZoneInfo, zone: str, lang: str) -> str:
    """Aware ``moment`` as a local date and time in ``tz``, then ``zone`` (WIB, WITA, WIT):
    "Senin, 30 November 2026 08.00 WIB" / "Monday, November 30, 2026 8:00 AM WIB"."""
    local = moment.astimezone(tz)
    time = format_time(local.time(), "short", locale=lang)
    return f"{shown_date(local.date(), lang)} {time} {zone}"
