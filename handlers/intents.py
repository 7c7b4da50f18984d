"""Free text understood (``nlu/``): a visitor's sentence at the main menu, at the office question
or in the middle of a flow goes to the service it asks for, with what it already says taken.

| state         | asks                                  | goes to                              |
|---------------|---------------------------------------|--------------------------------------|
| nlu.clarify   | which of the two or three likeliest   | the service chosen, menu.main        |
|               | services was meant                    |                                      |
| nlu.switch    | leave the flow for another service?   | that service, or back to the flow    |
| nlu.type_own  | the visitor's own words after         | the state that offered "Lainnya"     |
|               | "Lainnya (ketik sendiri)"             |                                      |
"""

from __future__ import annotations

from core.engine import Option, State, Turn
from handlers import consultation, data_request, library
from nlu import Understanding, understand
from nlu.normalize import normalize
from storage.models import NluMiss

ACT = 0.5  # below this the visitor is asked which service they meant,
MARGIN = 0.2  # and also when the second likeliest intent is this close
SWITCH = 0.8  # mid-flow, only this sure a message leaves the flow (after asking)
OFFERED = 0.12  # an intent this likely is offered when clarifying
SOCIAL = 0.25  # with no service that likely, the likeliest other intent is answered from this
SERVICES = {
    "info_layanan": "menu_info",
    "buku_tamu": "menu_bukutamu",
    "perpustakaan": "menu_perpustakaan",
    "permintaan_data": "menu_permintaan_data",
    "konsultasi": "menu_konsultasi",
    "pengaduan": "menu_pengaduan",
    "penilaian": "menu_penilaian",
    "status_tiket": "menu_status",
    "ganti_kantor": "menu_kantor",
    "bahasa": "menu_bahasa",
}
FLOWS = {  # state prefix → the intent of that flow
    "info": "info_layanan",
    "registration": "buku_tamu",
    "library": "perpustakaan",
    "data_request": "permintaan_data",
    "consultation": "konsultasi",
    "complaint": "pengaduan",
    "rating": "penilaian",
}
SEARCHING = {"info_layanan", "perpustakaan", "permintaan_data", "konsultasi"}
# States whose free text is a search or a description of data: asking for data or a book there
# is the answer, not a wish to leave.
QUERIES = {
    "data_request.need", "data_request.subject", "data_request.period", "data_request.purpose",
    "library.query", "library.results", "library.nomatch", "library.after",
}  # fmt: skip
# States whose answer is the visitor's own words (a name, a complaint): never read as a wish to
# leave.
OWN_WORDS = {
    "registration.nama", "registration.email", "registration.telepon", "registration.instansi",
    "registration.pekerjaan", "registration.tujuan", "data_request.purpose", "complaint.text",
    "complaint.file", "consultation.question", "rating.comment",
}  # fmt: skip
# States that read a stop word of their own ("berhenti" ends the survey and keeps the answers).
STOPS = {"rating.element"}
# States after a service is done (their prompt made a ticket or showed a result): a clear wish
# is acted on at once, as at the main menu; they are never re-entered from here.
DONE = {
    "status.list", "data_request.submit", "library.download", "library.request",
    "library.after", "info.after",
}  # fmt: skip
QUESTION_WORDS = {"apa", "apakah", "bagaimana", "mengapa", "kenapa", "berapa", "what", "how", "why"}
LIBRARY_WORDS = {
    "saya", "mau", "ingin", "cari", "mencari", "nyari", "carikan", "buku", "publikasi", "ada",
    "tidak", "download", "unduh", "pdf", "baca", "pinjam", "pinjem", "perpustakaan", "softcopy",
    "ebook", "e", "book", "minta", "tolong", "bisa", "di", "ke", "bps", "yang", "judul", "file",
    "online", "cetak", "terbitan", "looking", "for", "a", "the", "find", "i", "want", "to",
    "reservasi", "boleh", "dong", "apakah", "link", "mana", "dimana", "bentuk", "tentang",
}  # fmt: skip
ENGLISH = {"english", "inggris", "eng"}
INDONESIAN = {"indonesia", "indonesian", "indo"}
NEGATION = {"dont", "cant", "cannot", "not", "only"}


def read(turn: Turn) -> Understanding:
    """What the visitor's text means, with the configured offices as ``office`` values."""
    return understand(turn.text, [(o.code, o.nama) for o in turn.pst.offices])


def at_menu(turn: Turn, understood: Understanding | None = None, greeted: bool = False) -> str:
    """Where free text at the main menu leads; ``greeted`` when the welcome was just said."""
    u = understood or read(turn)
    if sure(u):
        return go(turn, u.intent, u.slots, greeted)
    offered = [i for i, p in u.ranked if i in SERVICES and p >= OFFERED]
    if not offered and u.confidence >= SOCIAL:  # a greeting, thanks, yes … said unclearly
        return go(turn, u.intent, u.slots, greeted)
    miss(turn, u)
    if not offered:
        turn.say(turn.t("not_understood_menu"))
        return "menu.main"
    turn.slots["_clarify"] = {"intents": offered, "slots": u.slots}
    return "nlu.clarify"


