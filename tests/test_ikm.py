"""The satisfaction index (IKM, PermenPANRB 14/2017): NRR and IKM worked out by hand, grade
boundaries, an element nobody answered, and ``pstbot ikm`` on a real database (SQLite and
PostgreSQL) with ratings inside and outside the period, of two offices."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner

from bot.cli import main
from staff.ikm import compute, grade
from storage.db import Database
from storage.models import Rating, Visitor

ROOT = Path(__file__).resolve().parents[1]

# Four respondents; respondent 2 skipped U4; a fifth rating has every element skipped.
#            U1 U2 U3 U4    U5 U6 U7 U8 U9
ANSWERS = [
    (4, 4, 3, 4, 3, 4, 4, 3, 3),
    (3, 3, 3, None, 3, 3, 4, 3, 2),
    (4, 3, 2, 4, 3, 4, 4, 3, 3),
    (3, 3, 3, 4, 3, 4, 3, 2, 3),
    (None,) * 9,
]
# By hand, per element: respondents, sum, NRR = sum ÷ respondents
#   U1 4 14 3.50 | U2 4 13 3.25 | U3 4 11 2.75 | U4 3 12 4.00 (the skip is left out, not 0)
#   U5 4 12 3.00 | U6 4 15 3.75 | U7 4 15 3.75 | U8 4 11 2.75 | U9 4 11 2.75
# Σ NRR = 29.5; IKM = 29.5 ÷ 9 × 25 = 81.944… → 81.94, grade B (Baik).
# (Dividing U4 by 4 would give 79.17; the rounded weight 0.111 would give 81.86.)
HAND_NRR = ["3.5", "3.25", "2.75", "4", "3", "3.75", "3.75", "2.75", "2.75"]


def test_compute_matches_the_hand_worked_example():
    result = compute(ANSWERS)

    assert [e.code for e in result.elements] == [f"U{i}" for i in range(1, 10)]
    assert [e.respondents for e in result.elements] == [4, 4, 4, 3, 4, 4, 4, 4, 4]
    assert [e.total for e in result.elements] == [14, 13, 11, 12, 12, 15, 15, 11, 11]
    assert [e.nrr for e in result.elements] == [Fraction(n) for n in HAND_NRR]
    assert result.elements[3].weighted == Fraction(4, 9)
    assert result.respondents == 4
    assert result.ikm == Decimal("81.94")
    assert result.grade == ("B", "Baik")
    assert result.missing == ()


def test_elements_follow_the_regulation_scope_list():
    names = [e.name for e in compute(ANSWERS).elements]

    assert names[0] == "Persyaratan"
    assert names[7] == "Penanganan pengaduan, saran dan masukan"
    assert names[8] == "Sarana dan prasarana"


def test_ikm_is_rounded_half_up_from_exact_values():
    # 9 respondents answer 4 everywhere, 31 answer 3: NRR = 129/40 = 3.225 for every element,
    # IKM = 9 × 3.225 ÷ 9 × 25 = 80.625 exactly → 80.63 (half-even rounding would give 80.62).
    result = compute([(4,) * 9] * 9 + [(3,) * 9] * 31)

    assert result.elements[0].nrr == Fraction(129, 40)
    assert result.ikm == Decimal("80.63")


@pytest.mark.parametrize(
    ("ikm", "expected"),
    [
        ("100.00", ("A", "Sangat Baik")),
        ("88.31", ("A", "Sangat Baik")),
        ("88.30", ("B", "Baik")),
        ("76.61", ("B", "Baik")),
        ("76.60", ("C", "Kurang Baik")),
        ("65.00", ("C", "Kurang Baik")),
        ("64.99", ("D", "Tidak Baik")),
        ("25.00", ("D", "Tidak Baik")),
    ],
)
def test_grade_boundaries(ikm, expected):
    assert grade(Decimal(ikm)) == expected


def test_all_ones_and_all_fours_are_the_ends_of_the_scale():
    assert compute([(1,) * 9]).ikm == Decimal("25.00")
    assert compute([(4,) * 9]).ikm == Decimal("100.00")
    assert compute([(4,) * 9]).grade == ("A", "Sangat Baik")


def test_an_element_nobody_answered_means_no_ikm():
    result = compute([(4, 4, 4, None, 4, 4, 4, 4, 4), (3, 3, 3, None, 3, 3, 3, 3, 3)])

    assert result.missing == ("U4",)
    assert result.ikm is None
    assert result.grade is None
    assert result.elements[0].nrr == Fraction(7, 2)
    assert result.elements[3].nrr is None
    assert result.respondents == 2


def test_no_answers_at_all():
    result = compute([])

    assert result.respondents == 0
    assert result.ikm is None
    assert len(result.missing) == 9


@pytest.mark.parametrize("row", [(4,) * 8, (4,) * 8 + (5,), (0,) + (4,) * 8])
def test_compute_refuses_malformed_answers(row):
    with pytest.raises(ValueError):
        compute([row])


# --- pstbot ikm on a real database -----------------------------------------------------------

KETAPANG, MAJENE = "6106", "7601"  # Asia/Jakarta (UTC+7), Asia/Makassar (UTC+8)


def _add_ratings(db: Database, rows: list[tuple[str, dt.datetime | None, tuple]]) -> None:
    """One visitor per rating: (office, answered_at in naive UTC or None, U1…U9)."""
    with db.transaction() as session:
        for n, (office, answered_at, answers) in enumerate(rows):
            visitor = Visitor(channel="local", user_id=f"v{n}", chat_id=f"v{n}")
            session.add(visitor)
            session.flush()
            columns = {f"u{i}": value for i, value in enumerate(answers, 1)}
            session.add(
                Rating(
                    visitor_id=visitor.id,
                    office_code=office,
                    service="perpustakaan",
                    ref=f"unduh/{n}",
                    answered_at=answered_at,
                    **columns,
                )
            )


def _invoke(database_url: str, *args: str):
    env = {"DATABASE_URL": database_url, "PSTBOT_CONFIG": str(ROOT / "config.yaml")}
    return CliRunner().invoke(main, ["ikm", *args], env=env)


def test_cli_prints_the_ikm_of_the_office_and_period_and_writes_the_csv(db, database_url, tmp_path):
    utc = dt.datetime
    _add_ratings(
        db,
        [
            # Ketapang, May 2025 in WIB (UTC+7): the hand-worked four respondents …
            (KETAPANG, utc(2025, 4, 30, 17, 30), ANSWERS[0]),  # 1 May 00:30 WIB
            (KETAPANG, utc(2025, 5, 10, 3, 0), ANSWERS[1]),
            (KETAPANG, utc(2025, 5, 20, 8, 0), ANSWERS[2]),
            (KETAPANG, utc(2025, 5, 31, 16, 59), ANSWERS[3]),  # 31 May 23:59 WIB
            (KETAPANG, utc(2025, 5, 15, 1, 0), ANSWERS[4]),  # every element skipped
            # … and what must not count:
            (KETAPANG, utc(2025, 4, 30, 16, 59), (1,) * 9),  # 30 April 23:59 WIB
            (KETAPANG, utc(2025, 5, 31, 17, 0), (1,) * 9),  # 1 June 00:00 WIB
            (KETAPANG, None, (1,) * 9),  # asked, never finished
            (MAJENE, utc(2025, 5, 12, 2, 0), (1,) * 9),  # another office
        ],
    )
    out = tmp_path / "ikm.csv"

    result = _invoke(
        database_url, "--office", KETAPANG, "--from", "2025-05-01", "--to", "2025-05-31",
        "--csv", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "IKM BPS Kabupaten Ketapang, 1 Mei 2025 – 31 Mei 2025 (WIB)"
    assert "Responden: 4" in lines
    u4 = next(line for line in lines if line.startswith("U4"))
    assert u4.split()[-2:] == ["3", "4,00"]
    u8 = next(line for line in lines if line.startswith("U8"))
    assert "Penanganan pengaduan, saran dan masukan" in u8
    assert u8.split()[-2:] == ["4", "2,75"]
    assert "IKM 81,94 — mutu B (Baik)" in lines

    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["kode", "unsur", "responden", "jumlah", "nrr", "nrr_tertimbang"]
    assert rows[1] == ["U1", "Persyaratan", "4", "14", "3.50", "0.389"]
    assert rows[4] == ["U4", "Biaya/tarif", "3", "12", "4.00", "0.444"]
    assert rows[9] == ["U9", "Sarana dan prasarana", "4", "11", "2.75", "0.306"]
    assert rows[10] == ["IKM", "81.94", "", "", "", ""]
    assert rows[11] == ["mutu", "B (Baik)", "", "", "", ""]
    assert len(rows) == 12


def test_cli_defaults_to_this_month_in_the_office_time_zone(db, database_url):
    _add_ratings(
        db,
        [
            (MAJENE, dt.datetime(2025, 5, 31, 15, 30), (4,) * 9),  # 31 May 23:30 WITA
            (MAJENE, dt.datetime(2025, 5, 31, 16, 30), (3,) * 9),  # 1 June 00:30 WITA
        ],
    )

    # 18:00 UTC on 31 May is already 1 June 02:00 in Majene (WITA, UTC+8).
    with time_machine.travel(dt.datetime(2025, 5, 31, 18, 0, tzinfo=dt.UTC), tick=False):
        result = _invoke(database_url, "--office", MAJENE)

    assert result.exit_code == 0, result.output
    assert "IKM BPS Kabupaten Majene, 1 Juni 2025 – 1 Juni 2025 (WITA)" in result.output
    assert "Responden: 1" in result.output
    assert "IKM 75,00 — mutu C (Kurang Baik)" in result.output


def test_cli_says_when_there_are_no_respondents_or_an_element_has_no_answers(db, database_url):
    _add_ratings(db, [(KETAPANG, dt.datetime(2025, 5, 10, 3, 0), (4, 4, 4, None, 4, 4, 4, 4, 4))])

    empty = _invoke(
        database_url, "--office", KETAPANG, "--from", "2025-06-01", "--to", "2025-06-30"
    )
    partial = _invoke(
        database_url, "--office", KETAPANG, "--from", "2025-05-01", "--to", "2025-05-31"
    )

    assert empty.exit_code == 0, empty.output
    assert "Belum ada responden survei kepuasan pada periode ini." in empty.output
    assert "mutu" not in empty.output
    assert partial.exit_code == 0, partial.output
    assert (
        "IKM tidak dapat dihitung: belum ada jawaban untuk U4 (Biaya/tarif)."
        in partial.output.splitlines()
    )
    assert "mutu" not in partial.output


def test_cli_refuses_an_unknown_office_and_a_reversed_period(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'pst.sqlite3'}"  # never opened: both stop before
    unknown = _invoke(database_url, "--office", "9999")
    reversed_period = _invoke(
        database_url, "--office", KETAPANG, "--from", "2025-05-31", "--to", "2025-05-01"
    )

    assert unknown.exit_code == 2
    assert "unknown office 9999" in unknown.output
    assert "6106 (BPS Kabupaten Ketapang)" in unknown.output
    assert reversed_period.exit_code == 2
    assert "2025-05-31 is after --to 2025-05-01" in reversed_period.output
    assert not (tmp_path / "pst.sqlite3").exists()
