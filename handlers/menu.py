"""Greeting, main menu and the global words (``menu``, ``batal``, ``bantuan``, ``bahasa``).

| state       | asks                     | goes to                                      |
|-------------|--------------------------|----------------------------------------------|
| menu.main   | which service            | info.service, registration.*, antrian.*,     |
|             |                          | library.query,                               |
|             |                          | data_request.need, consultation.*,           |
|             |                          | complaint.category, rating.intro,            |
|             |                          | status.list, office.choose, language.choose  |
"""

from __future__ import annotations

import datetime as dt
import re

from core.engine import Option, State, Turn
from handlers import antrian, complaint, consultation, handover, info, intents, privacy, rating

GLOBAL_WORDS = {
    "menu": "menu",
    "/start": "menu",
    "/menu": "menu",
    "mulai": "menu",
    "start": "menu",
    "batal": "batal",
    "cancel": "batal",
    "/batal": "batal",
    "bantuan": "bantuan",
    "help": "bantuan",
    "/bantuan": "bantuan",
    "/help": "bantuan",
    "bahasa": "bahasa",
    "language": "bahasa",
    "/bahasa": "bahasa",
}
ENTRIES = (
    "info",
    "bukutamu",
    "antrian",
    "perpustakaan",
    "permintaan_data",
    "konsultasi",
    "pengaduan",
    "penilaian",
    "status",
    "kantor",
)  # ten at most: a WhatsApp list holds 10 items; the language is in the welcome (a word)
RELAYING = {"handover.active"}  # only "menu" is a word
TICKET_QUERY = re.compile(r"^/?(?:cek|status|tiket)(?:\s+([a-z]{2}-\d{4}-\d{8}-\d{4}))?$", re.I)
DEEP_LINK = re.compile(r"^/start\s+(\d{4})$")  # t.me/<bot>?start=6106 picks the office
# States not read by intents.mid_flow: they read free text themselves, or relay it to staff.
FIXED = {"", "menu.main", "office.choose", "nlu.clarify", "nlu.switch", "nlu.type_own", *RELAYING}


def route(turn: Turn) -> str | None:
    """Handle what outranks the current state; return the state to enter, or None to go on."""
    target = _global_word(turn)
    if not turn.convo.state:
        turn.say(turn.t("welcome"))
        target = target or _first_words(turn)
    needs_office = turn.office is None and target != "language.choose"
    # The language question may come before the office one; its answer must be read first.
    if needs_office and (target or turn.convo.state not in ("office.choose", "language.choose")):
        return "office.choose"
    if target is None and turn.convo.state not in FIXED:
        return intents.mid_flow(turn)
    return target


def _first_words(turn: Turn) -> str:
    """A first message is read too: "halo bps majene" picks Majene, "sy mw minta data …" opens
    the data request (after the office question when the office is still unknown)."""
    if not turn.text or turn.inbound.payload:
        return "menu.main"
    if turn.office is None:
        return intents.at_office(turn) or "office.choose"
    return intents.at_menu(turn, greeted=True)


def _global_word(turn: Turn) -> str | None:
    current = turn.convo.state or "menu.main"
    if target := privacy.word(turn, current, current in RELAYING):  # a right, in any state
        return target
    word = GLOBAL_WORDS.get(turn.text.casefold()) if not turn.inbound.payload else None
    if (link := DEEP_LINK.match(turn.text)) and link[1] in {o.code for o in turn.pst.offices}:
        turn.visitor.office_code = link[1]
        word = "menu"
    if turn.convo.state in RELAYING and word != "menu":
        return None
    current = turn.convo.state or "menu.main"
    if word == "menu":
        turn.slots.clear()
        return "menu.main"
    if word == "batal":
        turn.slots.clear()
        turn.say(turn.t("cancelled"))
        return "menu.main"
    if word == "bantuan":
        turn.say(turn.t("help"))
        return current
    if (asked := TICKET_QUERY.match(turn.text)) and not turn.inbound.payload:
        if asked[1]:
            turn.slots["status_number"] = asked[1].upper()
        return "status.list"
    if word == "bahasa":
        if current != "language.choose":
            turn.slots["_return"] = current
        return "language.choose"
    return None


def prompt_main(turn: Turn) -> None:
    office = turn.office
    turn.say(
        turn.t("menu_prompt", office=office.nama if office else ""),
        [Option(key, turn.t(f"menu_{key}")) for key in ENTRIES],
    )


def handle_main(turn: Turn) -> str:
    if complaint.asks_where(turn.text):  # "pengaduan lewat mana": the channels answer it
        return "complaint.channels"
    choice = turn.choice
    if choice is None:
        return intents.at_menu(turn)
    return open_entry(turn, choice)


def open_entry(turn: Turn, choice: str) -> str:
    """The state that menu entry ``choice`` (a key of :data:`ENTRIES`) starts with."""
    if choice == "info":
        return "info.service"
    if choice == "bukutamu":
        return "registration.review" if turn.visitor.registered else "registration.consent"
    if choice == "antrian":
        return antrian.entry(turn)
    if choice == "kantor":
        return "office.choose"
    if choice == "perpustakaan":
        return "library.query"
    if choice == "permintaan_data":
        return "data_request.need"
    if choice == "status":
        return "status.list"
    if choice == "konsultasi":
        return consultation.entry(turn)
    if choice == "pengaduan":
        if handover.staffed(turn):
            return "complaint.category"
        turn.say(info.complaint_text(turn, turn.office))
        return "menu.main"
    if choice == "penilaian":
        ref = f"umum/{dt.datetime.now(turn.office.tz):%Y%m%d}"
        if target := rating.start(turn, "umum", ref):
            return target
        turn.say(turn.t("rating_already"))
        return "menu.main"
    turn.slots["_return"] = "menu.main"
    return "language.choose"


STATES = {"menu.main": State(prompt_main, handle_main)}
