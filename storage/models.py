"""SQLAlchemy 2 models. Times are stored as naive UTC (``utcnow()``) on every backend.

The schema is created by the Alembic migrations in ``storage/migrations``, never by
``create_all``, so SQLite and PostgreSQL deployments always carry the same tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    """Current time as a naive UTC datetime, the form every column here stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON}


class Visitor(Base):
    """One person on one channel (a Telegram user, a WhatsApp number, a terminal user).

    The *buku tamu* (guest-book) profile lives here once the visitor has consented to the
    processing of personal data (``consent_at``).
    """

    __tablename__ = "visitors"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    wa_phone: Mapped[str | None] = mapped_column(String(20))
    reply_from: Mapped[str | None] = mapped_column(String(64))
    office_code: Mapped[str | None] = mapped_column(String(4))
    lang: Mapped[str] = mapped_column(String(2), default="id")
    nama: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    telepon: Mapped[str | None] = mapped_column(String(20))
    instansi: Mapped[str | None] = mapped_column(String(150))
    pekerjaan: Mapped[str | None] = mapped_column(String(60))
    tujuan: Mapped[str | None] = mapped_column(String(200))
    consent_at: Mapped[dt.datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))  # of the text accepted
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[dt.datetime | None]

    conversation: Mapped[Conversation] = relationship(back_populates="visitor")

    @property
    def registered(self) -> bool:
        """True when the guest-book profile is complete and consented to."""
        return self.consent_at is not None


class Conversation(Base):
    """Where a visitor is in a flow: the state name and the answers collected so far."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), unique=True)
    state: Mapped[str] = mapped_column(String(64), default="")
    slots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    visitor: Mapped[Visitor] = relationship(back_populates="conversation")


class InboundMessage(Base):
    """A channel's message id seen once (Telegram ``update_id``, Twilio ``MessageSid``).

    The unique constraint is what makes webhooks idempotent: a re-delivery fails to insert.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "message_id"),
        Index("ix_inbound_parked", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # "done", or "parked": processing failed, ``payload`` keeps the message for a retry, until
    # "failed" for good after the last attempt.
    status: Mapped[str] = mapped_column(String(8), default="done", server_default="done")
    payload: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class SchedulerLease(Base):
    """Who runs the deployment's one scheduler (``holder``, until ``expires_at``, renewed while
    it lives) and when its jobs last succeeded or failed; read by ``/healthz``."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime]
    last_ok_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]


class Outbox(Base):
    """A call to make to a channel (send a message, answer a callback), kept until it succeeds.

    ``payload`` is exactly what the channel's API takes. Rows of one chat are sent in ``id``
    order; ``claimed_until`` is a lease so that two senders never send the same row.
    ``status``: ``pending``, ``sent``, ``failed``, ``held`` (WhatsApp's 24-hour window is closed:
    it goes when the visitor next writes) or ``skipped`` (not worth a paid template).
    ``kind`` is the message class that picks the template outside the window, ``ref`` the ticket
    it is about; ``message_sid``/``delivery`` are Twilio's id and last reported status.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_chat", "channel", "chat_id", "status"),
        Index("ix_outbox_message_sid", "message_sid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    kind: Mapped[str | None] = mapped_column(String(24))
    ref: Mapped[str | None] = mapped_column(String(40))
    message_sid: Mapped[str | None] = mapped_column(String(34))
    delivery: Mapped[str | None] = mapped_column(String(12))


class Ticket(Base):
    """A service ticket (data request ``PD``, consultation ``KS``, complaint ``PG`` …).

    ``number`` is what the visitor and staff quote; ``due_at`` is in UTC. ``details`` holds
    what the visitor asked (and the data file sent); the scheduled jobs' timers and once-only
    flags are columns, so that :mod:`staff.jobs` selects the due tickets in SQL:
    ``last_visitor_at``/``last_staff_at`` (hand-over messages), ``idle_warned`` (told the
    consultation closes tomorrow), ``unanswered_reminded`` (staff reminded of an unanswered
    consultation), ``due_reminded`` and ``overdue_alerted`` (staff told of the due date).
    """

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_kind", "status", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(2))
    office_code: Mapped[str] = mapped_column(String(4), index=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="baru")
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    topic_id: Mapped[int | None] = mapped_column(index=True)  # staff forum topic (hand-over)
    due_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_visitor_at: Mapped[dt.datetime | None]
    last_staff_at: Mapped[dt.datetime | None]
    idle_warned: Mapped[bool] = mapped_column(default=False, server_default=false())
    unanswered_reminded: Mapped[bool] = mapped_column(default=False, server_default=false())
    due_reminded: Mapped[bool] = mapped_column(default=False, server_default=false())
    overdue_alerted: Mapped[bool] = mapped_column(default=False, server_default=false())

    visitor: Mapped[Visitor] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    def move(self, status: str, actor: str | None = None, note: str | None = None) -> None:
        """Change the status and record it in the history (who, why, when)."""
        self.status = status
        self.events.append(TicketEvent(status=status, actor=actor, note=note))


class TicketEvent(Base):
    """One step of a ticket's status history (baru → diproses → siap → selesai, or ditolak /
    dibatalkan with a reason)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Publication(Base):
    """A BPS publication in the library catalogue (BPS WebAPI ``publication`` fields).

    ``domain`` is the BPS domain code (Ketapang 6106, not Kemendagri's 61.04). ``verified`` is
    False for modelled demonstration records, which carry no invented ISSN, date or link.
    ``local_file`` is a path under the files folder when a PDF is on hand; ``pdf_url`` a remote
    PDF fetched into the cache before stamping.
    """

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("domain", "pub_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(4), index=True)
    pub_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    issn: Mapped[str | None] = mapped_column(String(32))
    kat_no: Mapped[str | None] = mapped_column(String(32))
    pub_no: Mapped[str | None] = mapped_column(String(32))
    year: Mapped[int | None]
    sch_date: Mapped[dt.date | None]
    rl_date: Mapped[dt.date | None]
    updt_date: Mapped[dt.date | None]
    cover_url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    local_file: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(120))
    printed_copy: Mapped[bool] = mapped_column(default=False)
    verified: Mapped[bool] = mapped_column(default=True)
    provenance: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Download(Base):
    """One watermarked softcopy handed to a visitor: who got which publication when.

    ``download_id`` is stamped on every page and is the key of the signed download link.
    """

    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    download_id: Mapped[str] = mapped_column(String(32), unique=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    office_code: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Rating(Base):
    """A visitor's rating of one finished service (PermenPANRB 14/2017 survey, elements U1–U9,
    each 1–4, None when skipped) and an optional comment. ``ref`` names the service delivered
    (a ticket number or ``unduh/<download_id>``); one rating per visitor and ref, so each
    service is asked about once."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("visitor_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    office_code: Mapped[str] = mapped_column(String(4), index=True)
    service: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))
    u1: Mapped[int | None]
    u2: Mapped[int | None]
    u3: Mapped[int | None]
    u4: Mapped[int | None]
    u5: Mapped[int | None]
    u6: Mapped[int | None]
    u7: Mapped[int | None]
    u8: Mapped[int | None]
    u9: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None]


