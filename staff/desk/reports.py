"""The monthly service report of an office: the satisfaction index (IKM, reusing ``staff/ikm.py``)
and the counts an office head reports — chats, walk-in visits, tickets by kind (opened, finished,
on time, overdue, first response and time to finish), downloads — on the page and as Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass

from flask import Response, flash, render_template, request, send_file
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from office.config import Office
from staff import ikm
from staff.desk import bp
from staff.desk.auth import chosen_office, login_required, offices, service
from staff.desk.tickets import KINDS
from storage.models import Download, Publication, Ticket, Visit, Visitor

FINISHED = ("siap", "selesai")
TOP_DOWNLOADS = 20


@dataclass(frozen=True)
class KindRow:
    """The tickets of one kind opened in the month, and how they fared."""

    kind: str
    name: str
    opened: int
    finished: int
    refused: int
    open_now: int
    on_time: int
    overdue: int
    first_response_hours: float | None  # median, opening → first staff step
    finish_days: float | None  # median, opening → siap/selesai

    def cells(self) -> list:
        return [
            self.name,
            self.opened,
            self.finished,
            self.refused,
            self.open_now,
            self.on_time,
            self.overdue,
            "" if self.first_response_hours is None else round(self.first_response_hours, 1),
            "" if self.finish_days is None else round(self.finish_days, 1),
        ]


KIND_HEADER = (
    "Jenis",
    "Dibuka",
    "Selesai",
    "Ditolak",
    "Masih terbuka",
    "Tepat waktu",
    "Terlambat",
    "Respons pertama (median, jam)",
    "Waktu selesai (median, hari)",
)


@dataclass(frozen=True)
class Report:
    office: Office
    first: dt.date
    last: dt.date
    ikm: ikm.IkmResult
    kinds: list[KindRow]
    counts: list[tuple[str, int]]
    downloads: list[tuple[str, int]]  # publication title, downloads; most first


def _month() -> tuple[dt.date, dt.date]:
    """The month asked for (``bulan=YYYY-MM``, default this month at the office) as its first and
    last day; a malformed value falls back to this month with a flashed note."""
    today = dt.datetime.now(chosen_office().tz).date()
    try:
        first = dt.date.fromisoformat(f"{request.args['bulan']}-01")
    except (KeyError, ValueError):
        if "bulan" in request.args:
            flash("Bulan harus berbentuk TTTT-BB; ditampilkan bulan ini.", "error")
        first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _utc(day: dt.date, office: Office) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time.min, office.tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def build(office: Office, first: dt.date, last: dt.date) -> Report:
    """The report of ``office`` for local dates ``first`` … ``last`` (both included)."""
    svc = service()
    start, end = _utc(first, office), _utc(last + dt.timedelta(days=1), office)
    result = ikm.compute(ikm.load_answers(svc.db, office.code, first, last, office.tz))
    with svc.db.transaction() as db:
        tickets = db.scalars(
            select(Ticket).where(
                Ticket.office_code == office.code,
                Ticket.created_at >= start,
                Ticket.created_at < end,
            )
        ).all()
        kinds = [
            _kind_row(k, svc.texts.get("id", f"kind_{k}"), [t for t in tickets if t.kind == k])
            for k in KINDS
        ]

        def count(model, *where) -> int:
            return db.scalar(select(func.count()).select_from(model).where(*where))

        counts = [
            (
                "Pengunjung chat yang menulis terakhir bulan ini",
                count(
                    Visitor,
                    Visitor.office_code == office.code,
                    Visitor.last_inbound_at >= start,
                    Visitor.last_inbound_at < end,
                ),
            ),
            (
                "Pengunjung chat baru",
                count(
                    Visitor,
                    Visitor.office_code == office.code,
                    Visitor.created_at >= start,
                    Visitor.created_at < end,
                ),
            ),
            (
                "Kunjungan langsung (nomor antrian)",
                count(
                    Visit, Visit.office_code == office.code, Visit.day >= first, Visit.day <= last
                ),
            ),
            ("Tiket dibuka", len(tickets)),
            (
                "Unduhan publikasi",
                count(
                    Download,
                    Download.office_code == office.code,
                    Download.created_at >= start,
                    Download.created_at < end,
                ),
            ),
            ("Responden survei kepuasan", result.respondents),
        ]
        downloads = db.execute(
            select(Publication.title, func.count(Download.id))
            .join(Download, Download.publication_id == Publication.id)
            .where(
                Download.office_code == office.code,
                Download.created_at >= start,
                Download.created_at < end,
            )
            .group_by(Publication.id, Publication.title)
            .order_by(func.count(Download.id).desc(), Publication.title)
            .limit(TOP_DOWNLOADS)
        ).all()
    return Report(office, first, last, result, kinds, counts, [tuple(d) for d in downloads])


def _kind_row(kind: str, name: str, tickets: list[Ticket]) -> KindRow:
    """Counts and medians of ``tickets`` (one kind): finished on time when the first siap/selesai
    step came by the due time; overdue when that step came later, or never and the due time has
    passed."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    finished = on_time = overdue = 0
    responses, durations = [], []
    for t in tickets:
        steps = [e for e in t.events if e.status != "baru"]
        if steps:
            responses.append((steps[0].at - t.created_at).total_seconds() / 3600)
        done = next((e.at for e in steps if e.status in FINISHED), None)
        if done is not None:
            finished += 1
            durations.append((done - t.created_at).total_seconds() / 86400)
        if t.due_at is not None and t.status != "ditolak":
            late = (done or now) > t.due_at
            overdue += late
            on_time += done is not None and not late
    return KindRow(
        kind,
        name,
        len(tickets),
        finished,
        sum(t.status == "ditolak" for t in tickets),
        sum(t.status in ("baru", "diproses") for t in tickets),
        on_time,
        overdue,
        statistics.median(responses) if responses else None,
        statistics.median(durations) if durations else None,
    )


