"""*Perpustakaan*: search the catalogue, read a publication online, download a watermarked
softcopy, request a softcopy that is not on hand, or reserve the printed copy for a visit.

The steps follow the library standards (``docs/standards/*perpustakaan*``, online procedure:
register, search, read, download the watermarked softcopy; walk-in: printed library). Downloads,
requests and reservations need the guest book first (online requirement: an active email).

| state                  | asks                              | goes to                           |
|------------------------|-----------------------------------|-----------------------------------|
| library.query          | title or keywords                 | library.results, library.nomatch  |
| library.results        | which publication / more / all    | library.detail, library.query     |
| library.nomatch        | all offices / request / consult   | library.results, library.request  |
| library.detail         | read / download / request / print | library.download, library.request,|
|                        |                                   | library.reserve_day (via the      |
|                        |                                   | guest book when it is missing)    |
| library.download       | (sends the stamped PDF, then asks | rating.intro (hands on), or       |
|                        | for a rating) next?               | library.query, menu.main          |
| library.request        | (makes a PS ticket) next?         | library.query, menu.main          |
| library.reserve_day    | which working day                 | library.reserve_time              |
| library.reserve_time   | which hour                        | library.after                     |
| library.after          | search again / menu               | library.query, menu.main          |
"""

from __future__ import annotations

import datetime as dt
import secrets

from babel.dates import format_date, format_time

from catalogue.names import pdf_filename, short_labels
from core.engine import Attachment, Option, State, Turn
from core.tickets import new_ticket
from handlers import consultation, rating, registration, staff
from office.config import Layanan, Mode
from office.dates import shown_date, shown_moment
from office.workdays import bookable_days, visit_slots
from storage.models import Download, Publication

PAGE = 5
ABSTRACT_MAX = 300
QUERY_MAX = 200


def _lib(turn: Turn) -> dict:
    return turn.slots.setdefault("lib", {})


def prompt_query(turn: Turn) -> None:
    turn.say(turn.t("lib_ask_query", office=turn.office.nama), [_menu_option(turn)])


def handle_query(turn: Turn) -> str:
    if turn.choice == "menu":
        return "menu.main"
    query = " ".join(turn.text.split())[:QUERY_MAX]
    if sum(ch.isalnum() for ch in query) < 2:
        turn.say(turn.t("lib_bad_query"))
        return "library.query"
    _lib(turn).update(q=query, all=False, page=0)
    return _search(turn)


def _search(turn: Turn) -> str:
    lib = _lib(turn)
    domain = None if lib["all"] else turn.office.code
    result = turn.catalogue.search(lib["q"], domain=domain, limit=PAGE, offset=lib["page"] * PAGE)
    if not result.hits:
        return "library.nomatch"
    lib["hits"] = [[hit.id, hit.title] for hit in result.hits]
    lib["total"] = result.total
    return "library.results"


def prompt_results(turn: Turn) -> None:
    lib = _lib(turn)
    first = lib["page"] * PAGE + 1
    where = turn.t("lib_all_offices") if lib["all"] else turn.office.nama
    labels = short_labels([title for _, title in lib["hits"]])
    options = [
        Option(f"p{pid}", label) for (pid, _), label in zip(lib["hits"], labels, strict=True)
    ]
    if lib["total"] > first - 1 + len(lib["hits"]):
        options.append(Option("lainnya", turn.t("lib_more")))
    if not lib["all"]:
        options.append(Option("semua", turn.t("lib_search_all")))
    options += [Option("cari", turn.t("lib_search_again")), _menu_option(turn)]
    turn.say(
        turn.t(
            "lib_results",
            total=lib["total"],
            query=lib["q"],
            where=where,
            first=first,
            last=first + len(lib["hits"]) - 1,
        ),
        options,
    )


def handle_results(turn: Turn) -> str:
    choice, lib = turn.choice, _lib(turn)
    if choice and choice.startswith("p"):
        lib["pub"] = int(choice[1:])
        return "library.detail"
    if choice == "lainnya":
        lib["page"] += 1
        return _search(turn)
    if choice == "semua":
        lib.update(all=True, page=0)
        return _search(turn)
    if choice in ("cari", "menu"):
        return "library.query" if choice == "cari" else "menu.main"
    return handle_query(turn)  # typed words: a new search


