"""*Penilaian*: after a finished service, the satisfaction survey of PermenPANRB 14/2017 —
nine elements (U1–U9), each 1–4, one question at a time, each skippable — then a comment.
Every standard asks for it ("Pengguna layanan memberikan penilaian/rating …"). The answers feed
the office's IKM (``pstbot ikm``). Each service (``ref``) is asked about once.

| state          | asks                            | goes to                      |
|----------------|---------------------------------|------------------------------|
| rating.intro   | (says what the survey is)       | rating.element               |
| rating.element | U1 … U9: 1–4 (or its words),    | rating.element, rating.comment |
|                | or skip, or stop                |                              |
| rating.comment | a comment, or skip              | menu.main                    |
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.engine import Engine, Enter, Option, Reply, State, Turn
from core.texts import Texts
from storage.models import Rating, Visitor, utcnow

ELEMENTS = 9
SCORES = ("1", "2", "3", "4")
WORDS = {"lewati": "lewati", "skip": "lewati", "berhenti": "berhenti", "stop": "berhenti"}


def begin(
    session: Session, visitor: Visitor, office_code: str, service: str, ref: str
) -> dict[str, Any] | None:
    """Record a survey of service ``ref`` unless the visitor was already asked about it.
    Returns the slots the survey starts with, or None when asked before."""
    asked = session.scalars(
        select(Rating).where(Rating.visitor_id == visitor.id, Rating.ref == ref)
    ).first()
    if asked is not None:
        return None
    rating = Rating(visitor_id=visitor.id, office_code=office_code, service=service, ref=ref)
    session.add(rating)
    session.flush()
    return {"rating": {"id": rating.id, "element": 1}}


def start(turn: Turn, service: str, ref: str) -> str | None:
    """From inside a flow: open the survey and return the state that starts it (the
    conversation's other slots are dropped), or None if already asked."""
    slots = begin(turn.session, turn.visitor, turn.office.code, service, ref)
    if slots is None:
        return None
    turn.slots.clear()
    turn.slots.update(slots)
    return "rating.intro"


def question(texts: Texts, lang: str, element: int, channel: str) -> Reply:
    """The question for element ``element`` (1–9) with its 1–4 answers, skip and stop. Where
    options are a numbered list (WhatsApp) only the four scores are numbered, by their words
    ("1. Tidak baik"), and skip and stop are words to type: no "5." that reads as a score."""
    text = texts.get(
        lang,
        "rating_question",
        n=element,
        total=ELEMENTS,
        element=texts.get(lang, f"rating_u{element}"),
    )
    if channel == "whatsapp":
        options = [Option(s, texts.get(lang, f"rating_word_{s}")) for s in SCORES]
        return Reply(f"{text}\n{texts.get(lang, 'rating_words_hint')}", tuple(options))
    options = [Option(s, texts.get(lang, f"rating_score_{s}")) for s in SCORES]
    options += [
        Option("lewati", texts.get(lang, "rating_skip")),
        Option("berhenti", texts.get(lang, "rating_stop")),
    ]
    return Reply(text, tuple(options))


def invite(
    session: Session, visitor: Visitor, office_code: str, service: str, ref: str
) -> list[Enter]:
    """From outside a conversation (staff closed a ticket): the survey to start, whose intro and
    first question reach the visitor as notices (class ``undangan_penilaian``); nothing when
    the visitor was asked about ``ref`` before."""
    slots = begin(session, visitor, office_code, service, ref)
    if slots is None:
        return []
    return [Enter(visitor, "rating.intro", slots, "undangan_penilaian", ref)]


def withdraw(session: Session, visitor: Visitor, ref: str | None) -> None:
    """The invitation to rate ``ref`` was not sent (WhatsApp's window closed, no template):
    take the unanswered survey back, so that the visitor's next message starts afresh."""
    convo = visitor.conversation
    rating_id = ((convo.slots or {}).get("rating") or {}).get("id") if convo else None
    if rating_id is None or convo.state != "rating.element":
        return
    rating = session.get(Rating, rating_id)
    if rating is None or rating.ref != ref or rating.answered_at is not None:
        return
    session.delete(rating)
    Engine.restart(visitor)  # the next message is greeted and shown the menu


def prompt_intro(turn: Turn) -> str:
    turn.say(turn.t("rating_intro"))
    return "rating.element"


def prompt_element(turn: Turn) -> None:
    element = turn.slots["rating"]["element"]
    reply = question(turn.texts, turn.visitor.lang, element, turn.visitor.channel)
    turn.say(reply.text, reply.options)


def _answer(turn: Turn) -> str | None:
    """A score "1"–"4", "lewati" or "berhenti": by button, by number, or in words ("baik",
    "sangat baik", "skip"); other numbers are no answer."""
    text = " ".join(turn.text.casefold().strip(".!").split())
    if text.isdigit() and not turn.inbound.payload:
        return text if text in SCORES else None
    words = {
        turn.texts.get(lang, f"rating_word_{s}").casefold(): s
        for s in SCORES
        for lang in (turn.visitor.lang, "id")
    }
    return words.get(text) or WORDS.get(text) or turn.choice


def handle_element(turn: Turn) -> str:
    choice, state = _answer(turn), turn.slots["rating"]
    if choice is None:
        turn.say(turn.t("rating_unknown"))
        return "rating.element"
    if choice == "berhenti":
        return _finish(turn)
    if choice in SCORES:
        setattr(_rating(turn), f"u{state['element']}", int(choice))
    if state["element"] == ELEMENTS:
        return "rating.comment"
    state["element"] += 1
    return "rating.element"


def prompt_comment(turn: Turn) -> None:
    turn.say(turn.t("rating_comment"), [Option("lewati", turn.t("rating_skip"))])


def handle_comment(turn: Turn) -> str:
    if turn.choice != "lewati" and turn.text:
        _rating(turn).comment = turn.text[:2000]
    return _finish(turn)


def _finish(turn: Turn) -> str:
    _rating(turn).answered_at = utcnow()
    turn.slots.pop("rating", None)
    turn.say(turn.t("rating_thanks"))
    return "menu.main"


def _rating(turn: Turn) -> Rating:
    return turn.session.get(Rating, turn.slots["rating"]["id"])


STATES = {
    "rating.intro": State(prompt_intro),
    "rating.element": State(prompt_element, handle_element),
    "rating.comment": State(prompt_comment, handle_comment),
}
