"""*Pengaduan*: a complaint about the service, by the elements of the public-service
satisfaction survey, with an optional photo or document; a ``PG`` ticket, due in the working
days the office's standard states (only Ketapang's: "diproses maksimal 5 hari kerja"; none
promised elsewhere), handled by staff through the hand-over,
and the office's other complaint channels (its standard's, then SP4N-LAPOR).

| state               | asks                               | goes to                        |
|---------------------|------------------------------------|--------------------------------|
| complaint.channels  | (the office's channels) file here? | complaint.category, menu.main  |
| complaint.category  | which element of the service       | complaint.text                 |
| complaint.text      | what happened                      | complaint.file                 |
| complaint.file      | a photo/document, or skip          | complaint.submit (guest book   |
|                     |                                    | first when missing)            |
| complaint.submit    | (makes the PG ticket and topic,    | handover.active                |
|                     | then hands on)                     |                                |
"""

from __future__ import annotations

import datetime as dt
import re

from core.engine import Option, State, Turn
from core.tickets import new_ticket
from handlers import handover, info, registration
from office.dates import shown_date
from office.workdays import deadline, due_at

CATEGORIES = (
    "persyaratan",
    "prosedur",
    "waktu",
    "biaya",
    "produk",
    "kompetensi",
    "perilaku",
    "sarana",
    "penanganan",
)
COMPLAINT_WORDS = re.compile(r"\b(?:pengaduan|aduan|mengadu|komplain|keluhan|complain\w*)\b", re.I)
WHERE_WORDS = re.compile(
    r"\b(?:mana|kemana|gimana|bagaimana|caranya|cara|saluran|lewat apa|kontak|where|how)\b", re.I
)


def asks_where(text: str) -> bool:
    """True for a question about how or where to complain ("pengaduan lewat mana"), which the
    office's channels answer, rather than a wish to file one here."""
    return bool(COMPLAINT_WORDS.search(text) and WHERE_WORDS.search(text))


def prompt_channels(turn: Turn) -> None:
    turn.say(info.complaint_text(turn, turn.office))
    options = [Option("ajukan", turn.t("pg_file_here")), Option("menu", turn.t("menu_back"))]
    turn.say(turn.t("pg_channels_prompt"), options)


def handle_channels(turn: Turn) -> str:
    if turn.choice == "ajukan":
        return "complaint.category"
    if turn.choice == "menu":
        return "menu.main"
    turn.say(turn.t("not_understood"))
    return "complaint.channels"


def prompt_category(turn: Turn) -> None:
    options = [Option(c, turn.t(f"pg_cat_{c}")) for c in CATEGORIES]
    turn.say(turn.t("pg_ask_category"), [*options, Option("menu", turn.t("menu_back"))])


def handle_category(turn: Turn) -> str:
    if turn.choice == "menu":
        return "menu.main"
    if turn.choice is None:
        turn.say(turn.t("not_understood"))
        return "complaint.category"
    turn.slots["pg"] = {"category": turn.choice}
    return "complaint.text"


def prompt_text(turn: Turn) -> None:
    turn.say(turn.t("pg_ask_text"))


def handle_text(turn: Turn) -> str:
    if sum(ch.isalpha() for ch in turn.text) < 10:
        turn.say(turn.t("pg_bad_text"))
        return "complaint.text"
    turn.slots["pg"]["text"] = turn.text[:2000]
    return "complaint.file"


def prompt_file(turn: Turn) -> None:
    turn.say(turn.t("pg_ask_file"), [Option("lewati", turn.t("pg_no_file"))])


def handle_file(turn: Turn) -> str:
    inbound = turn.inbound
    if inbound.file_path:
        turn.slots["pg"]["file"] = [inbound.file_path, inbound.file_name]
    elif turn.choice != "lewati":
        turn.say(turn.t("pg_bad_file"))
        return "complaint.file"
    return registration.first(turn, "complaint.submit", "ks_need_profile")


def prompt_submit(turn: Turn) -> str:
    office, pg = turn.office, turn.slots.pop("pg")
    category = turn.texts.get("id", f"pg_cat_{pg['category']}")
    due = deadline(office, "pengaduan", dt.datetime.now(dt.UTC))
    ticket = new_ticket(
        turn.session,
        "PG",
        office,
        turn.visitor,
        f"{category}: {pg['text']}",
        pg,
        due_at=due_at(office, due),
    )
    handover.open_thread(turn, ticket, f"[{category}] {pg['text']}")
    if "file" in pg:
        handover.relay_to_topic(turn, ticket, "", *pg["file"])
    if due:
        shown = shown_date(due, turn.visitor.lang)
        turn.say(turn.t("pg_submitted", number=ticket.number, due=shown))
    else:  # the office's standard promises no time for complaints
        turn.say(turn.t("pg_submitted_no_due", number=ticket.number))
    turn.say(info.complaint_text(turn, office))
    return "handover.active"


STATES = {
    "complaint.channels": State(prompt_channels, handle_channels),
    "complaint.category": State(prompt_category, handle_category),
    "complaint.text": State(prompt_text, handle_text),
    "complaint.file": State(prompt_file, handle_file),
    "complaint.submit": State(prompt_submit),
}
