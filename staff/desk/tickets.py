"""Tickets on the desk: the open tickets with their clocks, a ticket's page and the staff
actions, which run the same code as the staff Telegram commands (``staff/ticket_actions``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from core.address import Address
from core.engine import Enter, Notice, Reply
from handlers.handover import topic
from office.config import Office
from office.workdays import working_days_left
from staff import ticket_actions as actions
from staff.desk import bp
from staff.desk.auth import login_required, may_see, offices, service
from storage.models import Outbox, Ticket, utcnow

KINDS = ("PD", "PS", "PC", "KS", "PG")


class ReadyForm(FlaskForm):
    berkas = FileField(
        "Berkas data untuk pengunjung", validators=[FileRequired("Pilih berkasnya.")]
    )


class RefuseForm(FlaskForm):
    alasan = TextAreaField(
        "Alasan (dibaca pengunjung)",
        validators=[
            DataRequired("Tulis alasannya."),
            Length(actions.MIN_REASON, 500, "Alasan 3–500 huruf, agar pengunjung paham."),
        ],
    )


class PlainForm(FlaskForm):
    """A button alone (take, close): only the CSRF token."""


@dataclass(frozen=True)
class Clock:
    """Where a ticket stands against its due date: ``days`` working days left (negative: late),
    ``overdue`` once the due time has passed; ``delivered`` once staff marked it ready (the
    clock stops)."""

    due: dt.date | None
    days: int | None
    overdue: bool
    delivered: bool = False

    @property
    def text(self) -> str:
        if self.delivered:
            return "sudah dikirim, menunggu ditutup"
        if self.days is None:
            return "tanpa batas waktu"
        if self.overdue:
            late = max(-self.days, 0)
            return f"terlambat {late} hari kerja" if late else "terlambat (hari ini)"
        return "jatuh tempo hari ini" if self.days == 0 else f"{self.days} hari kerja lagi"


def clock(office: Office, ticket: Ticket, now: dt.datetime) -> Clock:
    """The clock of ``ticket`` at ``now`` (naive UTC), counted in ``office``'s working days."""
    if ticket.due_at is None:
        return Clock(None, None, False, ticket.status == "siap")
    due = ticket.due_at.replace(tzinfo=dt.UTC).astimezone(office.tz).date()
    if ticket.status not in actions.OPEN:
        return Clock(due, None, False, delivered=True)
    today = now.replace(tzinfo=dt.UTC).astimezone(office.tz).date()
    return Clock(due, working_days_left(office, today, due), ticket.due_at < now)


@bp.get("/tiket")
@login_required
def tickets():
    kind = request.args.get("jenis") if request.args.get("jenis") in KINDS else None
    codes = [o.code for o in offices()]
    query = select(Ticket).where(Ticket.office_code.in_(codes), Ticket.status.not_in(actions.FINAL))
    if kind:
        query = query.where(Ticket.kind == kind)
    now = utcnow()
    pst = service().pst
    with service().db.transaction() as db:
        rows = [(t, clock(pst.office(t.office_code), t, now), t.visitor) for t in db.scalars(query)]
    rows.sort(key=lambda r: (r[0].due_at is None, r[0].due_at or now))
    return render_template(
        "desk/tickets.html", rows=rows, kinds=KINDS, kind=kind, texts=service().texts
    )


def _ticket(db: Session, number: str) -> Ticket:
    ticket = db.scalars(select(Ticket).where(Ticket.number == number.upper())).first()
    if ticket is None:
        abort(404)
    if not may_see(ticket.office_code):
        abort(403)
    return ticket


@bp.get("/tiket/<number>")
@login_required
def ticket(number: str):
    svc = service()
    with svc.db.transaction() as db:
        t = _ticket(db, number)
        office = svc.pst.office(t.office_code)
        events, visitor = list(t.events), t.visitor
        messages = _messages(db, office, t)
    return render_template(
        "desk/ticket.html",
        t=t,
        office=office,
        visitor=visitor,
        events=events,
        messages=messages,
        details=_details(svc.texts, t),
        clock=clock(office, t, utcnow()),
        texts=svc.texts,
        open=t.status in actions.OPEN,
        closable=t.status in actions.closable_from(t),
        plain=PlainForm(),
        ready_form=ReadyForm(),
        refuse_form=RefuseForm(),
    )


