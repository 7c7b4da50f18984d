"""Working days: due dates across weekends, Idul Fitri and cuti bersama 2026, closing time, WITA."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from office.workdays import (
    bookable_days,
    due_date,
    holiday_name,
    is_working_day,
    visit_slots,
    working_days_left,
)

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (dt.datetime(2026, 11, 20, 10, 0, tzinfo=WIB), dt.date(2026, 11, 27)),  # Friday morning
        (dt.datetime(2026, 11, 20, 16, 30, tzinfo=WIB), dt.date(2026, 11, 30)),  # after closing
        (dt.datetime(2026, 11, 21, 9, 0, tzinfo=WIB), dt.date(2026, 11, 30)),  # Saturday
        (dt.datetime(2026, 3, 17, 9, 0, tzinfo=WIB), dt.date(2026, 3, 31)),  # before Idul Fitri
        (dt.datetime(2026, 12, 23, 9, 0, tzinfo=WIB), dt.date(2027, 1, 4)),  # Natal, New Year
    ],
)
def test_due_date_in_working_days(pst, received, due):
    assert due_date(pst.office("6106"), received, 5) == due


def test_closing_time_is_the_office_own_zone(pst):
    instant = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)  # 15.30 WIB, 16.30 WITA
    assert due_date(pst.office("6106"), instant, 5) == dt.date(2026, 11, 27)  # Ketapang open
    assert due_date(pst.office("7601"), instant, 5) == dt.date(2026, 11, 30)  # Majene closed


def test_idul_fitri_and_cuti_bersama_2026_are_not_working_days(pst):
    office = pst.office("3324")
    assert holiday_name(office, dt.date(2026, 3, 20)).startswith("Cuti Bersama")
    closed = [dt.date(2026, 3, d) for d in (18, 19, 20, 23, 24)]
    assert not any(is_working_day(office, d) for d in closed)
    assert is_working_day(office, dt.date(2026, 3, 25))


def test_office_added_holidays_are_skipped(pst):
    office = pst.office("6571").model_copy(update={"libur_tambahan": [dt.date(2026, 11, 23)]})
    assert not is_working_day(office, dt.date(2026, 11, 23))
    assert due_date(office, dt.datetime(2026, 11, 20, 9, tzinfo=WITA), 1) == dt.date(2026, 11, 24)


def test_bookable_days_and_hourly_slots(pst):
    office = pst.office("6106")
    friday_afternoon = dt.datetime(2026, 11, 20, 14, 30, tzinfo=WIB)
    assert [t.hour for t in visit_slots(office, dt.date(2026, 11, 20), friday_afternoon)] == [15]
    late = dt.datetime(2026, 11, 20, 15, 30, tzinfo=WIB)
    assert bookable_days(office, late, 2) == [dt.date(2026, 11, 23), dt.date(2026, 11, 24)]
    monday = visit_slots(office, dt.date(2026, 11, 23), late)
    assert [t.hour for t in monday] == [8, 9, 10, 11, 12, 13, 14]  # closes 15.30


def test_next_opening_outside_hours(pst):
    from office.workdays import next_opening

    office = pst.office("1905")
    assert next_opening(office, dt.datetime(2026, 11, 20, 10, 0, tzinfo=WIB)) is None
    saturday = dt.datetime(2026, 11, 21, 10, 0, tzinfo=WIB)
    assert next_opening(office, saturday) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=WIB)
    early = dt.datetime(2026, 11, 23, 6, 30, tzinfo=WIB)
    assert next_opening(office, early) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=WIB)
    before_lebaran = dt.datetime(2026, 3, 17, 17, 0, tzinfo=WIB)
    assert next_opening(office, before_lebaran) == dt.datetime(2026, 3, 25, 8, 0, tzinfo=WIB)


def test_working_days_left_skips_weekends_and_counts_late_days(pst):
    office = pst.office("6106")
    friday, monday = dt.date(2026, 11, 20), dt.date(2026, 11, 23)
    assert working_days_left(office, friday, friday) == 0
    assert working_days_left(office, friday, monday) == 1  # Saturday and Sunday do not count
    assert working_days_left(office, friday, dt.date(2026, 11, 27)) == 5
    assert working_days_left(office, monday, friday) == -1  # late since Friday: one working day
    assert working_days_left(office, dt.date(2026, 11, 25), friday) == -3
