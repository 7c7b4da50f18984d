"""Choosing the BPS office that serves the visitor (skipped when only one is configured).

| state         | asks          | goes to   |
|---------------|---------------|-----------|
| office.choose | which office  | menu.main |
"""

from __future__ import annotations

from bot.engine import Option, State, Turn


def prompt(turn: Turn) -> None:
    turn.say(turn.t("office_prompt"), [Option(o.code, o.nama) for o in turn.pst.offices])


def handle(turn: Turn) -> str:
    code = turn.choice
    if code is None:
        turn.say(turn.t("office_unknown"))
        return "office.choose"
    turn.visitor.office_code = code
    office = turn.pst.office(code)
    turn.say(turn.t("office_set", office=office.nama, unit=office.unit))
    return "menu.main"


STATES = {"office.choose": State(prompt, handle)}
