"""*Permintaan data*: a data request, from the visitor's own words to a ticket with a due date.

Follows steps 3–10 of the Ketapang standard (``docs/standards/ketapang-perpustakaan-dan-
permintaan-data.txt``): identify the need, check availability (the catalogue first: a matching
publication can close the request at once), ask the file form, take contact details, and finish
"paling lambat 3 sampai 5 hari kerja". Details already in the visitor's words ("jumlah penduduk
per kecamatan ketapang 2024 excel") are taken from them and not asked again.

| state                  | asks                                 | goes to                        |
|------------------------|--------------------------------------|--------------------------------|
| data_request.need      | what data, in own words              | .catalogue or the first detail |
| data_request.catalogue | one of these publications, or go on  | library.detail, next detail    |
| data_request.<detail>  | subject, level, period, format,      | the next missing detail, then  |
|                        | purpose, notify                      | .confirm                       |
| data_request.confirm   | send / change a part / start again   | .submit (guest book first when |
|                        |                                      | missing), .pick, .need         |
| data_request.pick      | which part to change                 | that detail, then .confirm     |
| data_request.submit    | (makes the PD ticket) next?          | status.list, menu.main         |
"""

from __future__ import annotations

import datetime as dt

from catalogue.names import short_labels
from core.engine import Option, State, Turn
from core.tickets import new_ticket
from handlers import registration, staff, status
from handlers.registration import TUJUAN
from nlu.slots import FORMATS, LEVELS, SUBJECTS, data_details
from office.config import Layanan
from office.dates import shown_date
from office.workdays import deadline, due_at

NOTIFY = ("chat", "email", "keduanya")
DETAILS = ("subject", "level", "period", "format", "purpose", "notify")


def _dr(turn: Turn) -> dict:
    return turn.slots.setdefault("dr", {})


def prompt_need(turn: Turn) -> None:
    turn.say(turn.t("dr_ask_need"), [Option("menu", turn.t("menu_back"))])


def handle_need(turn: Turn) -> str:
    if turn.choice == "menu":
        return "menu.main"
    return take_need(turn, turn.text)


def take_need(turn: Turn, text: str) -> str:
    """Take ``text`` as the visitor's need (with the details it already says) and go on."""
    need = " ".join(text.split())[:500]
    if sum(ch.isalpha() for ch in need) < 5:
        turn.say(turn.t("dr_bad_need"))
        return "data_request.need"
    turn.slots["dr"] = {"need": need, **data_details(need)}
    hits = _in_catalogue(turn, need)
    if hits:
        turn.slots["dr"]["hits"] = [[h.id, h.title] for h in hits]
        return "data_request.catalogue"
    return _next(turn)


def _in_catalogue(turn: Turn, need: str) -> list:
    """Publications of the office that may hold the data: matches of the visitor's words, else
    the office's *Dalam Angka* of the year asked (the yearbook holds the standard tables)."""
    search = turn.catalogue.search
    hits = search(need, domain=turn.office.code, limit=3).hits
    if not hits and (year := _dr(turn).get("period", "")[:4]):
        hits = search(f"dalam angka {year}", domain=turn.office.code, limit=3).hits
    return hits


def _next(turn: Turn) -> str:
    if "email" not in turn.channels:  # no email sender here: the chat is the only way to tell
        _dr(turn).setdefault("notify", "chat")
    missing = [d for d in DETAILS if d not in _dr(turn)]
    return f"data_request.{missing[0]}" if missing else "data_request.confirm"


def prompt_catalogue(turn: Turn) -> None:
    hits = _dr(turn)["hits"]
    labels = short_labels([title for _, title in hits])
    options = [Option(f"p{pid}", label) for (pid, _), label in zip(hits, labels, strict=True)]
    options.append(Option("lanjut", turn.t("dr_continue")))
    turn.say(turn.t("dr_in_catalogue"), options)


def handle_catalogue(turn: Turn) -> str:
    choice = turn.choice
    if choice and choice.startswith("p"):
        turn.slots["lib"] = {"pub": int(choice[1:])}
        return "library.detail"
    if choice == "lanjut":
        return _next(turn)
    turn.say(turn.t("not_understood"))
    return "data_request.catalogue"


def _label_key(detail: str, value: str) -> str:
    # The purposes are the guest book's (``tujuan_*`` texts).
    return f"tujuan_{value}" if detail == "purpose" else f"dr_{detail}_{value}"


def _detail_state(detail: str, keys: tuple[str, ...], free_text: bool) -> State:
    """A state asking ``detail`` with options ``keys``; typed words accepted when ``free_text``."""

    def prompt(turn: Turn) -> None:
        options = [Option(k, turn.t(_label_key(detail, k))) for k in keys]
        turn.say(turn.t(f"dr_ask_{detail}"), options)

    def handle(turn: Turn) -> str:
        choice = turn.choice
        if choice and choice != "lainnya":
            _dr(turn)[detail] = choice
        elif free_text and 3 <= len(turn.text) <= 200:
            _dr(turn)[detail] = " ".join(turn.text.split())
        else:
            turn.say(turn.t(f"dr_bad_{detail}"))
            return f"data_request.{detail}"
        return _next(turn)

    return State(prompt, handle)