def prompt_nomatch(turn: Turn) -> None:
    lib = _lib(turn)
    options = [] if lib["all"] else [Option("semua", turn.t("lib_search_all"))]
    options += [
        Option("minta", turn.t("lib_request_option")),
        Option("konsultasi", turn.t("menu_konsultasi")),
        Option("cari", turn.t("lib_search_again")),
        _menu_option(turn),
    ]
    turn.say(turn.t("lib_nomatch", query=lib["q"]), options)


def handle_nomatch(turn: Turn) -> str:
    choice = turn.choice
    if choice == "semua":
        _lib(turn).update(all=True, page=0)
        return _search(turn)
    if choice == "minta":
        _lib(turn).pop("pub", None)
        return registration.first(turn, "library.request")
    if choice == "konsultasi":
        return consultation.entry(turn)
    if choice in ("cari", "menu"):
        return "library.query" if choice == "cari" else "menu.main"
    return handle_query(turn)


def _publication(turn: Turn) -> Publication:
    return turn.session.get(Publication, _lib(turn)["pub"])


def prompt_detail(turn: Turn) -> None:
    pub = _publication(turn)
    options = []
    if pub.url or pub.pdf_url:
        options.append(Option("baca", turn.t("lib_read_online")))
    if pub.local_file or pub.pdf_url:
        options.append(Option("unduh", turn.t("lib_download")))
    else:
        options.append(Option("minta", turn.t("lib_request_option")))
    if pub.printed_copy:
        options.append(Option("pinjam", turn.t("lib_reserve")))
    if _lib(turn).get("hits"):
        options.append(Option("kembali", turn.t("lib_back_to_results")))
    options.append(_menu_option(turn))
    turn.say(detail_text(turn, pub), options)


def handle_detail(turn: Turn) -> str:
    choice = turn.choice
    if choice == "baca":
        pub = _publication(turn)
        turn.say(turn.t("lib_read_link", title=pub.title, url=pub.url or pub.pdf_url))
        return "library.detail"
    targets = {
        "unduh": "library.download",
        "minta": "library.request",
        "pinjam": "library.reserve_day",
    }
    if choice in targets:
        return registration.first(turn, targets[choice])
    if choice == "kembali":
        return "library.results"
    if choice == "menu":
        return "menu.main"
    turn.say(turn.t("not_understood"))
    return "library.detail"


def detail_text(turn: Turn, pub: Publication) -> str:
    """Title, year, release date, ISSN, size and a short abstract of ``pub``."""
    lines = [pub.title, ""]
    facts = [
        (turn.t("lib_year"), pub.year),
        (turn.t("lib_release"), _date(turn, pub.rl_date) if pub.rl_date else None),
        ("ISSN/ISBN", pub.issn),
        (turn.t("lib_catalogue_no"), pub.kat_no),
        (turn.t("lib_size"), pub.size),
    ]
    lines += [f"{label}: {value}" for label, value in facts if value]
    if pub.abstract:
        abstract = (
            pub.abstract
            if len(pub.abstract) <= ABSTRACT_MAX
            else (pub.abstract[:ABSTRACT_MAX].rsplit(" ", 1)[0] + " …")
        )
        lines += ["", abstract]
    if not pub.verified:
        lines += ["", turn.t("lib_modelled")]
    return "\n".join(lines)


def prompt_download(turn: Turn) -> str | None:
    pub, visitor = _publication(turn), turn.visitor
    download = Download(
        download_id=secrets.token_hex(8),
        visitor_id=visitor.id,
        publication_id=pub.id,
        office_code=turn.office.code,
    )
    turn.session.add(download)
    turn.say(
        turn.t("lib_download_caption", title=pub.title, name=visitor.nama, id=download.download_id),
        attachment=Attachment(f"unduh/{download.download_id}", pdf_filename(pub.title)),
    )
    if survey := rating.start(turn, "perpustakaan", f"unduh/{download.download_id}"):
        return survey
    _after_options(turn, "lib_download_after")
    return None


