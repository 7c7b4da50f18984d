"""The office's satisfaction index (IKM, *Indeks Kepuasan Masyarakat*) and ``pstbot ikm``.

Source: Peraturan Menteri PANRB No. 14 Tahun 2017 (Pedoman Penyusunan Survei Kepuasan
Masyarakat Unit Penyelenggara Pelayanan Publik). Nine elements (*unsur*) U1–U9, each answered
1–4. The NRR (*nilai rata-rata*) of an element is the sum of its answers ÷ the respondents who
answered it (a skipped answer counts for neither); every element weighs 1/9, so
IKM = (Σ NRR ÷ 9) × 25, shown with two decimals (rounded half up, from the exact fractions) and
graded on that shown value: A (Sangat Baik) 88,31–100, B (Baik) 76,61–88,30, C (Kurang Baik)
65,00–76,60, D (Tidak Baik) 25,00–64,99. Without an answer for every element there is no IKM.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import select

from office.config import Office
from storage.db import Database
from storage.models import Rating

# The elements in the order of the regulation's scope list (Lampiran, "Ruang Lingkup"); the
# code is also the Rating column (U1 → Rating.u1).
ELEMENTS: tuple[tuple[str, str], ...] = (
    ("U1", "Persyaratan"),
    ("U2", "Sistem, mekanisme, dan prosedur"),
    ("U3", "Waktu penyelesaian"),
    ("U4", "Biaya/tarif"),
    ("U5", "Produk spesifikasi jenis pelayanan"),
    ("U6", "Kompetensi pelaksana"),
    ("U7", "Perilaku pelaksana"),
    ("U8", "Penanganan pengaduan, saran dan masukan"),
    ("U9", "Sarana dan prasarana"),
)

# (lowest IKM of the grade, letter, mutu pelayanan), best first.
GRADES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)

CSV_HEADER = ("kode", "unsur", "responden", "jumlah", "nrr", "nrr_tertimbang")


@dataclass(frozen=True)
class ElementScore:
    """One element's answers: how many respondents answered it and the sum of their answers."""

    code: str
    name: str
    respondents: int
    total: int

    @property
    def nrr(self) -> Fraction | None:
        """Sum ÷ respondents, exact; None when nobody answered."""
        return Fraction(self.total, self.respondents) if self.respondents else None

    @property
    def weighted(self) -> Fraction | None:
        """NRR × 1/9 (*NRR tertimbang*); None when nobody answered."""
        return None if self.nrr is None else self.nrr / len(ELEMENTS)


@dataclass(frozen=True)
class IkmResult:
    """The nine element scores, the respondents (ratings with at least one answer) and the IKM
    (two decimals; None when an element has no answers)."""

    elements: tuple[ElementScore, ...]
    respondents: int
    ikm: Decimal | None

    @property
    def missing(self) -> tuple[str, ...]:
        """Codes of the elements nobody answered: each one alone prevents an IKM."""
        return tuple(e.code for e in self.elements if not e.respondents)

    @property
    def grade(self) -> tuple[str, str] | None:
        """(letter, mutu pelayanan) of the IKM, e.g. ("B", "Baik"); None without an IKM."""
        return None if self.ikm is None else grade(self.ikm)