@bp.get("/laporan")
@login_required
def report():
    office = chosen_office()
    first, last = _month()
    return render_template(
        "desk/report.html",
        r=build(office, first, last),
        offices=offices(),
        header=KIND_HEADER,
        round_half_up=ikm.round_half_up,
        month=f"{first:%Y-%m}",
    )


def rows(r: Report) -> list[tuple[list, bool]]:
    """The report as table rows for the downloads: (cells, is a header row)."""
    out: list[tuple[list, bool]] = [
        ([f"Laporan layanan PST {r.office.nama}, {r.first} s.d. {r.last}"], True),
        ([], False),
    ]
    out += [([name, value], False) for name, value in r.counts]
    out += [([], False), (list(KIND_HEADER), True)] + [(k.cells(), False) for k in r.kinds]
    out += [([], False), (["Kode", "Unsur", "Responden", "NRR"], True)]
    for e in r.ikm.elements:
        nrr = "" if e.nrr is None else float(ikm.round_half_up(e.nrr, 2))
        out.append(([e.code, e.name, e.respondents, nrr], False))
    out += [([], False), (["Publikasi", "Unduhan"], True)]
    out += [([title, n], False) for title, n in r.downloads]
    grade = r.ikm.grade
    out.append((["IKM", "" if r.ikm.ikm is None else float(r.ikm.ikm)], True))
    out.append((["Mutu", "" if grade is None else f"{grade[0]} ({grade[1]})"], False))
    return out


@bp.get("/laporan.xlsx")
@login_required
def report_xlsx():
    office = chosen_office()
    r = build(office, *_month())
    book = Workbook()
    sheet = book.active
    sheet.title = "Laporan"
    for cells, header in rows(r):
        sheet.append(cells)
        for cell in sheet[sheet.max_row] if header else ():
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return send_file(
        out,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"laporan-pst-{office.code}-{r.first:%Y-%m}.xlsx",
    )


@bp.get("/laporan.csv")
@login_required
def report_csv():
    office = chosen_office()
    r = build(office, *_month())
    out = io.StringIO()
    csv.writer(out).writerows(cells for cells, _ in rows(r))
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f"attachment; filename=laporan-pst-{office.code}-{r.first:%Y-%m}.csv"
            )
        },
    )
