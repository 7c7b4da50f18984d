"""The visitor's rights over their personal data (UU No. 27/2022) and the staff's audited look
at contact details.

Words read in every state, also during a hand-over: ``data saya`` / ``lihat data saya`` /
``my data`` (a copy of everything kept: a summary and a JSON file — a Telegram document, a
signed 24-hour link on WhatsApp), ``hapus data saya`` / ``delete my data`` (erasure) and
``tarik persetujuan`` / ``withdraw consent`` (the same erasure: without consent nothing may be
kept).

| state          | asks                           | goes to                                   |
|----------------|--------------------------------|-------------------------------------------|
| privacy.erase  | erase everything? (yes / no)   | menu.main once erased; back where the     |
|                |                                | visitor was (``_return``) when not        |
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import privacy
from core.address import Address
from core.engine import Attachment, Notice, Option, Reply, State, Turn
from core.texts import Texts
from handlers import registration
from handlers.handover import topic
from office.config import PstConfig
from storage.models import Ticket

SHOW_WORDS = {"data saya", "lihat data saya", "my data", "/datasaya"}
ERASE_WORDS = {
    "hapus data saya": "hapus",
    "delete my data": "hapus",
    "/hapusdata": "hapus",
    "tarik persetujuan": "tarik_persetujuan",
    "withdraw consent": "tarik_persetujuan",
}


def word(turn: Turn, current: str, relaying: bool) -> str | None:
    """The state to enter for a privacy word in ``turn`` (``current`` is where the visitor is,
    ``relaying`` whether it is a hand-over state); None when the text is none of them."""
    if turn.inbound.payload:
        return None
    said = " ".join(turn.text.casefold().strip(".!? ").split())
    if said in SHOW_WORDS:
        show(turn)
        if relaying:  # no "you are talking to staff" after it
            turn.slots["handover_quiet"] = True
        return current
    if said in ERASE_WORDS:
        if current != "privacy.erase":
            turn.slots["_return"] = current
        turn.slots["privacy_kind"] = ERASE_WORDS[said]
        return "privacy.erase"
    return None


def show(turn: Turn) -> None:
    """Say what is kept about the visitor and attach the full copy (``ekspor/<id>``, audited)."""
    data = privacy.export(turn.session, turn.visitor, turn.pst)
    profile = {f: getattr(turn.visitor, f) for f in registration.FIELDS}
    lines = [registration.profile_text(turn, profile)]
    for ticket in data["tiket"]:
        status = turn.t(f"status_{ticket['status']}")
        lines.append(f"{ticket['nomor']} — {turn.t('kind_' + ticket['jenis'])}: {status}")
    text = turn.t(
        "privacy_show",
        profile="\n".join(lines),
        tickets=len(data["tiket"]),
        ratings=len(data["penilaian"]),
        downloads=len(data["unduhan"]),
    )
    turn.say(text)
    export_id = privacy.new_export(turn.session, turn.visitor)
    file = Attachment(f"ekspor/{export_id}", "data-saya.json")
    turn.say(turn.t("privacy_show_file"), attachment=file)


def prompt_erase(turn: Turn) -> None:
    kind = turn.slots.get("privacy_kind", "hapus")
    options = [Option("ya", turn.t(f"privacy_yes_{kind}")), Option("tidak", turn.t("privacy_no"))]
    turn.say(turn.t(f"privacy_confirm_{kind}"), options)


def handle_erase(turn: Turn) -> str:
    choice = turn.choice
    if choice == "tidak":
        turn.slots.pop("privacy_kind", None)
        turn.say(turn.t("privacy_kept"))
        return turn.slots.pop("_return", None) or "menu.main"
    if choice != "ya":
        turn.say(turn.t("not_understood"))
        return "privacy.erase"
    kind = turn.slots.get("privacy_kind", "hapus")
    visitor = turn.visitor
    turn.notices += close_open_tickets(
        turn.session, [visitor.id], turn.pst, turn.texts, "pengunjung"
    )
    privacy.audit(turn.session, "pengunjung", kind, visitor.id)
    privacy.Eraser(turn.data_dir).erase(turn.session, [visitor.id])
    turn.slots.clear()
    turn.say(turn.t(f"privacy_erased_{kind}"))
    return "menu.main"


def contact(desk, args: list[str]) -> None:
    """``/kontak NOMOR`` in the staff chat (or ``/kontak`` in a hand-over topic): the email and
    phone of the ticket's visitor, which the staff posts mask; every look is written to the
    audit log (who, which ticket, when)."""
    ticket = desk.ticket(args[0]) if args else desk.topic_ticket()  # in its topic: no number
    if ticket is None:
        desk.answer("staff_unknown_ticket", number=args[0] if args else "-")
        return
    visitor = ticket.visitor
    privacy.audit(desk.session, desk.inbound.user_id, "kontak", visitor.id, ticket.id)
    if visitor.user_id.startswith(privacy.ERASED_PREFIX):
        desk.answer("privacy_staff_contact_erased", number=ticket.number)
        return
    desk.answer(
        "privacy_staff_contact",
        number=ticket.number,
        name=visitor.nama or visitor.display_name or "-",
        email=visitor.email or "-",
        phone=visitor.telepon or visitor.wa_phone or "-",
    )


def close_open_tickets(
    session: Session, visitor_ids: list[int], pst: PstConfig, texts: Texts, by_whom: str
) -> list[Notice]:
    """Close (``dibatalkan``) the visitors' open tickets before their data is erased and tell
    staff: in the ticket's hand-over topic (then closed), else in the staff chat. ``by_whom``
    is ``pengunjung`` (the visitor asked) or ``sistem`` (retention)."""
    notices = []
    tickets = session.scalars(
        select(Ticket).where(Ticket.visitor_id.in_(visitor_ids), Ticket.status.in_(privacy.OPEN))
    ).all()
    for ticket in tickets:
        ticket.move("dibatalkan", actor=by_whom)
        privacy.audit(session, by_whom, "tutup_tiket", ticket.visitor_id, ticket.id)
        office = pst.office(ticket.office_code)
        if office.staff_chat_id is None:
            continue
        text = texts.get("id", f"privacy_staff_closed_{by_whom}", number=ticket.number)
        if ticket.topic_id or ticket.kind in ("KS", "PG"):
            notices.append(Notice(topic(office, ticket), Reply(text, end_thread=True)))
        else:
            notices.append(Notice(Address.staff(office.staff_chat_id), Reply(text)))
    return notices


STATES = {"privacy.erase": State(prompt_erase, handle_erase)}
