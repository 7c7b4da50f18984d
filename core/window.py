"""WhatsApp's 24-hour customer service window, decided for each message when it is sent.

Meta lets a business send a free-form WhatsApp message only within 24 hours of the user's last
message; after that only an approved template goes (Twilio refuses anything else with error
63016: https://www.twilio.com/docs/whatsapp/key-concepts#the-24-hour-window-or-24-hour-session).
A row can wait in the outbox (Twilio down, a busy chat) while the window closes, so the courier
asks :class:`WindowGate` just before each WhatsApp send:

* inside the window (the visitor's last message is less than 24 h old) → sent as it is;
* outside → the row is **held** and, once per class and silence, the office's approved template
  of the row's class (``whatsapp_templates`` in config.yaml, see :data:`CLASSES`) goes instead:
  it tells the visitor there is a message and invites a reply. When the visitor writes, the
  held rows go out once and in order (:func:`core.engine.release_held`);
* a class without a template: held, and staff are told (in the ticket's topic) that the visitor
  gets it when they next write;
* a rating invitation without a template is skipped: not worth a paid template.

Every template takes the same variables: ``{{1}}`` the visitor's name, ``{{2}}`` the ticket
number (``-`` when there is none).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.address import Address
from core.engine import Notice, Reply
from core.texts import Texts
from office.config import Office, PstConfig
from storage.models import Outbox, Ticket, Visitor, utcnow

logger = logging.getLogger(__name__)
CHANNEL = "whatsapp"
WINDOW = dt.timedelta(hours=24)
# Our clock starts when the message was processed, Meta's when it was sent: keep a margin.
MARGIN = dt.timedelta(minutes=10)
CLASSES = {  # the classes of office.config.TEMPLATE_CLASSES, described
    "jawaban_petugas": "a staff answer in a consultation or complaint topic",
    "pengingat_tutup": "the day-6 warning before an idle consultation is closed",
    "konsultasi_ditutup": "a consultation or complaint closed (by staff or after 7 idle days)",
    "tiket_diperbarui": "a ticket taken up (diproses) or refused (ditolak)",
    "data_siap": "the requested data is ready (the file follows the visitor's reply)",
    "undangan_penilaian": "the invitation to rate a finished service (skipped without one)",
}
SKIPPED_WITHOUT_TEMPLATE = {"undangan_penilaian"}

Write = Callable[[Session, list, list[Notice]], set[tuple[str, str]]]
Withdraw = Callable[[Session, Visitor, str | None], None]


def is_open(last_inbound_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """True when a free-form message may go to a visitor whose last message was processed at
    ``last_inbound_at`` (naive UTC; None: never wrote)."""
    if last_inbound_at is None:
        return False
    return (now or utcnow()) - last_inbound_at < WINDOW - MARGIN


def office_of(pst: PstConfig, visitor: Visitor) -> Office | None:
    """The office serving ``visitor``: the chosen one, or the only one configured."""
    if len(pst.offices) == 1:
        return pst.offices[0]
    try:
        return pst.office(visitor.office_code or "")
    except KeyError:
        return None


class WindowGate:
    """The courier's check before a WhatsApp send (see the module docstring).

    ``write`` adds notices to the outbox (:meth:`core.engine.Engine.write`); ``withdraw`` takes
    back a rating survey whose invitation was skipped (``handlers.rating.withdraw``).
    """

    def __init__(self, pst: PstConfig, texts: Texts, write: Write, withdraw: Withdraw) -> None:
        self.pst, self.texts, self.write, self.withdraw = pst, texts, write, withdraw

    def __call__(
        self, session: Session, row: Outbox, closed: bool = False
    ) -> set[tuple[str, str]] | None:
        """None when ``row`` may be sent now; else the row was held or skipped, and the result
        names the chats given new rows (a staff notice). ``closed``: Twilio said the window is
        closed (63016), whatever our clock says."""
        if row.channel != CHANNEL or _is_template(row):
            return None
        visitor = session.scalars(  # locked: a message being handled decides first
            select(Visitor)
            .where(Visitor.channel == CHANNEL, Visitor.chat_id == row.chat_id)
            .with_for_update()
        ).first()
        if visitor is None or (not closed and is_open(visitor.last_inbound_at)):
            return None
        office = office_of(self.pst, visitor)
        templates = office.whatsapp_templates if office else {}
        template = templates.get(row.kind or "")
        if template is None and row.kind in SKIPPED_WITHOUT_TEMPLATE:
            row.status = "skipped"
            self.withdraw(session, visitor, row.ref)
            logger.info("outbox %s skipped: %s outside the WhatsApp window", row.id, row.kind)
            return set()
        row.status = "held"
        logger.info("outbox %s held until the visitor writes (%s)", row.id, row.kind or "reply")
        if template is not None:
            if not _template_sent(session, row, visitor):
                session.add(_template_row(row, visitor, template))
            return set()
        if _held_before(session, row):
            return set()  # staff were told at the first held message of this ticket
        return self._tell_staff(session, office, row, "staff_window_held")

    def undeliverable(self, session: Session, row: Outbox) -> set[tuple[str, str]]:
        """Tell staff that WhatsApp refused a message of ticket ``row.ref`` for good."""
        visitor = session.scalars(
            select(Visitor).where(Visitor.channel == row.channel, Visitor.chat_id == row.chat_id)
        ).first()
        office = office_of(self.pst, visitor) if visitor else None
        return self._tell_staff(session, office, row, "staff_undeliverable")

    def _tell_staff(self, session: Session, office: Office | None, row: Outbox, key: str) -> set:
        """A note in the staff topic of ticket ``row.ref`` (or the staff chat for a ticket
        without one); returns the chats written to."""
        if office is None or office.staff_chat_id is None or row.ref is None:
            return set()
        ticket = session.scalars(select(Ticket).where(Ticket.number == row.ref)).first()
        if ticket is None:
            return set()
        where = Address.staff(office.staff_chat_id)
        if ticket.topic_id or ticket.kind in ("KS", "PG"):
            where = Address.of_ticket(office.staff_chat_id, ticket.number)
        text = self.texts.get(
            "id", key, number=ticket.number, kind=row.kind or "-", error=row.last_error or "-"
        )
        return self.write(session, [], [Notice(where, Reply(text))])


def _held_before(session: Session, row: Outbox) -> bool:
    """Another message of the same ticket already waits for the visitor's next message."""
    earlier = session.scalars(
        select(Outbox.id).where(
            Outbox.channel == CHANNEL,
            Outbox.chat_id == row.chat_id,
            Outbox.status == "held",
            Outbox.ref == row.ref,
            Outbox.id != row.id,
        )
    ).first()
    return earlier is not None