class StaffAccount(Base):
    """A PST staff member's sign-in to the web desk. ``office_code`` None is an admin, who sees
    every office; ``password_hash`` is werkzeug.security's (scrypt), never the password."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    office_code: Mapped[str | None] = mapped_column(String(4))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Visit(Base):
    """One walk-in visit in the guest book (*buku tamu*) with its queue number (*nomor
    antrian*): ``number`` counts the visits of that office, local ``day`` and ``service``.

    The guest-book fields are copied at registration (what the book said that day); a visitor
    registered at the desk without a chat has no ``visitor_id`` and is not notified.
    ``status``: ``menunggu`` → ``dipanggil`` → ``selesai``.
    """

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("office_code", "day", "service", "number"),
        Index("ix_visits_office_day", "office_code", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_code: Mapped[str] = mapped_column(String(4))
    day: Mapped[dt.date]
    service: Mapped[str] = mapped_column(String(16))
    number: Mapped[int]
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id"))
    nama: Mapped[str] = mapped_column(String(100))
    instansi: Mapped[str | None] = mapped_column(String(150))
    pekerjaan: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    telepon: Mapped[str | None] = mapped_column(String(20))
    tujuan: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="menunggu")
    registered_by: Mapped[str | None] = mapped_column(String(64))
    called_by: Mapped[str | None] = mapped_column(String(64))
    called_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    visitor: Mapped[Visitor | None] = relationship()


class NluMiss(Base):
    """A visitor message the bot did not understand well enough to act on (it asked to clarify
    or said it did not understand): kept so staff can add it to ``nlu/data/utterances.yaml``
    (``pstbot nlu unknown``). Part of the visitor's data, like their tickets."""

    __tablename__ = "nlu_misses"

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    office_code: Mapped[str | None] = mapped_column(String(4), index=True)
    state: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(1000))
    intent: Mapped[str | None] = mapped_column(String(32))  # the best guess, for the listing
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class AuditLog(Base):
    """Who did what with someone's personal data, when (UU 27/2022): a staff member shown a
    visitor's contact details (``kontak``), a visitor's export (``ekspor``) or erasure
    (``hapus``, ``tarik_persetujuan``), a retention run (``retensi``). ``actor`` is a staff
    user id, ``pengunjung`` (the visitor) or ``sistem``; ``detail`` never holds personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
