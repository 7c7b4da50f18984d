"""*Buku tamu*: the guest-book profile every PST standard asks a visitor to fill in.

Consent to the processing of personal data is asked first, before anything personal is typed
(UU 27/2022 on personal data protection). Answers are validated as they come (email-validator,
phonenumbers) and kept in the conversation until the visitor saves the whole profile.

| state                  | asks                          | goes to                         |
|------------------------|-------------------------------|---------------------------------|
| registration.consent   | agree to data processing?     | registration.nama, menu.main    |
| registration.<field>   | nama, email, telepon,         | the next field, or review when  |
|                        | instansi, pekerjaan, tujuan   | editing one field               |
| registration.review    | save / change / back          | the step that asked for the     |
|                        |                               | guest book (``_resume``), or    |
|                        |                               | menu.main; registration.pick    |
| registration.pick      | which field to change         | registration.<field>            |
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.engine import Option, State, Turn
from core.privacy import consent_version
from storage.models import utcnow

# "pakai nomor ini aja", "sama dengan wa ini", "use this number": the WhatsApp number offered.
THIS_NUMBER = re.compile(r"\b(?:ini|itu|wa|whatsapp|sama|pakai|pake|this|same|use)\b", re.I)
FIELDS = ("nama", "email", "telepon", "instansi", "pekerjaan", "tujuan")
PEKERJAAN = ("pelajar", "peneliti", "asn", "bumn", "swasta", "wiraswasta", "lainnya")
TUJUAN = ("tugas", "penelitian", "perencanaan", "bisnis", "lainnya")


def first(
    turn: Turn, target: str, reason: str = "lib_need_profile", known: dict[str, str] | None = None
) -> str:
    """Go to ``target``, through the guest book first when the visitor has no profile yet
    (saying why with text ``reason``); the guest book resumes ``target`` once saved. Fields in
    ``known`` (``{"tujuan": "Penelitian"}``, already answered in the flow) are not asked."""
    if turn.visitor.registered:
        return target
    turn.slots["_resume"] = target
    turn.slots["_known"] = known or {}
    turn.say(turn.t(reason))
    return "registration.consent"


def _draft(turn: Turn) -> dict[str, str]:
    return turn.slots.setdefault("draft", {})


def prompt_consent(turn: Turn) -> None:
    """The consent text names the controller (the office), the purpose, what is kept and for how
    long (its ``retensi``) and where to ask about personal data (UU 27/2022 Pasal 20–22)."""
    office = turn.office
    options = [Option("setuju", turn.t("consent_yes")), Option("tidak", turn.t("consent_no"))]
    text = turn.t(
        "consent_prompt",
        controller=office.nama,
        profile_months=office.retensi.profil_bulan,
        message_months=office.retensi.pesan_bulan,
        email=office.email,
        phone=office.telepon,
    )
    turn.say(text, options)


def handle_consent(turn: Turn) -> str:
    if turn.choice == "setuju":
        turn.slots["draft"] = turn.slots.pop("_known", {})
        template = turn.texts.catalogues.get(turn.visitor.lang, {}).get("consent_prompt", "")
        turn.slots["_consent"] = f"{turn.visitor.lang}-{consent_version(template)}"
        return "registration.nama"
    if turn.choice == "tidak":
        turn.slots.pop("_resume", None)
        turn.slots.pop("_known", None)
        turn.say(turn.t("consent_refused"))
        return "menu.main"
    turn.say(turn.t("not_understood"))
    return "registration.consent"


def _text_field(field: str, check: Callable[[str, Turn], str | None]) -> State:
    """A state asking ``field``; ``check`` returns the value to store, or None to ask again."""

    def prompt(turn: Turn) -> None:
        turn.say(turn.t(f"reg_ask_{field}"), _options(turn, field))

    def handle(turn: Turn) -> str:
        value = check(turn.text, turn)
        if value is None:
            turn.say(turn.t(f"reg_bad_{field}"))
            return f"registration.{field}"
        draft = _draft(turn)
        draft[field] = value
        later = [f for f in FIELDS[FIELDS.index(field) + 1 :] if f not in draft]
        if turn.slots.get("editing") or not later:
            return "registration.review"
        return f"registration.{later[0]}"

    return State(prompt, handle)


def _options(turn: Turn, field: str) -> list[Option]:
    if field == "telepon" and turn.visitor.wa_phone:
        return [Option("wa", turn.t("reg_use_wa", number=_pretty(turn.visitor.wa_phone)))]
    if field == "pekerjaan":
        return [Option(k, turn.t(f"pekerjaan_{k}")) for k in PEKERJAAN]
    if field == "tujuan":
        return [Option(k, turn.t(f"tujuan_{k}")) for k in TUJUAN]
    return []


def check_nama(text: str, _turn: Turn) -> str | None:
    """A name: 3–100 characters with at least two letters."""
    letters = sum(ch.isalpha() for ch in text)
    return " ".join(text.split()) if 3 <= len(text) <= 100 and letters >= 2 else None


def check_email(text: str, _turn: Turn) -> str | None:
    """An email address, normalised; no DNS lookup (deliverability is not checked)."""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def check_telepon(text: str, turn: Turn) -> str | None:
    """A valid phone number (Indonesian when no country code), as E.164; the visitor's
    WhatsApp number when that option is picked or asked for in words ("pakai nomor ini aja")."""
    if turn.choice == "wa" or _means_this_number(text, turn):
        return turn.visitor.wa_phone
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _means_this_number(text: str, turn: Turn) -> bool:
    """Words without digits that point at the number the visitor writes from (WhatsApp)."""
    has_digits = any(ch.isdigit() for ch in text)
    return bool(turn.visitor.wa_phone) and not has_digits and bool(THIS_NUMBER.search(text))


def check_instansi(text: str, _turn: Turn) -> str | None:
    """An institution name of 2–150 characters."""
    return " ".join(text.split()) if 2 <= len(text) <= 150 else None


def _pick_or_type(prefix: str, limit: int) -> Callable[[str, Turn], str | None]:
    """An offered option (stored by its Indonesian label, as staff read it) or typed words."""

    def check(text: str, turn: Turn) -> str | None:
        choice = turn.choice
        if choice and choice != "lainnya":
            return turn.texts.get("id", f"{prefix}_{choice}")
        if choice == "lainnya" or not 3 <= len(text) <= limit:
            return None
        return " ".join(text.split())

    return check


def prompt_review(turn: Turn) -> None:
    turn.slots.pop("editing", None)
    draft = _draft(turn)
    if not draft:
        draft.update({f: getattr(turn.visitor, f) for f in FIELDS})
    key = (
        "reg_review_saved"
        if turn.visitor.registered and not turn.slots.get("dirty")
        else ("reg_review")
    )
    options = [Option("simpan", turn.t("reg_save"))] if key == "reg_review" else []
    options += [Option("ubah", turn.t("reg_change")), Option("menu", turn.t("menu_back"))]
    turn.say(turn.t(key) + "\n\n" + profile_text(turn, draft), options)


def handle_review(turn: Turn) -> str:
    choice = turn.choice
    if choice == "simpan":
        draft = turn.slots.pop("draft")
        for field in FIELDS:
            setattr(turn.visitor, field, draft[field])
        if consent := turn.slots.pop("_consent", None):  # the text just accepted
            turn.visitor.consent_at, turn.visitor.consent_version = utcnow(), consent
        turn.slots.pop("dirty", None)
        turn.say(turn.t("reg_saved", name=draft["nama"]))
        return turn.slots.pop("_resume", None) or "menu.main"
    if choice == "ubah":
        return "registration.pick"
    if choice == "menu":
        turn.slots.pop("draft", None)
        return "menu.main"
    turn.say(turn.t("not_understood"))
    return "registration.review"


def prompt_pick(turn: Turn) -> None:
    turn.say(turn.t("reg_pick"), [Option(f, turn.t(f"field_{f}")) for f in FIELDS])


def handle_pick(turn: Turn) -> str:
    if turn.choice is None:
        turn.say(turn.t("not_understood"))
        return "registration.pick"
    turn.slots["editing"] = True
    turn.slots["dirty"] = True
    return f"registration.{turn.choice}"


def profile_text(turn: Turn, profile: dict[str, str | None]) -> str:
    """The guest-book profile as "Field: value" lines."""
    lines = []
    for field in FIELDS:
        value = profile.get(field) or "-"
        shown = _pretty(value) if field == "telepon" else _in_own_language(turn, field, value)
        lines.append(f"{turn.t(f'field_{field}')}: {shown}")
    return "\n".join(lines)


def _in_own_language(turn: Turn, field: str, value: str) -> str:
    """An option stored by its Indonesian label ("Peneliti/dosen"), in the visitor's language;
    other values as typed."""
    keys = {"pekerjaan": PEKERJAAN, "tujuan": TUJUAN}.get(field, ())
    for key in keys:
        if turn.texts.get("id", f"{field}_{key}") == value:
            return turn.t(f"{field}_{key}")
    return value


def _pretty(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


STATES = {
    "registration.consent": State(prompt_consent, handle_consent),
    "registration.nama": _text_field("nama", check_nama),
    "registration.email": _text_field("email", check_email),
    "registration.telepon": _text_field("telepon", check_telepon),
    "registration.instansi": _text_field("instansi", check_instansi),
    "registration.pekerjaan": _text_field("pekerjaan", _pick_or_type("pekerjaan", 60)),
    "registration.tujuan": _text_field("tujuan", _pick_or_type("tujuan", 200)),
    "registration.review": State(prompt_review, handle_review),
    "registration.pick": State(prompt_pick, handle_pick),
}
