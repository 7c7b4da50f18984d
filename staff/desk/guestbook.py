"""The guest book (*buku tamu*) and today's walk-in queue (*antrian*) on the desk, and the guest
book's Excel export.

The guest book of a period holds the walk-in visits (each with its queue number) and the online
service requests (each ticket, with the visitor's guest-book profile), oldest first.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import phonenumbers
from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from handlers import antrian
from handlers.registration import PEKERJAAN, TUJUAN
from office.config import Layanan, Office
from staff.desk import bp
from staff.desk.auth import chosen_office, login_required, offices, service
from storage.models import Ticket, Visit

COLUMNS = (
    "No",
    "Tanggal",
    "Jam",
    "Nama",
    "Instansi",
    "Pekerjaan",
    "Email",
    "Telepon",
    "Keperluan",
    "Layanan",
    "Cara",
    "Nomor",
)
MAX_DAYS = 366  # one export covers at most a year


@dataclass(frozen=True)
class Entry:
    """One line of the guest book, in the office's local time."""

    at: dt.datetime
    nama: str
    instansi: str
    pekerjaan: str
    email: str
    telepon: str
    keperluan: str
    layanan: str
    cara: str
    nomor: str

    def cells(self) -> list[str]:
        return [
            self.at.strftime("%Y-%m-%d"),
            self.at.strftime("%H.%M"),
            self.nama,
            self.instansi,
            self.pekerjaan,
            self.email,
            self.telepon,
            self.keperluan,
            self.layanan,
            self.cara,
            self.nomor,
        ]


class RegisterForm(FlaskForm):
    """A walk-in visitor registered at the desk (no chat: nobody is notified)."""

    layanan = SelectField("Layanan", validators=[DataRequired()])
    nama = StringField(
        "Nama", validators=[DataRequired("Isi nama."), Length(3, 100, "Nama 3–100 huruf.")]
    )
    instansi = StringField("Instansi", validators=[Optional(), Length(max=150)])
    pekerjaan = SelectField("Pekerjaan", validators=[Optional()])
    email = EmailField(
        "Email", validators=[Optional(), Email("Email tidak valid."), Length(max=254)]
    )
    telepon = StringField("Telepon", validators=[Optional(), Length(max=20)])
    tujuan = SelectField("Keperluan", validators=[Optional()])

    def validate_telepon(self, field: StringField) -> None:
        """A valid number (Indonesian without a country code), kept as E.164 like the bot's."""
        if not field.data:
            return
        try:
            number = phonenumbers.parse(field.data, "ID")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError("Nomor telepon tidak valid.")
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class CallForm(FlaskForm):
    layanan = SelectField("Layanan", validators=[DataRequired()])


def _register_form(office: Office) -> RegisterForm:
    texts = service().texts
    form = RegisterForm()
    form.layanan.choices = _services(office)
    form.pekerjaan.choices = [("", "–")] + [
        (texts.get("id", f"pekerjaan_{k}"),) * 2 for k in PEKERJAAN if k != "lainnya"
    ]
    form.tujuan.choices = [("", "–")] + [
        (texts.get("id", f"tujuan_{k}"),) * 2 for k in TUJUAN if k != "lainnya"
    ]
    return form


def _services(office: Office) -> list[tuple[str, str]]:
    texts = service().texts
    return [(s.value, texts.get("id", f"info_{s.value}")) for s in Layanan if s in office.layanan]


@bp.get("/antrian")
@login_required
def queue():
    office = chosen_office()
    day = antrian.local_day(office, dt.datetime.now(dt.UTC))
    with service().db.transaction() as db:
        visits = db.scalars(
            select(Visit)
            .where(Visit.office_code == office.code, Visit.day == day)
            .order_by(Visit.number)
        ).all()
    lanes = [
        (value, name, [v for v in visits if v.service == value])
        for value, name in _services(office)
    ]
    call = CallForm()
    call.layanan.choices = _services(office)
    return render_template(
        "desk/queue.html",
        office=office,
        offices=offices(),
        day=day,
        lanes=lanes,
        label=antrian.label,
        call_form=call,
        form=_register_form(office),
    )


@bp.post("/antrian/panggil")
@login_required
def call_next():
    office = chosen_office()
    form = CallForm()
    form.layanan.choices = _services(office)
    if form.validate_on_submit():
        svc, lane = service(), Layanan(form.layanan.data)
        called: list[str] = []

        def job(db):
            visit, notices = antrian.call_next(
                db, office, lane, g.staff.name, svc.texts, dt.datetime.now(dt.UTC)
            )
            called.extend([antrian.label(visit), visit.nama] if visit else [])
            return notices

        for channel, chat in svc.engine.run_job(job):
            svc.courier.kick(channel, chat)
        if called:
            flash(f"Memanggil {called[0]} — {called[1]}.", "info")
        else:
            flash("Tidak ada antrian yang menunggu untuk layanan ini.", "info")
    return redirect(url_for("desk.queue", kantor=office.code))