def prompt_confirm(turn: Turn) -> None:
    options = [
        Option("kirim", turn.t("dr_send")),
        Option("ubah", turn.t("dr_change")),
        Option("ulang", turn.t("dr_restart")),
        Option("menu", turn.t("menu_back")),
    ]
    turn.say(turn.t("dr_confirm") + "\n\n" + summary(turn, _dr(turn)), options)


def handle_confirm(turn: Turn) -> str:
    if turn.choice == "kirim":
        purpose = _dr(turn)["purpose"]  # the guest book's purpose too: not asked twice
        tujuan = turn.texts.get("id", f"tujuan_{purpose}") if purpose in TUJUAN else purpose
        return registration.first(turn, "data_request.submit", known={"tujuan": tujuan})
    if turn.choice == "ubah":
        return "data_request.pick"
    if turn.choice == "ulang":
        turn.slots.pop("dr", None)
        return "data_request.need"
    if turn.choice == "menu":
        return "menu.main"
    turn.say(turn.t("not_understood"))
    return "data_request.confirm"


def prompt_pick(turn: Turn) -> None:
    options = [Option(d, turn.t(f"dr_label_{d}")) for d in DETAILS if _changeable(turn, d)]
    turn.say(turn.t("dr_pick"), options)


def handle_pick(turn: Turn) -> str:
    """The part chosen is asked again (the others are kept); then the summary again."""
    if turn.choice is None:
        turn.say(turn.t("not_understood"))
        return "data_request.pick"
    _dr(turn).pop(turn.choice, None)
    return f"data_request.{turn.choice}"


def _changeable(turn: Turn, detail: str) -> bool:
    return detail != "notify" or "email" in turn.channels  # the chat is the only way otherwise


def summary(turn: Turn, dr: dict, lang: str | None = None) -> str:
    """The request as "Label: value" lines, in ``lang`` (the visitor's by default)."""
    lang = lang or turn.visitor.lang
    lines = [f"{turn.texts.get(lang, 'dr_label_need')}: {dr['need']}"]
    for detail in DETAILS:
        key = _label_key(detail, dr[detail])
        shown = turn.texts.get(lang, key) if key in turn.texts.catalogues["id"] else dr[detail]
        lines.append(f"{turn.texts.get(lang, f'dr_label_{detail}')}: {shown}")
    return "\n".join(lines)


def prompt_submit(turn: Turn) -> None:
    office, dr = turn.office, turn.slots.pop("dr")
    dr.pop("hits", None)
    due = deadline(office, Layanan.PERMINTAAN_DATA, dt.datetime.now(dt.UTC))
    ticket = new_ticket(
        turn.session, "PD", office, turn.visitor, dr["need"], dr, due_at=due_at(office, due)
    )
    take = Option(f"/ambil {ticket.number}", turn.texts.get("id", "staff_take_button"))
    staff.notify(
        turn,
        office,
        "staff_data_request",
        [take],
        number=ticket.number,
        due=shown_date(due, "id") if due else turn.texts.get("id", "staff_no_deadline"),
        summary=summary(turn, dr, "id"),
    )
    if due:
        said = turn.t("dr_submitted", number=ticket.number, due=shown_date(due, turn.visitor.lang))
    else:  # the office's standard promises no time for data requests
        said = turn.t("dr_submitted_no_due", number=ticket.number)
    turn.say(said, [Option("status", turn.t("menu_status")), Option("menu", turn.t("menu_back"))])


def handle_submitted(turn: Turn) -> str:
    if turn.choice == "status":
        return "status.list"
    return status.to_menu(turn)


STATES = {
    "data_request.need": State(prompt_need, handle_need),
    "data_request.catalogue": State(prompt_catalogue, handle_catalogue),
    "data_request.subject": _detail_state("subject", (*SUBJECTS, "lainnya"), free_text=True),
    "data_request.level": _detail_state("level", tuple(LEVELS), free_text=False),
    "data_request.period": _detail_state("period", ("terbaru", "5tahun"), free_text=True),
    "data_request.format": _detail_state("format", tuple(FORMATS), free_text=False),
    "data_request.purpose": _detail_state("purpose", TUJUAN, free_text=True),
    "data_request.notify": _detail_state("notify", NOTIFY, free_text=False),
    "data_request.confirm": State(prompt_confirm, handle_confirm),
    "data_request.pick": State(prompt_pick, handle_pick),
    "data_request.submit": State(prompt_submit, handle_submitted),
}