def sure(u: Understanding) -> bool:
    """Whether ``u`` is clear enough to act on: likely, and well ahead of the runner-up."""
    second = u.ranked[1][1] if len(u.ranked) > 1 else 0.0
    return u.confidence >= ACT and (u.confidence - second >= MARGIN or u.confidence == 1.0)


def go(turn: Turn, intent: str, slots: dict[str, str], greeted: bool = False) -> str:
    """Start what ``intent`` asks for, with its ``slots``; return the state to enter."""
    if intent in SERVICES:
        return _service(turn, intent, slots)
    if intent == "salam" and not greeted:
        # An Islamic greeting is answered in kind before the menu.
        said = normalize(turn.text).replace(" ", "")
        muslim = said.startswith(("assalam", "asalam", "asslam"))
        turn.say(turn.t("nlu_salam_muslim" if muslim else "greeting_again"))
    elif intent in ("terima_kasih", "bantuan", "diluar_lingkup", "ya", "tidak"):
        turn.say(turn.t({"bantuan": "help"}.get(intent, f"nlu_{intent}")))
    elif intent == "batal":
        turn.say(turn.t("cancelled"))
    return "menu.main"


def _service(turn: Turn, intent: str, slots: dict[str, str]) -> str:
    from handlers import menu  # menu routes here: imported late

    if intent == "ganti_kantor":
        return set_office(turn, slots["office"]) if "office" in slots else "office.choose"
    if intent == "bahasa":
        return set_language(turn, "menu.main")
    if intent == "status_tiket" and "ticket" in slots:
        turn.slots["status_number"] = slots["ticket"]
    if intent == "permintaan_data" and set(slots) & {"subject", "level", "year", "format"}:
        return data_request.take_need(turn, turn.text)
    if intent == "konsultasi":
        target = consultation.entry(turn)
        if target == "consultation.question" and _is_question(turn.text):
            return consultation.handle_question(turn)  # the knowledge base answers at once
        return target
    if intent == "perpustakaan" and (query := _library_query(turn.text)):
        turn.inbound = _with_text(turn, query)
        return library.handle_query(turn)
    return menu.open_entry(turn, SERVICES[intent].removeprefix("menu_"))


def _is_question(text: str) -> bool:
    """A question of some substance ("bagaimana cara menghitung inflasi?"), not a wish to talk."""
    words = normalize(text).split()
    return len(words) >= 4 and (text.rstrip().endswith("?") or words[0] in QUESTION_WORDS)


def _library_query(text: str) -> str | None:
    """The title words of a library wish ("cari buku kendal dalam angka" → "kendal dalam
    angka"), or None when it names no publication."""
    words = [w for w in normalize(text).split() if w not in LIBRARY_WORDS]
    return " ".join(words) if len(words) >= 2 else None


def set_office(turn: Turn, code: str) -> str:
    """Serve the visitor from office ``code`` from now on and show its menu."""
    turn.visitor.office_code = code
    office = turn.pst.office(code)
    turn.say(turn.t("office_set", office=office.nama, unit=office.unit))
    return "menu.main"


def set_language(turn: Turn, back: str) -> str:
    """Switch to the language the text names ("english please"), then go ``back``; ask which
    language when it names none."""
    lang = named_language(turn.text)
    if lang is None or lang not in turn.texts.languages:
        turn.slots["_return"] = back
        return "language.choose"
    turn.visitor.lang = lang
    turn.say(turn.t("language_set"))
    return back


def named_language(text: str) -> str | None:
    """The code "en" or "id" when ``text`` names the language wanted ("english please",
    "i can't read indonesian" → "en"; "bahasa indonesia saja" → "id"), else None."""
    words = set(normalize(text).split())
    if words & ENGLISH or (words & INDONESIAN and words & NEGATION):
        return "en"
    return "id" if words & INDONESIAN else None


def at_office(turn: Turn) -> str | None:
    """Free text at the office question: an office named ("halo bps majene", "tarakn") is
    chosen, and a service asked for at the same time is opened. None: ask again."""
    u = read(turn)
    if "office" not in u.slots:
        if u.intent in SERVICES and u.confidence >= ACT and u.intent != "ganti_kantor":
            turn.slots["_pending"] = turn.text
        miss(turn, u)
        return None
    set_office(turn, u.slots["office"])
    pending = turn.slots.pop("_pending", None)
    if u.intent not in ("ganti_kantor", "salam") and u.confidence >= ACT:
        return go(turn, u.intent, u.slots)
    if pending:
        return resume(turn, pending)
    return "menu.main"


