"""*Konsultasi statistik* online (Bangka Selatan standard, online procedure steps 10–18):
search the knowledge base first; when that does not answer, open a consultation answered by
staff through the hand-over (``handlers/handover.py``); a rating follows either way.

| state                 | asks                                  | goes to                         |
|-----------------------|---------------------------------------|---------------------------------|
| consultation.question | the question                          | consultation.answers, .open     |
| consultation.answers  | answered? (knowledge-base answers)    | rating.intro, .open             |
| consultation.open     | (makes the KS ticket and topic, then  | handover.active                 |
|                       | hands on)                             |                                 |
"""

from __future__ import annotations

import datetime as dt

from core.engine import Option, State, Turn
from core.tickets import new_ticket
from handlers import handover, rating, registration
from office.config import Layanan
from office.workdays import deadline, due_at

ANSWERS = 3


def entry(turn: Turn) -> str:
    """Where "Konsultasi statistik" leads: back into an open consultation, else a question."""
    ticket = handover.open_ticket(turn.session, turn.visitor, ("KS",))
    if ticket is None:
        return "consultation.question"
    turn.slots["handover"] = ticket.number
    return "handover.active"


def prompt_question(turn: Turn) -> None:
    turn.say(turn.t("ks_ask_question"), [Option("menu", turn.t("menu_back"))])


def handle_question(turn: Turn) -> str:
    if turn.choice == "menu":
        return "menu.main"
    question = " ".join(turn.text.split())[:1000]
    if sum(ch.isalpha() for ch in question) < 5:
        turn.say(turn.t("ks_bad_question"))
        return "consultation.question"
    turn.slots["ks_question"] = question
    matches = turn.kb.search(question, limit=ANSWERS)
    if not matches:
        turn.say(turn.t("ks_no_answer"))
        return _to_staff(turn)
    for match in matches:
        entry = match.entry
        turn.say(
            turn.t(
                "ks_answer",
                question=entry.question,
                answer=entry.answer,
                source=entry.source_title,
                url=entry.source_url,
            )
        )
    turn.slots["ks_entries"] = [m.entry.id for m in matches]
    return "consultation.answers"


def prompt_answers(turn: Turn) -> None:
    turn.say(
        turn.t("ks_answered_prompt"),
        [Option("ya", turn.t("ks_answered_yes")), Option("belum", turn.t("ks_answered_no"))],
    )


def handle_answers(turn: Turn) -> str:
    if turn.choice == "ya":
        ref = f"kb/{dt.datetime.now(dt.UTC):%Y%m%d}/{turn.slots['ks_entries'][0]}"
        return rating.start(turn, "konsultasi", ref) or "menu.main"
    if turn.choice == "belum":
        return _to_staff(turn)
    turn.say(turn.t("not_understood"))
    return "consultation.answers"


def _to_staff(turn: Turn) -> str:
    """Hand the question to staff (guest book first), or stay in the menu without staff."""
    if not handover.staffed(turn):
        return "menu.main"
    return registration.first(turn, "consultation.open", "ks_need_profile")


def prompt_open(turn: Turn) -> str:
    office, question = turn.office, turn.slots.pop("ks_question")
    due = deadline(office, Layanan.KONSULTASI, dt.datetime.now(dt.UTC))
    ticket = new_ticket(
        turn.session,
        "KS",
        office,
        turn.visitor,
        question,
        {"question": question},
        due_at=due_at(office, due),
    )
    handover.open_thread(turn, ticket, question)
    return "handover.active"


STATES = {
    "consultation.question": State(prompt_question, handle_question),
    "consultation.answers": State(prompt_answers, handle_answers),
    "consultation.open": State(prompt_open),
}