def _template_sent(session: Session, row: Outbox, visitor: Visitor) -> bool:
    """A template of ``row``'s class already went (or waits) since the visitor last wrote."""
    since = visitor.last_inbound_at or dt.datetime.min
    rows = session.scalars(
        select(Outbox).where(
            Outbox.channel == CHANNEL,
            Outbox.chat_id == row.chat_id,
            Outbox.kind == row.kind,
            Outbox.status.in_(("pending", "sent")),
            Outbox.created_at >= since,
        )
    )
    return any(_is_template(r) for r in rows)


def _is_template(row: Outbox) -> bool:
    """An approved template, which goes outside the window (buttons and lists do not)."""
    return "content_sid" in row.payload and not row.payload.get("in_session")


def _template_row(row: Outbox, visitor: Visitor, content_sid: str) -> Outbox:
    variables = {"1": visitor.nama or visitor.display_name or "-", "2": row.ref or "-"}
    payload = {
        "from_": row.payload.get("from_"),
        "to": row.chat_id,
        "content_sid": content_sid,
        "content_variables": json.dumps(variables),
    }
    return Outbox(
        channel=CHANNEL,
        chat_id=row.chat_id,
        method="messages.create",
        payload=payload,
        kind=row.kind,
        ref=row.ref,
    )
