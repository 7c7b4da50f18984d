"""Choosing the language (the global word ``bahasa``); Indonesian is the default.

| state           | asks           | goes to                                   |
|-----------------|----------------|-------------------------------------------|
| language.choose | which language | the state the visitor came from, or menu  |
|                 |                | (office.choose while no office is chosen) |
"""

from __future__ import annotations

from core.engine import Option, State, Turn


def prompt(turn: Turn) -> None:
    options = [Option(code, turn.texts.get(code, "language_name")) for code in turn.texts.languages]
    turn.say(turn.t("language_prompt"), options)


def handle(turn: Turn) -> str:
    lang = turn.choice
    if lang is None:
        turn.say(turn.t("language_unknown"))
        return "language.choose"
    turn.visitor.lang = lang
    turn.say(turn.t("language_set"))
    back = turn.slots.pop("_return", None) or "menu.main"
    return back if turn.office else "office.choose"


STATES = {"language.choose": State(prompt, handle)}