def resume(turn: Turn, text: str) -> str:
    """Act on ``text``, a wish said before the office was chosen."""
    u = understand(text, [(o.code, o.nama) for o in turn.pst.offices])
    return go(turn, u.intent, u.slots) if u.confidence >= ACT else "menu.main"


def mid_flow(turn: Turn) -> str | None:
    """Inside a flow: "Lainnya (ketik sendiri)" asks for the words next, a number outside the
    list says which are valid, and a message clearly asking for another service asks whether to
    switch. None: the state's own handler goes on."""
    state, offered = turn.convo.state, turn.offered
    choice = turn.choice
    if choice == "lainnya" and any("ketik" in label.casefold() for _, label in offered):
        turn.slots["_typing_for"] = state
        return "nlu.type_own"
    if turn.inbound.payload:
        return None
    if turn.text.isdigit() and len(turn.text) <= 2 and offered and choice is None:
        # a menu number out of range (a longer one is an answer: a phone number, a year)
        turn.say(turn.t("nlu_out_of_range", number=turn.text, last=len(offered)))
        return state
    if choice is not None or not turn.text:
        return None
    u = read(turn)
    if state in DONE:
        leaves = sure(u) and u.intent not in ("ya", "tidak") and _leaves(state, u.intent)
        return go(turn, u.intent, u.slots) if leaves else None
    short = len(turn.text.split()) <= 4
    if u.intent in ("batal", "menu") and u.confidence >= SWITCH and short and state not in STOPS:
        turn.slots.clear()
        return go(turn, u.intent, {})
    if u.intent == "bahasa" and u.confidence >= SWITCH and named_language(turn.text):
        back = turn.slots.pop("_return", None) if state == "language.choose" else state
        return set_language(turn, back or "menu.main")
    if state in OWN_WORDS or u.intent not in SERVICES or u.confidence < SWITCH:
        return None
    if not _leaves(state, u.intent):
        return None
    turn.slots["_switch"] = {"intent": u.intent, "slots": u.slots, "back": state, "text": turn.text}
    return "nlu.switch"


def _leaves(state: str, intent: str) -> bool:
    """Whether ``intent`` asks for something other than the flow of ``state``."""
    current = FLOWS.get(state.split(".")[0])
    # Office names are part of searches ("kab ketapang dlm angka 2025"), not a wish to move.
    return intent != current and not (state in QUERIES and intent in {*SEARCHING, "ganti_kantor"})


def miss(turn: Turn, u: Understanding) -> None:
    """Keep a message that was not understood well enough (``pstbot nlu unknown``)."""
    if turn.visitor.id is None:
        turn.session.flush()  # a first message: the visitor row needs its id
    turn.session.add(
        NluMiss(
            visitor_id=turn.visitor.id,
            office_code=turn.visitor.office_code,
            state=turn.convo.state or "",
            text=turn.text[:1000],
            intent=u.intent,
        )
    )


def prompt_clarify(turn: Turn) -> None:
    intents = turn.slots["_clarify"]["intents"]
    options = [Option(i, turn.t(SERVICES[i])) for i in intents]
    turn.say(turn.t("nlu_clarify"), [*options, Option("menu", turn.t("menu_back"))])


def handle_clarify(turn: Turn) -> str:
    asked = turn.slots.pop("_clarify", {})
    choice = turn.choice
    if choice == "menu" or turn.choice == "tidak":
        return "menu.main"
    if choice in SERVICES:
        return go(turn, choice, asked.get("slots", {}))
    return at_menu(turn)


def prompt_switch(turn: Turn) -> None:
    switch = turn.slots["_switch"]
    flow = turn.t(f"nlu_flow_{switch['back'].split('.')[0]}")
    options = [
        Option("ya", turn.t("nlu_switch_yes")),
        Option("lanjut", turn.t("nlu_continue", flow=flow)),
    ]
    turn.say(turn.t("nlu_switch", service=turn.t(SERVICES[switch["intent"]])), options)


def handle_switch(turn: Turn) -> str:
    switch = turn.slots.pop("_switch")
    if turn.choice == "ya":
        turn.slots.clear()
        turn.inbound = _with_text(turn, switch["text"])
        return go(turn, switch["intent"], switch["slots"])
    return switch["back"]


def _with_text(turn: Turn, text: str):
    from dataclasses import replace

    return replace(turn.inbound, text=text, payload=None)


def prompt_type_own(turn: Turn) -> None:
    turn.say(turn.t("nlu_type_own"))


def handle_type_own(turn: Turn) -> str:
    from handlers import STATES  # the table of every flow, which includes this module

    back = turn.slots.pop("_typing_for")
    return STATES[back].handle(turn)


STATES = {
    "nlu.clarify": State(prompt_clarify, handle_clarify),
    "nlu.switch": State(prompt_switch, handle_switch),
    "nlu.type_own": State(prompt_type_own, handle_type_own),
}