def compute(answers: Iterable[Sequence[int | None]]) -> IkmResult:
    """Compute the IKM of ``answers``: one sequence of nine answers (U1…U9) per respondent,
    each 1–4 or None when skipped. Returns each element's respondents, sum and NRR, the
    respondents (rows with at least one answer) and the IKM (None when an element has none).

    Raises:
        ValueError: a sequence is not nine long, or an answer is not None or 1–4.
    """
    respondents = 0
    counts = [0] * len(ELEMENTS)
    totals = [0] * len(ELEMENTS)
    for row in answers:
        if len(row) != len(ELEMENTS):
            raise ValueError(f"expected {len(ELEMENTS)} answers, got {len(row)}: {row!r}")
        respondents += any(value is not None for value in row)
        for i, value in enumerate(row):
            if value is None:
                continue
            if value not in (1, 2, 3, 4):
                raise ValueError(f"{ELEMENTS[i][0]}: answer {value!r} is not 1–4")
            counts[i] += 1
            totals[i] += value
    elements = tuple(
        ElementScore(code, name, count, total)
        for (code, name), count, total in zip(ELEMENTS, counts, totals, strict=True)
    )
    weighted = [e.weighted for e in elements]
    ikm = None if None in weighted else round_half_up(sum(weighted) * 25, 2)
    return IkmResult(elements, respondents, ikm)


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals (3.225 → 3.23), as hand tallies do."""
    return Decimal(math.floor(value * 10**places + Fraction(1, 2))).scaleb(-places)


def grade(ikm: Decimal) -> tuple[str, str]:
    """(letter, mutu pelayanan) of an IKM shown with two decimals: 88.31 → ("A", "Sangat Baik"),
    88.30 → ("B", "Baik"), 65.00 → ("C", "Kurang Baik"), 64.99 → ("D", "Tidak Baik").

    Raises:
        ValueError: ``ikm`` is below 25, which no set of 1–4 answers gives.
    """
    for lowest, letter, label in GRADES:
        if ikm >= lowest:
            return letter, label
    raise ValueError(f"IKM {ikm} is below 25")


def load_answers(
    db: Database, office_code: str, start: dt.date, end: dt.date, tz: dt.tzinfo
) -> list[tuple[int | None, ...]]:
    """The U1…U9 answers of the office's ratings answered from ``start`` to ``end`` (both
    included) in the office's local dates (``tz``), oldest first. Unanswered ratings
    (``answered_at`` None) are left out."""
    columns = [getattr(Rating, code.lower()) for code, _ in ELEMENTS]
    query = (
        select(*columns)
        .where(
            Rating.office_code == office_code,
            Rating.answered_at >= _utc_midnight(start, tz),
            Rating.answered_at < _utc_midnight(end + dt.timedelta(days=1), tz),
        )
        .order_by(Rating.answered_at, Rating.id)
    )
    with db.transaction() as session:
        return [tuple(row) for row in session.execute(query)]


def _utc_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The start of local ``day`` in ``tz`` as the naive UTC datetime the database stores."""
    local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def write_csv(result: IkmResult, path: Path) -> None:
    """Write ``result`` to ``path`` (UTF-8, dot decimals): the header ``CSV_HEADER``, one row per
    element (NRR with 2 decimals, NRR tertimbang with 3; empty when nobody answered), then the
    rows ``IKM,<ikm>`` and ``mutu,<letter> (<label>)`` padded to the header's width (values
    empty when there is no IKM).

    Raises:
        OSError: the file cannot be written.
    """
    pad = [""] * (len(CSV_HEADER) - 2)
    mark = result.grade
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for e in result.elements:
            nrr = "" if e.nrr is None else str(round_half_up(e.nrr, 2))
            weighted = "" if e.weighted is None else str(round_half_up(e.weighted, 3))
            writer.writerow([e.code, e.name, e.respondents, e.total, nrr, weighted])
        writer.writerow(["IKM", "" if result.ikm is None else str(result.ikm), *pad])
        writer.writerow(["mutu", "" if mark is None else f"{mark[0]} ({mark[1]})", *pad])


def report(result: IkmResult, office: Office, start: dt.date, end: dt.date) -> list[str]:
    """The lines of the printed report, in Indonesian with decimal commas: the office and period,
    the respondents, a table (kode, unsur, responden, NRR) and the IKM with its grade, or why
    there is none."""
    period = f"{_long_date(start)} – {_long_date(end)} ({office.zone_abbr})"
    lines = [f"IKM {office.nama}, {period}"]
    if not result.respondents:
        return [*lines, "Belum ada responden survei kepuasan pada periode ini."]
    width = max(len(e.name) for e in result.elements)
    lines += [
        f"Responden: {result.respondents}",
        "",
        f"{'Kode':<5} {'Unsur':<{width}} {'Responden':>9} {'NRR':>5}",
    ]
    for e in result.elements:
        nrr = "–" if e.nrr is None else _comma(round_half_up(e.nrr, 2))
        lines.append(f"{e.code:<5} {e.name:<{width}} {e.respondents:>9} {nrr:>5}")
    lines.append("")
    if result.ikm is None:
        names = ", ".join(f"{e.code} ({e.name})" for e in result.elements if not e.respondents)
        return [*lines, f"IKM tidak dapat dihitung: belum ada jawaban untuk {names}."]
    letter, label = grade(result.ikm)
    return [*lines, f"IKM {_comma(result.ikm)} — mutu {letter} ({label})"]


def _comma(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.00", locale="id")


def _long_date(day: dt.date) -> str:
    return format_date(day, format="d MMMM y", locale="id")