def prompt_request(turn: Turn) -> None:
    lib, office = _lib(turn), turn.office
    pub = _publication(turn) if lib.get("pub") else None
    wanted = pub.title if pub else lib.get("q", "")
    ticket = new_ticket(
        turn.session,
        "PS",
        office,
        turn.visitor,
        f"Permintaan softcopy: {wanted}",
        {"publication_id": pub.id if pub else None, "query": lib.get("q")},
    )
    staff.notify(turn, office, "staff_softcopy_request", number=ticket.number, title=wanted)
    turn.say(
        turn.t("lib_request_made", number=ticket.number, title=wanted, email=turn.visitor.email)
    )
    _after_options(turn, "lib_after_prompt")


def prompt_reserve_day(turn: Turn) -> None:
    days = bookable_days(turn.office, dt.datetime.now(dt.UTC), 5)
    turn.say(
        turn.t("lib_reserve_day", title=_publication(turn).title),
        [Option(d.isoformat(), shown_date(d, turn.visitor.lang)) for d in days]
        + [_menu_option(turn)],
    )


def handle_reserve_day(turn: Turn) -> str:
    if turn.choice == "menu":
        return "menu.main"
    if turn.choice is None:
        turn.say(turn.t("not_understood"))
        return "library.reserve_day"
    _lib(turn)["day"] = turn.choice
    return "library.reserve_time"


def prompt_reserve_time(turn: Turn) -> None:
    turn.say(
        turn.t("lib_reserve_time", day=shown_date(_day(turn), turn.visitor.lang)),
        [
            Option(f"{t:%H:%M}", format_time(t, "short", locale=turn.visitor.lang))
            for t in _slots(turn)
        ],
    )


def handle_reserve_time(turn: Turn) -> str:
    if turn.choice is None:
        turn.say(turn.t("not_understood"))
        return "library.reserve_time"
    office, pub = turn.office, _publication(turn)
    when = dt.datetime.combine(_day(turn), dt.time.fromisoformat(turn.choice), office.tz)
    shown = shown_moment(when, office.tz, office.zone_abbr, turn.visitor.lang)
    ticket = new_ticket(
        turn.session,
        "PC",
        office,
        turn.visitor,
        f"Baca tercetak: {pub.title}",
        {"publication_id": pub.id, "visit_at": when.isoformat()},
        due_at=when,
    )
    staff.notify(
        turn,
        office,
        "staff_print_reservation",
        number=ticket.number,
        title=pub.title,
        when=shown_moment(when, office.tz, office.zone_abbr, "id"),  # staff read Indonesian
    )
    requirements = (
        office.layanan[Layanan.PERPUSTAKAAN].persyaratan.for_mode(Mode.LANGSUNG)
        if (Layanan.PERPUSTAKAAN in office.layanan)
        else []
    )
    turn.say(
        turn.t(
            "lib_reserved", number=ticket.number, title=pub.title, when=shown, address=office.alamat
        )
        + "".join(f"\n{n}. {r}" for n, r in enumerate(requirements, 1))
    )
    return "library.after"


def _day(turn: Turn) -> dt.date:
    return dt.date.fromisoformat(_lib(turn)["day"])


def _slots(turn: Turn) -> list[dt.time]:
    return visit_slots(turn.office, _day(turn), dt.datetime.now(dt.UTC))


def prompt_after(turn: Turn) -> None:
    _after_options(turn, "lib_after_prompt")


def _after_options(turn: Turn, key: str) -> None:
    turn.say(turn.t(key), [Option("cari", turn.t("lib_search_again")), _menu_option(turn)])


def handle_after(turn: Turn) -> str:
    if turn.choice in ("cari", "menu"):
        return "library.query" if turn.choice == "cari" else "menu.main"
    return handle_query(turn)


def _date(turn: Turn, day: dt.date) -> str:
    return format_date(day, format="long", locale=turn.visitor.lang)  # a publication's date


def _menu_option(turn: Turn) -> Option:
    return Option("menu", turn.t("menu_back"))


STATES = {
    "library.query": State(prompt_query, handle_query),
    "library.results": State(prompt_results, handle_results),
    "library.nomatch": State(prompt_nomatch, handle_nomatch),
    "library.detail": State(prompt_detail, handle_detail),
    "library.download": State(prompt_download, handle_after),
    "library.request": State(prompt_request, handle_after),
    "library.reserve_day": State(prompt_reserve_day, handle_reserve_day),
    "library.reserve_time": State(prompt_reserve_time, handle_reserve_time),
    "library.after": State(prompt_after, handle_after),
}
