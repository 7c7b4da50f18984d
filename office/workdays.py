"""Working days of an office: weekdays the office opens, minus Indonesian public holidays,
*cuti bersama* and the dates the office adds in ``config.yaml`` (``libur_tambahan``).

Holidays come from the ``holidays`` package: ``country_holidays("ID", categories=(PUBLIC,
GOVERNMENT))`` — GOVERNMENT holds the *cuti bersama* (joint leave) days. Dates are the office's
local dates; times are aware datetimes in the office's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache

import holidays

from office.config import WEEKDAYS, Office


@lru_cache(maxsize=8)
def _indonesian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(
        "ID", categories=(holidays.PUBLIC, holidays.GOVERNMENT), language="id", years=year
    )


def holiday_name(office: Office, day: dt.date) -> str | None:
    """The name of the holiday on ``day`` (national, cuti bersama or the office's own), if any."""
    if day in office.libur_tambahan:
        return "Libur kantor"
    return _indonesian_holidays(day.year).get(day)


def is_working_day(office: Office, day: dt.date) -> bool:
    """True when ``office`` opens on ``day``: a weekday in its hours and not a holiday."""
    return WEEKDAYS[day.weekday()] in office.jam_layanan and holiday_name(office, day) is None


def working_days_from(office: Office, start: dt.date) -> Iterator[dt.date]:
    """Working days of ``office`` from ``start`` (inclusive) onwards, endlessly."""
    day = start
    while True:
        if is_working_day(office, day):
            yield day
        day += dt.timedelta(days=1)


def visit_slots(office: Office, day: dt.date, now: dt.datetime) -> list[dt.time]:
    """Whole-hour starts of one-hour visits on working day ``day``, inside the opening hours and
    after ``now`` (an aware datetime), in the office's local time."""
    hours = office.jam_layanan[WEEKDAYS[day.weekday()]]
    first = hours.buka.hour + (1 if hours.buka.minute else 0)
    slots = [dt.time(h) for h in range(first, hours.tutup.hour)]
    return [t for t in slots if dt.datetime.combine(day, t, office.tz) > now]


def bookable_days(office: Office, now: dt.datetime, count: int) -> list[dt.date]:
    """The next ``count`` working days that still have a visit slot after ``now``."""
    days = working_days_from(office, now.astimezone(office.tz).date())
    found: list[dt.date] = []
    while len(found) < count:
        day = next(days)
        if visit_slots(office, day, now):
            found.append(day)
    return found


def due_date(office: Office, received: dt.datetime, days: int) -> dt.date:
    """The last day to finish a request received at ``received`` (aware) in ``days`` working days.

    The request counts from the day it is received when that is a working day and the office has
    not closed yet; otherwise (after closing time, weekend, holiday) from the next working day.
    The due date is the ``days``-th working day after that day (Ketapang standard, *Waktu
    Penyelesaian*: "paling lambat 3 sampai 5 hari kerja").
    """
    local = received.astimezone(office.tz)
    start = local.date()
    hours = office.jam_layanan.get(WEEKDAYS[start.weekday()])
    if not is_working_day(office, start) or local.time() >= hours.tutup:
        start = next(working_days_from(office, start + dt.timedelta(days=1)))
    following = working_days_from(office, start + dt.timedelta(days=1))
    return [next(following) for _ in range(days)][-1]


def closing_time(office: Office, day: dt.date) -> dt.datetime:
    """Closing time of ``office`` on working day ``day`` as an aware datetime (office zone)."""
    return dt.datetime.combine(day, office.jam_layanan[WEEKDAYS[day.weekday()]].tutup, office.tz)


def previous_working_day(office: Office, day: dt.date) -> dt.date:
    """The last working day of ``office`` before ``day``."""
    day -= dt.timedelta(days=1)
    while not is_working_day(office, day):
        day -= dt.timedelta(days=1)
    return day


def next_opening(office: Office, now: dt.datetime) -> dt.datetime | None:
    """None while ``office`` is open at ``now``; otherwise when it next opens (office zone)."""
    local = now.astimezone(office.tz)
    today = local.date()
    if is_working_day(office, today):
        hours = office.jam_layanan[WEEKDAYS[today.weekday()]]
        if hours.buka <= local.time() < hours.tutup:
            return None
        if local.time() < hours.buka:
            return dt.datetime.combine(today, hours.buka, office.tz)
    day = next(working_days_from(office, today + dt.timedelta(days=1)))
    return dt.datetime.combine(day, office.jam_layanan[WEEKDAYS[day.weekday()]].buka, office.tz)


def deadline(office: Office, service: str, received: dt.datetime) -> dt.date | None:
    """The date ``service`` received at ``received`` (aware) is due at ``office``, by the working
    days its standard states (:meth:`Office.deadline_days`); None where it states none."""
    days = office.deadline_days(service)
    return due_date(office, received, days) if days else None


def due_at(office: Office, due: dt.date | None) -> dt.datetime | None:
    """The closing time of due date ``due`` (the moment a ticket is late); None for None."""
    return closing_time(office, due) if due else None


def working_days_left(office: Office, today: dt.date, due: dt.date) -> int:
    """Working days of ``office`` after ``today`` up to ``due`` (included): 0 when due today,
    1 when due on the next working day; negative, the working days late, when ``due`` has passed
    (−1 on the first working day after it). Both are the office's local dates."""
    first, last, sign = (today, due, 1) if due >= today else (due, today, -1)
    span = (first + dt.timedelta(days=n) for n in range(1, (last - first).days + 1))
    return sign * sum(1 for day in span if is_working_day(office, day))