def _details(texts, ticket: Ticket) -> list[tuple[str, str]]:
    """The request's details staff read (labelled as the visitor saw them), and the file sent."""
    labels = texts.catalogues["id"]
    shown = [
        (labels[f"dr_label_{key}"], str(value))
        for key, value in ticket.details.items()
        if f"dr_label_{key}" in labels and value and key != "need"  # need: the summary
    ]
    if file := ticket.details.get("file"):
        shown.append(("Berkas", file.rsplit("/", 1)[-1]))
    return shown


def _messages(db: Session, office: Office, ticket: Ticket) -> list[tuple[dt.datetime, str, str]]:
    """What was sent about the ticket: its staff topic (the visitor's messages, relayed) and the
    messages to the visitor since it was opened that name it or come from staff: (time, to whom,
    text), oldest first."""
    visitor = ticket.visitor
    from_staff = service().texts.get(visitor.lang, "handover_from_staff", text="").strip()
    rows = db.scalars(
        select(Outbox)
        .where(
            or_(
                Outbox.chat_id == topic(office, ticket).key,
                (Outbox.channel == visitor.channel) & (Outbox.chat_id == visitor.chat_id),
            ),
            Outbox.created_at >= ticket.created_at,
        )
        .order_by(Outbox.id)
    )
    shown = []
    for row in rows:
        p = row.payload
        text = p.get("text") or p.get("caption") or p.get("body") or ""
        to_topic = row.chat_id != visitor.chat_id
        if text and (to_topic or ticket.number in text or text.startswith(from_staff)):
            shown.append((row.created_at, "petugas" if to_topic else "pengunjung", text))
    return shown


def _act(number: str, action: Callable[[Session, Office, Ticket], list[Notice | Enter]], done: str):
    """Run ``action`` on ticket ``number`` in the engine's transaction (its notices go to the
    outbox and are delivered), post ``done`` (a staff text) to the office's staff chat, flash
    the outcome and go back to the ticket page."""
    svc = service()

    def job(db: Session) -> list[Notice | Enter]:
        t = _ticket(db, number)
        office = svc.pst.office(t.office_code)
        notices = action(db, office, t)
        said = svc.texts.get("id", done, number=t.number, name=g.staff.name)
        flash(said, "info")
        if office.staff_chat_id is not None:  # the staff group sees what the desk did
            notices.append(Notice(Address.staff(office.staff_chat_id), Reply(said)))
        return notices

    try:
        for channel, chat in svc.engine.run_job(job):
            svc.courier.kick(channel, chat)
    except actions.Refused as refused:
        flash(svc.texts.get("id", refused.key, **refused.values), "error")
    return redirect(url_for("desk.ticket", number=number))


def _actor() -> str:
    return f"desk:{g.staff.name}"


@bp.post("/tiket/<number>/ambil")
@login_required
def take(number: str):
    texts = service().texts
    return _act(
        number, lambda db, office, t: actions.take(t, _actor(), g.staff.name, texts), "staff_taken"
    )


@bp.post("/tiket/<number>/siap")
@login_required
def ready(number: str):
    form = ReadyForm()
    if not form.validate_on_submit():
        return _form_errors(form, number)
    with service().db.transaction() as db:
        _ticket(db, number)  # 404/403 before anything is stored
    path, texts = _keep_upload(form.berkas.data), service().texts
    email = "email" in service().senders
    return _act(
        number,
        lambda db, office, t: actions.ready(db, office, t, _actor(), path, texts, email),
        "staff_ready",
    )


@bp.post("/tiket/<number>/tolak")
@login_required
def refuse(number: str):
    form = RefuseForm()
    if not form.validate_on_submit():
        return _form_errors(form, number)
    reason, texts = form.alasan.data, service().texts
    return _act(
        number, lambda db, office, t: actions.refuse(t, _actor(), reason, texts), "staff_refused"
    )


@bp.post("/tiket/<number>/tutup")
@login_required
def close(number: str):
    texts = service().texts
    return _act(
        number,
        lambda db, office, t: actions.close(db, office, t, g.staff.name, texts),
        "staff_closed",
    )


def _form_errors(form: FlaskForm, number: str):
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")
    return redirect(url_for("desk.ticket", number=number))


def _keep_upload(upload) -> str:
    """Store an uploaded file under the tickets folder; returns its path relative to it."""
    name = secure_filename(upload.filename or "") or "berkas"
    relative = f"desk-{uuid.uuid4().hex[:12]}/{name}"
    path = service().downloads.tickets_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    upload.save(path)
    return relative
