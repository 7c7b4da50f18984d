"""*Antrian*: queue numbers for walk-in visitors, and the guest-book entry of their visit.

Three of the standards start a walk-in visit with "mengambil nomor antrian" (Kendal, Tarakan,
Bangka Selatan). A visitor at the office takes a number from the bot (or staff register them at
the web desk); numbers count per office, service and day in the office's own time zone, so they
start again at 1 every local morning. Staff call the next number at the desk and the visitor is
told on their channel.

| state           | asks                               | goes to                                |
|-----------------|------------------------------------|----------------------------------------|
| antrian.service | which service, while open          | antrian.take (guest book first)        |
| antrian.take    | (gives the number) back to menu    | menu.main                              |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, format_datetime
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.engine import Notice, Option, Reply, State, Turn
from core.texts import Texts
from core.tickets import add_first_free
from handlers import registration
from office.config import Layanan, Office
from office.workdays import next_opening
from storage.models import Visit, Visitor, utcnow

PREFIX = {Layanan.PERPUSTAKAAN: "P", Layanan.PERMINTAAN_DATA: "D", Layanan.KONSULTASI: "K"}
PROFILE = ("nama", "instansi", "pekerjaan", "email", "telepon", "tujuan")


def label(visit: Visit) -> str:
    """The number as called out and shown: the service letter and three digits, ``D-007``."""
    return f"{PREFIX[Layanan(visit.service)]}-{visit.number:03d}"


def local_day(office: Office, now: dt.datetime) -> dt.date:
    """The office's local date at ``now`` (aware): the day a queue number belongs to."""
    return now.astimezone(office.tz).date()


def take_number(
    session: Session,
    office: Office,
    service: Layanan,
    now: dt.datetime,
    profile: dict[str, Any],
    visitor: Visitor | None = None,
    registered_by: str | None = None,
) -> Visit:
    """The next queue number of ``service`` at ``office`` for the local day of ``now`` (aware),
    written to the guest book with ``profile`` (the guest-book fields in :data:`PROFILE`).
    A visitor already waiting for that service that day keeps their number.

    Two numbers taken at the same instant collide on the unique (office, day, service, number);
    the loser takes the next one.
    """
    day = local_day(office, now)
    if visitor is not None and (held := _waiting(session, office, day, service, visitor)):
        return held
    taken = session.scalar(
        select(func.max(Visit.number)).where(
            Visit.office_code == office.code, Visit.day == day, Visit.service == service.value
        )
    )
    fields = {k: profile.get(k) for k in PROFILE}
    visit = add_first_free(
        session,
        (taken or 0) + 1,
        lambda number: Visit(
            office_code=office.code,
            day=day,
            service=service.value,
            number=number,
            visitor=visitor,
            registered_by=registered_by,
            **fields,
        ),
    )
    if visit is None:
        raise RuntimeError(f"no free queue number for {office.code} {service} {day}")
    return visit


def _waiting(
    session: Session, office: Office, day: dt.date, service: Layanan, visitor: Visitor
) -> Visit | None:
    return session.scalars(
        select(Visit).where(
            Visit.office_code == office.code,
            Visit.day == day,
            Visit.service == service.value,
            Visit.visitor_id == visitor.id,
            Visit.status == "menunggu",
        )
    ).first()


def waiting_before(session: Session, visit: Visit) -> int:
    """How many visitors of the same queue still wait ahead of ``visit``."""
    return session.scalar(
        select(func.count()).where(
            Visit.office_code == visit.office_code,
            Visit.day == visit.day,
            Visit.service == visit.service,
            Visit.status == "menunggu",
            Visit.number < visit.number,
        )
    )


def call_next(
    session: Session, office: Office, service: Layanan, by: str, texts: Texts, now: dt.datetime
) -> tuple[Visit | None, list[Notice]]:
    """Call the lowest waiting number of ``service`` at ``office`` on the local day of ``now``
    (the one called before is then served: ``selesai``) and tell that visitor on their channel.
    Returns the called visit (None when nobody waits) and the notices."""
    day = local_day(office, now)
    queue = (Visit.office_code == office.code, Visit.day == day, Visit.service == service.value)
    for served in session.scalars(select(Visit).where(*queue, Visit.status == "dipanggil")):
        served.status = "selesai"
    visit = session.scalars(
        select(Visit).where(*queue, Visit.status == "menunggu").order_by(Visit.number)
    ).first()
    if visit is None:
        return None, []
    visit.status, visit.called_by, visit.called_at = "dipanggil", by, utcnow()
    if visit.visitor is None:
        return visit, []
    lang = visit.visitor.lang
    text = texts.get(
        lang, "antrian_called", label=label(visit), service=texts.get(lang, f"info_{service}")
    )
    return visit, [Notice.to_visitor(visit.visitor, Reply(text))]


def entry(turn: Turn) -> str:
    """The menu's "take a queue number": only while the office is open."""
    office = turn.office
    opens = next_opening(office, dt.datetime.now(dt.UTC))
    if opens is None:
        return "antrian.service"
    when = format_datetime(
        opens, "EEEE, d MMMM y HH.mm", tzinfo=office.tz, locale=turn.visitor.lang
    )
    turn.say(turn.t("antrian_closed", when=f"{when} {office.zone_abbr}"))
    return "menu.main"


def prompt_service(turn: Turn) -> None:
    services = [s for s in Layanan if s in turn.office.layanan]
    options = [Option(s.value, turn.t(f"info_{s.value}")) for s in services]
    turn.say(turn.t("antrian_ask_service"), [*options, Option("menu", turn.t("menu_back"))])


def handle_service(turn: Turn) -> str:
    choice = turn.choice
    if choice == "menu":
        return "menu.main"
    if choice is None:
        turn.say(turn.t("not_understood"))
        return "antrian.service"
    turn.slots["antrian_service"] = choice
    return registration.first(turn, "antrian.take", "antrian_need_profile")


def prompt_take(turn: Turn) -> None:
    office, visitor = turn.office, turn.visitor
    service = Layanan(turn.slots.pop("antrian_service"))
    profile = {k: getattr(visitor, k) for k in PROFILE}
    visit = take_number(
        turn.session, office, service, dt.datetime.now(dt.UTC), profile, visitor=visitor
    )
    turn.say(
        turn.t(
            "antrian_number",
            label=label(visit),
            service=turn.t(f"info_{service.value}"),
            day=format_date(visit.day, "full", locale=visitor.lang),
            office=office.nama,
            ahead=waiting_before(turn.session, visit),
        ),
        [Option("menu", turn.t("menu_back"))],
    )


def handle_take(_turn: Turn) -> str:
    return "menu.main"


STATES = {
    "antrian.service": State(prompt_service, handle_service),
    "antrian.take": State(prompt_take, handle_take),
}