@bp.post("/antrian/daftar")
@login_required
def register():
    office = chosen_office()
    form = _register_form(office)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("desk.queue", kantor=office.code))
    profile = {k: (getattr(form, k).data or None) for k in antrian.PROFILE}
    with service().db.transaction() as db:
        visit = antrian.take_number(
            db,
            office,
            Layanan(form.layanan.data),
            dt.datetime.now(dt.UTC),
            profile,
            registered_by=g.staff.name,
        )
        shown = antrian.label(visit)
    flash(f"{profile['nama']} terdaftar di buku tamu dengan nomor antrian {shown}.", "info")
    return redirect(url_for("desk.queue", kantor=office.code))


def entries(office: Office, first: dt.date, last: dt.date) -> list[Entry]:
    """The guest book of ``office`` from ``first`` to ``last`` (local dates, both included)."""
    texts = service().texts
    start = dt.datetime.combine(first, dt.time.min, office.tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, office.tz)
    span = (start.replace(tzinfo=None), end.astimezone(dt.UTC).replace(tzinfo=None))
    rows: list[Entry] = []
    with service().db.transaction() as db:
        for v in db.scalars(
            select(Visit).where(
                Visit.office_code == office.code, Visit.day >= first, Visit.day <= last
            )
        ):
            rows.append(
                Entry(
                    _local(v.created_at, office),
                    v.nama,
                    v.instansi or "",
                    v.pekerjaan or "",
                    v.email or "",
                    v.telepon or "",
                    v.tujuan or "",
                    texts.get("id", f"info_{v.service}"),
                    "Datang langsung",
                    antrian.label(v),
                )
            )
        for t in db.scalars(
            select(Ticket).where(
                Ticket.office_code == office.code,
                Ticket.created_at >= span[0],
                Ticket.created_at < span[1],
            )
        ):
            p = t.visitor
            rows.append(
                Entry(
                    _local(t.created_at, office),
                    p.nama or p.display_name or "",
                    p.instansi or "",
                    p.pekerjaan or "",
                    p.email or "",
                    p.telepon or "",
                    p.tujuan or "",
                    texts.get("id", f"kind_{t.kind}"),
                    f"Online ({p.channel})",
                    t.number,
                )
            )
    return sorted(rows, key=lambda e: e.at)


def _local(value: dt.datetime, office: Office) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC).astimezone(office.tz)


def _period() -> tuple[dt.date, dt.date] | None:
    """The ``dari``/``sampai`` dates asked for (default: today at the chosen office), or None
    with a flashed reason when they are not dates, reversed or longer than a year."""
    today = dt.datetime.now(chosen_office().tz).date()
    try:
        first = dt.date.fromisoformat(request.args.get("dari") or today.isoformat())
        last = dt.date.fromisoformat(request.args.get("sampai") or first.isoformat())
    except ValueError:
        flash("Tanggal harus berbentuk TTTT-BB-HH.", "error")
        return None
    if first > last or (last - first).days >= MAX_DAYS:
        flash(f"Rentang tanggal tidak sah (paling lama {MAX_DAYS} hari).", "error")
        return None
    return first, last


@bp.get("/bukutamu")
@login_required
def guestbook():
    office = chosen_office()
    period = _period()
    rows = entries(office, *period) if period else []
    return render_template(
        "desk/guestbook.html",
        office=office,
        offices=offices(),
        period=period,
        rows=rows,
        columns=COLUMNS,
    )


@bp.get("/bukutamu.xlsx")
@login_required
def guestbook_xlsx():
    office = chosen_office()
    period = _period()
    if period is None:
        return redirect(url_for("desk.guestbook", kantor=office.code))
    book = Workbook()
    sheet = book.active
    sheet.title = "Buku tamu"
    sheet.append(
        [f"Buku tamu PST {office.nama}, {period[0]} s.d. {period[1]} ({office.zone_abbr})"]
    )
    sheet.append(list(COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for n, entry in enumerate(entries(office, *period), start=1):
        sheet.append([n, *entry.cells()])
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    name = f"buku-tamu-{office.code}-{period[0]}-{period[1]}.xlsx"
    return send_file(
        out,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=name,
    )
