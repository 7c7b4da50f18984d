"""The channel-neutral conversation engine.

A channel turns a webhook into an :class:`Inbound`. :meth:`Engine.handle` then, in one database
transaction, records the channel's message id (a repeat is ignored), loads the visitor and the
conversation, runs the handler of the current state (``handlers/``), saves, and writes the
replies to the outbox. The outbox is delivered after the commit (:mod:`core.outbox`): the replies
to a chat with nothing else queued are written already claimed and sent from memory at once
(:class:`Handled`), everything else is looked up by the courier.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from core.address import Address
from core.texts import Texts
from nlu.words import option_for
from office.config import Office, PstConfig
from storage.db import Database
from storage.models import Conversation, InboundMessage, Outbox, Visitor, utcnow

logger = logging.getLogger(__name__)

CALLBACK_DATA_MAX = 64  # bytes; Telegram Bot API, InlineKeyboardButton.callback_data
OFFERED = "_options"  # the slot of the offered options (its name is in stored conversations)
HAND_ONS = 8  # prompts handing on in one turn: more is a loop between states
# How long a claimed outbox row belongs to one sender; then the retry job may send it again.
LEASE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Option:
    """A choice offered to the visitor: ``key`` comes back as a button payload, ``label`` is shown.

    Raises:
        ValueError: ``key`` is empty or longer than Telegram's 64-byte ``callback_data``.
    """

    key: str
    label: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.key.encode()) <= CALLBACK_DATA_MAX:
            raise ValueError(f"option key must be 1-{CALLBACK_DATA_MAX} bytes: {self.key!r}")


@dataclass(frozen=True)
class Attachment:
    """A file to send, by key: ``unduh/<download_id>`` (a watermarked softcopy, stamped when
    first sent) or ``tiket/<path>`` (a file staff attached to a ticket, under the tickets
    folder); ``filename`` is the name the visitor sees."""

    key: str
    filename: str


@dataclass(frozen=True)
class Reply:
    """One message to the visitor: text and, optionally, options to choose from or a file
    (then ``text`` is its caption)."""

    text: str
    options: tuple[Option, ...] = ()
    attachment: Attachment | None = None
    end_thread: bool = False  # the last message of a staff forum topic, which is then closed


@dataclass(frozen=True)
class Inbound:
    """One message from a visitor, whatever the channel.

    ``message_id`` is the channel's id used for de-duplication (``update_id``, ``MessageSid``).
    ``payload`` is a tapped button's key. ``office_code`` is set when the address written to
    decides the office (an office's own WhatsApp number); ``reply_from`` is the address to answer
    from. ``phone`` is the sender's number in E.164 when the channel knows it (WhatsApp ``WaId``).
    ``group`` marks a message in a group chat (the staff chat), ``thread_id`` its forum topic.
    A file sent with the message is named by ``file_id``/``file_name`` (Telegram) or
    ``media_url`` (Twilio); ``file_path`` is where the service stored it (relative to the
    tickets folder); ``file_too_big`` when the channel would not let the bot fetch it.
    ``received_at`` is UTC.
    """

    channel: str
    user_id: str
    chat_id: str
    message_id: str
    text: str = ""
    payload: str | None = None
    display_name: str | None = None
    phone: str | None = None
    office_code: str | None = None
    reply_from: str | None = None
    callback_id: str | None = None
    group: bool = False
    thread_id: int | None = None
    media_url: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    file_path: str | None = None
    file_too_big: bool = False
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Notice:
    """A message to someone other than the sender: a staff chat, a visitor, an email address.

    ``to`` is where it goes (:class:`core.address.Address`); ``kind`` is its message class
    (:data:`core.window.CLASSES`: which approved WhatsApp template stands in for it outside the
    24-hour window) and ``ref`` the ticket number it is about.
    """

    to: Address
    reply: Reply
    reply_from: str | None = None
    lang: str = "id"
    kind: str | None = None
    ref: str | None = None

    @classmethod
    def to_visitor(
        cls, visitor: Visitor, reply: Reply, kind: str | None = None, ref: str | None = None
    ) -> Notice:
        """A notice to ``visitor`` on their channel, in their language, of class ``kind``
        about ticket ``ref``."""
        to = Address(visitor.channel, visitor.chat_id)
        return cls(to, reply, visitor.reply_from, visitor.lang, kind, ref)

    @property
    def channel(self) -> str:
        """The channel it goes out on."""
        return self.to.channel

    @property
    def chat_id(self) -> str:
        """The outbox's ``chat_id`` for it (a topic included)."""
        return self.to.key


@dataclass(frozen=True)
class Claim:
    """An outbox row claimed for sending (its ``attempts`` counting this one)."""

    id: int
    method: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Handled:
    """What :meth:`Engine.handle` left to deliver: ``chats`` whose rows the courier must look
    up (:meth:`core.outbox.Courier.kick`), and ``claims``, the rows for ``chat`` written already
    claimed, in order, to be sent from memory right after the commit
    (:meth:`core.outbox.Courier.send_claimed`). Should the process die before they are sent,
    their claim expires after :data:`LEASE` and the retry job sends them: nothing is lost."""

    chats: set[tuple[str, str]]
    chat: tuple[str, str] | None = None
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class State:
    """One step of a flow: ``prompt`` asks, ``handle`` reads the answer and names the next state.

    ``handle`` returns the next state's name; returning its own name asks again. ``prompt``
    returns None to wait here for the answer, or the name of a state to hand on to, whose prompt
    runs next in the same turn (:meth:`Engine._enter`). A step that only does something and
    goes on (open a ticket, then relay) is such a passing state: it has no ``handle``, since the
    conversation never waits in it.
    """

    prompt: Callable[[Turn], str | None]
    handle: Callable[[Turn], str] | None = None


@dataclass(frozen=True)
class Enter:
    """A flow to start for ``visitor`` from outside a conversation (staff closed a ticket: the
    visitor is asked to rate), returned among the notices of a staff command or a job; the
    engine runs it where it writes them, in their order (:meth:`Engine.enter`). The
    conversation starts afresh with ``slots``; what the prompts say goes to the visitor as
    notices of class ``kind`` about ticket ``ref``."""

    visitor: Visitor
    state: str
    slots: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None
    ref: str | None = None


class Turn:
    """What a handler sees of one inbound message, and where it puts its replies."""

    def __init__(
        self,
        inbound: Inbound,
        visitor: Visitor,
        pst: PstConfig,
        texts: Texts,
        session: Session,
        catalogue: Any = None,
        kb: Any = None,
        channels: frozenset[str] = frozenset(),
        data_dir: Path | None = None,
    ) -> None:
        self.inbound = inbound
        self.visitor = visitor
        self.convo = visitor.conversation
        self.pst = pst
        self.session = session
        self.catalogue = catalogue
        self.kb = kb
        self.channels = channels  # the channels that can deliver (those with a sender)
        self.data_dir = data_dir  # where files naming visitors are kept (erasure deletes them)
        self.texts = texts
        self.replies: list[Reply] = []
        self.notices: list[Notice] = []  # messages to others: staff, email
        # A deep copy: the JSON column is only saved when a different value is assigned back.
        self.slots: dict[str, Any] = copy.deepcopy(self.convo.slots)

    @property
    def office(self) -> Office | None:
        """The office serving this visitor: the only one configured, or the one chosen."""
        if len(self.pst.offices) == 1:
            return self.pst.offices[0]
        try:
            return self.pst.office(self.visitor.office_code or "")
        except KeyError:
            return None

    @property
    def text(self) -> str:
        """The visitor's text, trimmed."""
        return self.inbound.text.strip()

    def t(self, key: str, **values: Any) -> str:
        """The text ``key`` in the visitor's language, filled with ``values``."""
        return self.texts.get(self.visitor.lang, key, **values)

    def say(
        self, text: str, options: Sequence[Option] = (), attachment: Attachment | None = None
    ) -> None:
        """Queue a reply; options offered here are what the next answer is matched against."""
        self.replies.append(Reply(text, tuple(options), attachment))
        if options:
            self.offer(options)

    def offer(self, options: Sequence[Option]) -> None:
        """Match the answer against ``options`` (:attr:`choice`) without saying them: a state
        that reads a word of another state's list ("konsultasi" typed under a ticket list is a
        main-menu choice). Kept until the next state is entered."""
        self.slots[OFFERED] = [[o.key, o.label] for o in options]

    @property
    def offered(self) -> list[list[str]]:
        """The ``[key, label]`` pairs offered by the state the visitor answers (none: [])."""
        return self.slots.get(OFFERED) or []

    @property
    def choice(self) -> str | None:
        """The key of the offered option the visitor picked, by button, number or words: the
        label's words (typos tolerated), a yes or no for an option meaning yes or no ("iya",
        "gak", "👍"), or a usual word for it ("wa aja" for "Lewat chat ini")."""
        offered = self.offered
        keys = [k for k, _ in offered]
        if self.inbound.payload in keys:
            return self.inbound.payload
        text = self.text.rstrip(".").strip()
        if text.isdigit():
            return keys[int(text) - 1] if 1 <= int(text) <= len(offered) else None
        return option_for(text, keys) or _match_label(text, offered)


def _match_label(text: str, offered: list[list[str]]) -> str | None:
    """Match free words to an option label: exact first, then a clearly best fuzzy match."""
    if not text or not offered:
        return None
    norm = _normalize(text)
    labels = {key: _normalize(label) for key, label in offered}
    for key, label in labels.items():
        if norm in (label, _normalize(key)):
            return key
    if len(norm) < 3:  # "ya" is not a typo of "Info layanan"
        return None
    best = process.extract(norm, labels, scorer=fuzz.WRatio, limit=2)
    if best and best[0][1] >= 86 and (len(best) == 1 or best[0][1] - best[1][1] >= 5):
        return best[0][2]
    return None


def _normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


class Engine:
    """Runs flows over stored conversations; ``states`` maps state names to :class:`State`.

    The engine alone sets a conversation's state and the options its answer is matched against:
    a handler names the next state, a prompt may hand on to another, and a flow is started from
    outside a conversation by :meth:`enter` (or an :class:`Enter` among a job's notices).

    ``render(channel, chat_id, reply_from, lang, reply)`` turns a reply into the outbox rows of a
    channel: ``(method, payload)`` pairs. ``former`` maps state names older releases saved
    conversations in to the state such a conversation now waits in.
    """

    def __init__(
        self,
        db: Database,
        pst: PstConfig,
        texts: Texts,
        states: dict[str, State],
        router: Callable[[Turn], str | None],
        render: Callable[[str, str, str | None, str, Reply], list[tuple[str, dict[str, Any]]]],
        former: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.pst = pst
        self.texts = texts
        self.states = states
        self.router = router
        self.render = render
        self.former = dict(former or {})
        self.catalogue: Any = None  # the publication search index, set by the service
        self.kb: Any = None  # the consultation knowledge base, set by the service
        self.channels: frozenset[str] = frozenset()  # channels with a sender, set by the service
        self.data_dir: Path | None = None  # the service's data folder, set by the service

    def handle(self, inbound: Inbound, parked: bool = False) -> Handled:
        """Process ``inbound`` in one transaction; return what it gave to deliver (nothing
        when its message id was seen before). ``parked`` processes a message that
        :meth:`park` kept after a failure (see :func:`first_delivery`).

        The replies are written already claimed (:class:`Handled`) when the sender's chat had
        nothing queued (no pending or held row), so that sending them first keeps the chat's
        order; otherwise they queue behind the others."""
        with self.db.transaction() as session:
            if not first_delivery(session, inbound, parked):
                logger.info("duplicate %s message %s ignored", inbound.channel, inbound.message_id)
                return Handled(set())
            visitor, queued = _load_visitor(session, inbound)
            if queued is not None:
                # Not only when "held": on PostgreSQL the flag comes from the snapshot taken
                # before the visitor's lock was granted, and the courier's gate may have held
                # a pending row meanwhile (it holds rows under the same lock).
                release_held(session, inbound.channel, inbound.chat_id)
            turn = self._turn(inbound, visitor, session)
            self._run(turn)
            turn.convo.slots = turn.slots
            chats, claims = self._enqueue(session, turn, claim=queued is None)
        return Handled(chats, (inbound.channel, inbound.chat_id) if claims else None, claims)

    def _turn(self, inbound: Inbound, visitor: Visitor, session: Session) -> Turn:
        return Turn(
            inbound,
            visitor,
            self.pst,
            self.texts,
            session,
            self.catalogue,
            self.kb,
            self.channels,
            self.data_dir,
        )

    def _run(self, turn: Turn) -> None:
        if turn.convo.state in self.former:  # saved by an older release
            turn.convo.state = self.former[turn.convo.state]
        target = self.router(turn)
        if target is None:
            state = self.states.get(turn.convo.state)
            target = state.handle(turn) if state and state.handle else "menu.main"
        self._enter(turn, target)

    def _enter(self, turn: Turn, name: str) -> None:
        """Enter state ``name`` and run its prompt, and the prompts it hands on to.

        Raises:
            KeyError: no state is called so.
            RuntimeError: prompts handed on more than :data:`HAND_ONS` times (a loop).
        """
        for _ in range(HAND_ONS + 1):
            turn.slots.pop(OFFERED, None)
            turn.convo.state = name
            following = self.states[name].prompt(turn)
            if following is None:
                return
            name = following
        raise RuntimeError(f"prompts hand on in a loop, last to {name!r}")

    def enter(
        self,
        session: Session,
        visitor: Visitor,
        state: str,
        slots: dict[str, Any] | None = None,
        kind: str | None = None,
        ref: str | None = None,
    ) -> list[Notice]:
        """Start a flow for ``visitor`` from outside a conversation: the conversation starts
        afresh with ``slots`` in ``state``, whose prompt runs as if the visitor had just
        arrived there (and hands on like in a turn). Returns what the prompts say, as notices
        to the visitor of class ``kind`` about ticket ``ref``, then their other notices.

        Raises:
            KeyError, RuntimeError: as :meth:`_enter`.
        """
        if visitor.conversation is None:
            visitor.conversation = Conversation(state="", slots={})
        nothing_said = Inbound(visitor.channel, visitor.user_id, visitor.chat_id, message_id="")
        turn = self._turn(nothing_said, visitor, session)
        turn.slots = copy.deepcopy(slots or {})
        self._enter(turn, state)
        turn.convo.slots = turn.slots
        said = [Notice.to_visitor(visitor, reply, kind, ref) for reply in turn.replies]
        return said + turn.notices

    def _entered(self, session: Session, notices: Sequence[Notice | Enter]) -> list[Notice]:
        """``notices`` with each :class:`Enter` replaced by what starting its flow says."""
        done: list[Notice] = []
        for n in notices:
            if isinstance(n, Enter):
                done += self.enter(session, n.visitor, n.state, n.slots, n.kind, n.ref)
            else:
                done.append(n)
        return done

    @staticmethod
    def restart(visitor: Visitor) -> None:
        """Forget where ``visitor`` is in a conversation: their next message is greeted and
        shown the menu like a first one (a flow's later steps expect its earlier answers)."""
        if visitor.conversation is not None:
            visitor.conversation.state, visitor.conversation.slots = "", {}

    def _enqueue(
        self, session: Session, turn: Turn, claim: bool
    ) -> tuple[set[tuple[str, str]], tuple[Claim, ...]]:
        """Write the turn's replies and notices; with ``claim`` the replies to the sender are
        written claimed and returned instead of a chat to kick."""
        inbound, visitor = turn.inbound, turn.visitor
        own = (inbound.channel, inbound.chat_id)
        rows = _callback_answer(inbound)
        sender = inbound.reply_from or visitor.reply_from
        for reply in turn.replies:
            for method, payload in self.render(*own, sender, visitor.lang, reply):
                rows.append((own, method, payload))
        if not claim:
            return self.write(session, rows, turn.notices), ()
        until = utcnow() + LEASE
        values = [
            {"channel": own[0], "chat_id": own[1], "method": method, "payload": payload}
            | {"attempts": 1, "claimed_until": until}
            for _, method, payload in rows
        ]
        ids = _insert_outbox(session, values)
        claims = zip(ids, values, strict=True)
        return self.write(session, [], turn.notices), tuple(
            Claim(i, v["method"], v["payload"], 1) for i, v in claims
        )

    def write(
        self, session: Session, rows: list, notices: Sequence[Notice | Enter]
    ) -> set[tuple[str, str]]:
        """Add ``rows`` (``((channel, chat_id), method, payload)``) and the rendered ``notices``
        to the outbox in ``session`` (the flows they start, :class:`Enter`, run in place);
        returns the chats given something to deliver."""
        added = [(chat, method, payload, None, None) for chat, method, payload in rows]
        for n in self._entered(session, notices):
            for method, payload in self.render(n.channel, n.chat_id, n.reply_from, n.lang, n.reply):
                added.append(((n.channel, n.chat_id), method, payload, n.kind, n.ref))
        _insert_outbox(
            session,
            [
                {"channel": channel, "chat_id": chat_id, "method": method, "payload": payload}
                | {"kind": kind, "ref": ref}
                for (channel, chat_id), method, payload, kind, ref in added
            ],
        )
        return {row[0] for row in added}

    def apologise(self, inbound: Inbound) -> set[tuple[str, str]]:
        """Tell the sender of ``inbound`` that it could not be processed (given up after
        retries) and that they may write again; returns the chat to deliver to."""
        with self.db.transaction() as session:
            visitor = session.scalars(
                select(Visitor).filter_by(channel=inbound.channel, user_id=inbound.user_id)
            ).first()
            lang = visitor.lang if visitor else "id"
            reply = Reply(self.texts.get(lang, "inbound_failed"))
            sender = inbound.reply_from or (visitor.reply_from if visitor else None)
            notice = Notice(Address(inbound.channel, inbound.chat_id), reply, sender, lang)
            return self.write(session, [], [notice])

    def run_job(self, job: Callable[[Session], Sequence[Notice | Enter]]) -> set[tuple[str, str]]:
        """Run a scheduled ``job`` in one transaction and write its notices to the outbox (the
        flows it starts, :class:`Enter`, run in place)."""
        with self.db.transaction() as session:
            return self.write(session, [], job(session))

    def handle_staff(
        self,
        inbound: Inbound,
        command: Callable[[Session, Inbound], Sequence[Notice | Enter]],
        parked: bool = False,
    ) -> set[tuple[str, str]]:
        """Run a staff ``command`` for ``inbound`` (a group message) in one transaction, the same
        way as a visitor's message: repeats ignored, its notices written to the outbox (the
        flows it starts, :class:`Enter`, run in place)."""
        with self.db.transaction() as session:
            if not first_delivery(session, inbound, parked):
                return set()
            return self.write(session, _callback_answer(inbound), command(session, inbound))


_OUTBOX_INSERT = insert(Outbox.__table__).returning(Outbox.id, sort_by_parameter_order=True)


def _insert_outbox(session: Session, values: list[dict[str, Any]]) -> list[int]:
    """Insert outbox rows (column → value, the same columns in each) in one statement, not
    through the unit of work (issue 12: its flush was the largest part of a message's CPU);
    returns their ids, in order."""
    if not values:
        return []
    return list(session.scalars(_OUTBOX_INSERT, values))


def _callback_answer(inbound: Inbound) -> list[tuple[tuple[str, str], str, dict[str, Any]]]:
    """The ``answerCallbackQuery`` row a tapped Telegram button needs (none otherwise)."""
    if not inbound.callback_id:
        return []
    answer = {"callback_query_id": inbound.callback_id}
    return [((inbound.channel, inbound.chat_id), "answerCallbackQuery", answer)]


def release_held(session: Session, channel: str, chat_id: str) -> int:
    """The visitor wrote: their held rows (kept while WhatsApp's 24-hour window was closed)
    are due again, before anything this message produces (rows go out in ``id`` order).
    Returns how many were released. Called only when :func:`_load_visitor` saw rows queued
    for the chat, so that a message to an idle chat does not pay a statement for it."""
    released = session.execute(
        update(Outbox)
        .where(Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.status == "held")
        .values(status="pending", next_attempt_at=utcnow(), claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return released.rowcount


def first_delivery(session: Session, inbound: Inbound, parked: bool = False) -> bool:
    """Record ``inbound``'s message id; False when it was seen before (a re-delivery).

    One ``INSERT … ON CONFLICT DO NOTHING``: a concurrent repeat waits on the unique index and
    then finds the row. With ``parked``, the message's parked row is taken instead (locked and
    marked done), so a retry runs at most once.
    """
    if parked:
        row = session.scalars(
            select(InboundMessage)
            .where(
                InboundMessage.channel == inbound.channel,
                InboundMessage.message_id == inbound.message_id,
                InboundMessage.status == "parked",
            )
            .with_for_update()
        ).first()
        if row is not None:
            row.status, row.payload = "done", None
        return row is not None
    values = {"channel": inbound.channel, "message_id": inbound.message_id, "at": utcnow()}
    return session.execute(_first_seen(_dialect(session)), values).first() is not None


# The hot path's statements are built once per process: SQLAlchemy then finds their compiled
# form without deriving a cache key from a new statement each time (issue 12).


@cache
def _first_seen(dialect: str):
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` of an inbound message id."""
    insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_into(InboundMessage.__table__).values(
        channel=bindparam("channel"),
        message_id=bindparam("message_id"),
        received_at=bindparam("at"),
    )
    return stmt.on_conflict_do_nothing().returning(InboundMessage.id)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_for(session: Session, model: Any):
    """A Core INSERT into ``model``'s table in the session's dialect (PostgreSQL and SQLite both
    offer ``on_conflict_do_nothing``; with ``RETURNING``, no row back means a conflict)."""
    return (pg_insert if _dialect(session) == "postgresql" else sqlite_insert)(model.__table__)


_QUEUED = (  # "held" sorts before "pending"
    select(func.min(Outbox.status))
    .where(
        Outbox.channel == bindparam("channel"),
        Outbox.chat_id == bindparam("chat_id"),
        Outbox.status.in_(("held", "pending")),
    )
    .scalar_subquery()
)
_VISITOR = (
    select(Visitor, _QUEUED)
    .where(Visitor.channel == bindparam("channel"), Visitor.user_id == bindparam("user_id"))
    .options(joinedload(Visitor.conversation))
    .with_for_update(of=Visitor)
)


def _load_visitor(session: Session, inbound: Inbound) -> tuple[Visitor, str | None]:
    """The sender's visitor row, locked, with its conversation, in one select; created on
    first contact (two first messages that arrive together both insert-or-skip, then the
    second waits for the first's lock). Also says what waits in the outbox for the chat:
    ``"held"`` when any row is held, ``"pending"`` when any is pending, else None."""
    key = {"channel": inbound.channel, "user_id": inbound.user_id, "chat_id": inbound.chat_id}
    if (found := session.execute(_VISITOR, key).first()) is None:
        session.execute(
            insert_for(session, Visitor)
            .values(**key, lang="id", created_at=utcnow())
            .on_conflict_do_nothing()
        )
        found = session.execute(_VISITOR, key).one()
    visitor, queued = found
    if visitor.conversation is None:
        visitor.conversation = Conversation(state="", slots={})
    visitor.chat_id = inbound.chat_id
    visitor.display_name = inbound.display_name or visitor.display_name
    visitor.wa_phone = inbound.phone or visitor.wa_phone
    visitor.reply_from = inbound.reply_from or visitor.reply_from
    if inbound.office_code:
        visitor.office_code = inbound.office_code
    visitor.last_inbound_at = utcnow()
    return visitor, queued
