"""The engine owns conversation state: prompts hand on, flows start from outside a conversation
(:class:`Enter`), old state names still load, and no handler sets the state or the offered
options itself. The state table's names are checked against every name the handlers use."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import handlers
from core.engine import Engine, Enter, Inbound, Notice, Option, Reply, State, Turn
from core.texts import Texts
from storage.models import Outbox, Visitor

HANDLERS = Path(handlers.__file__).parent
STATE_NAME = re.compile(r"^([a-z_]+)\.[a-z_]+$")


def _test_states() -> dict[str, State]:
    """A small flow: ``t.start`` says "one" and hands on to ``t.wait``, which asks with options
    and echoes the key picked; ``t.ping`` and ``t.pong`` hand on to each other for ever."""

    def start(turn: Turn) -> str:
        turn.say("one")
        return "t.wait"

    def wait(turn: Turn) -> None:
        turn.say("two", [Option("a", "Alpha"), Option("b", "Beta")])

    def picked(turn: Turn) -> str:
        turn.say(f"picked {turn.choice}")
        return "t.wait"

    return {
        "t.start": State(start),
        "t.wait": State(wait, picked),
        "t.ping": State(lambda turn: "t.pong"),
        "t.pong": State(lambda turn: "t.ping"),
    }


def _engine(db, pst, former: dict[str, str] | None = None) -> Engine:
    def route(turn: Turn) -> str | None:
        return "t.start" if turn.convo.state == "" else None

    def render(channel, chat_id, reply_from, lang, reply: Reply) -> list[tuple[str, dict]]:
        options = [o.key for o in reply.options]
        return [("send", {"text": reply.text, "options": options})]

    return Engine(db, pst, Texts.load(), _test_states(), route, render, former)


def _inbound(n: int, text: str = "", payload: str | None = None) -> Inbound:
    return Inbound("telegram", "77", "77", f"m{n}", text=text, payload=payload)


def _outbox(db) -> list[tuple[str, str | None, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
        return [(r.payload["text"], r.kind, r.ref) for r in rows]


def _conversation(db) -> tuple[str, dict[str, Any]]:
    with db.transaction() as session:
        convo = session.scalars(select(Visitor)).one().conversation
        return convo.state, convo.slots


def test_a_prompt_hands_on_and_the_engine_keeps_what_was_offered(db, pst):
    engine = _engine(db, pst)
    engine.handle(_inbound(1, "halo"))
    assert _outbox(db) == [("one", None, None), ("two", None, None)]
    assert _conversation(db) == ("t.wait", {"_options": [["a", "Alpha"], ["b", "Beta"]]})
    engine.handle(_inbound(2, "beta"))  # matched against what t.wait offered
    assert _outbox(db)[2:] == [("picked b", None, None), ("two", None, None)]


def test_prompts_handing_on_in_a_loop_fail_and_change_nothing(db, pst):
    engine = _engine(db, pst)
    engine.handle(_inbound(1, "halo"))
    with db.transaction() as session:
        session.scalars(select(Visitor)).one().conversation.state = "t.ping"
    before = _outbox(db)
    with pytest.raises(RuntimeError, match="loop"):
        engine.run_job(lambda session: [Enter(session.scalars(select(Visitor)).one(), "t.ping")])
    assert _outbox(db) == before
    assert _conversation(db)[0] == "t.ping"


def test_a_flow_started_from_outside_speaks_in_notices_in_their_order(db, pst):
    engine = _engine(db, pst)
    engine.handle(_inbound(1, "halo"))
    engine.handle(_inbound(2, "a"))
    count = len(_outbox(db))

    def staff_closes(session) -> list[Notice | Enter]:
        visitor = session.scalars(select(Visitor)).one()
        closed = Notice.to_visitor(visitor, Reply("closed"), "konsultasi_ditutup", "KS-1")
        return [closed, Enter(visitor, "t.start", {"asked": 1}, "undangan_penilaian", "KS-1")]

    engine.run_job(staff_closes)
    assert _outbox(db)[count:] == [
        ("closed", "konsultasi_ditutup", "KS-1"),
        ("one", "undangan_penilaian", "KS-1"),
        ("two", "undangan_penilaian", "KS-1"),
    ]
    state, slots = _conversation(db)  # started afresh: nothing of the earlier flow is kept
    assert (state, slots) == ("t.wait", {"asked": 1, "_options": [["a", "Alpha"], ["b", "Beta"]]})
    engine.handle(_inbound(3, "alpha"))
    assert _outbox(db)[-2][0] == "picked a"


def test_a_conversation_saved_under_a_former_name_goes_on_in_its_new_state(db, pst):
    engine = _engine(db, pst, former={"t.old": "t.wait"})
    engine.handle(_inbound(1, "halo"))
    with db.transaction() as session:
        session.scalars(select(Visitor)).one().conversation.state = "t.old"
    engine.handle(_inbound(2, "b"))
    assert _outbox(db)[-2][0] == "picked b"
    assert _conversation(db)[0] == "t.wait"


def test_restart_forgets_where_the_visitor_was(db, pst):
    engine = _engine(db, pst)
    engine.handle(_inbound(1, "halo"))
    with db.transaction() as session:
        Engine.restart(session.scalars(select(Visitor)).one())
    assert _conversation(db) == ("", {})


# --- what the handlers may do ------------------------------------------------------------------


def _sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(HANDLERS.glob("*.py"))}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string nodes that are docstrings or other bare string statements."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def named_states(source: str, flows: set[str]) -> tuple[set[str], set[str]]:
    """The state names a handler module's code uses ("menu.main": a string of the form
    ``flow.step`` of a known ``flow``), and the prefixes of names it builds
    (f"registration.{field}" → "registration."). Docstrings are left out."""
    tree = ast.parse(source)
    skipped = _docstrings(tree)
    names, prefixes = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and first.value.rstrip(".") in flows:
                prefixes.add(first.value)
            skipped.update(id(v) for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = STATE_NAME.match(node.value)
            if id(node) not in skipped and match and match[1] in flows:
                names.add(node.value)
    return names, prefixes


def _flows() -> set[str]:
    return {name.split(".")[0] for name in handlers.STATES}


def test_every_state_name_the_handlers_use_exists():
    flows = _flows()
    assert {"menu", "rating", "handover", "registration"} <= flows
    unknown, used = [], set()
    for module, source in _sources().items():
        names, prefixes = named_states(source, flows)
        used |= names
        unknown += [f"{module}: {name}" for name in sorted(names - set(handlers.STATES))]
        for prefix in prefixes:
            if not any(state.startswith(prefix) for state in handlers.STATES):
                unknown.append(f"{module}: {prefix}…")
    assert unknown == []
    assert {"menu.main", "rating.intro", "handover.active", "consultation.open"} <= used
    assert set(handlers.FORMER.values()) <= set(handlers.STATES)
    assert all(STATE_NAME.match(name) for name in handlers.STATES)


def test_the_state_name_check_finds_a_misspelt_target():
    source = '''
"""Docstring mentioning menu.mian is prose."""
def handle(turn):
    if turn.text:
        return f"registration.{turn.text}"
    return "menu.mian"
NOT_A_STATE = "config.yaml"
'''
    names, prefixes = named_states(source, _flows())
    assert names == {"menu.mian"}
    assert prefixes == {"registration."}


def test_passing_states_hand_on_and_waiting_states_read_answers():
    passing = {name for name, state in handlers.STATES.items() if state.handle is None}
    assert passing == {"rating.intro", "consultation.open", "complaint.submit"}
    assert set(handlers.FORMER) <= passing  # saved there only by releases before hand-ons


def writes_of_engine_state(source: str) -> list[str]:
    """Where a module sets a conversation's state (``x.state = …``, also in a tuple, or by
    ``setattr``) or names the offered-options slot ``"_options"``: the engine's to do."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            if any(isinstance(e, ast.Attribute) and e.attr == "state" for e in elements):
                found.append(f"line {node.lineno}: sets .state")
        call = node if isinstance(node, ast.Call) else None
        if call and getattr(call.func, "id", None) == "setattr" and _names_state(call.args):
            found.append(f"line {node.lineno}: setattr state")
        if isinstance(node, ast.Constant) and node.value == "_options":
            found.append(f"line {node.lineno}: names _options")
    return found


def _names_state(args: list[ast.expr]) -> bool:
    return any(isinstance(a, ast.Constant) and a.value == "state" for a in args)


def test_no_handler_sets_the_state_or_the_offered_options():
    found = {m: w for m, s in _sources().items() if (w := writes_of_engine_state(s))}
    assert found == {}


def test_the_state_write_check_finds_each_kind_of_write():
    source = """
convo.state, convo.slots = "", {}
visitor.conversation.state = "rating.element"
setattr(convo, "state", "x")
turn.slots["_options"] = []
state = turn.convo.state  # reading is fine
"""
    assert writes_of_engine_state(source) == [
        "line 2: sets .state",
        "line 3: sets .state",
        "line 4: setattr state",
        "line 5: names _options",
    ]
