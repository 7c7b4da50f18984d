"""Choosing the BPS office that serves the visitor (skipped when only one is configured).

| state         | asks          | goes to   |
|---------------|---------------|-----------|
| office.choose | which office  | menu.main |
"""

from __future__ import annotations

from core.engine import Option, State, Turn
from handlers import intents


def prompt(turn: Turn) -> None:
    turn.say(turn.t("office_prompt"), [Option(o.code, o.nama) for o in turn.pst.offices])


def handle(turn: Turn) -> str:
    code = turn.choice
    if code is None:
        if target := intents.at_office(turn):
            return target
        pending = "_pending" in turn.slots
        turn.say(turn.t("nlu_office_first" if pending else "office_unknown"))
        return "office.choose"
    target = intents.set_office(turn, code)
    pending = turn.slots.pop("_pending", None)
    return intents.resume(turn, pending) if pending else target


STATES = {"office.choose": State(prompt, handle)}
