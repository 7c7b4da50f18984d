"""*Info layanan*: the office's service standards, read out for a walk-in visit or online service.

The texts come from ``config.yaml``, transcribed from each office's *standar pelayanan*
(``docs/standards/``): requirements, procedure, time limits, cost and products, then the office's
hours, address and complaint channels.

| state        | asks                        | goes to                  |
|--------------|-----------------------------|--------------------------|
| info.service | which service               | info.mode, info.after    |
| info.mode    | walk-in visit or online     | info.after               |
| info.after   | other mode / service / menu | info.mode, info.service  |
"""

from __future__ import annotations

from itertools import groupby

from core.engine import Option, State, Turn
from office.config import WEEKDAYS, Layanan, Mode, Office, StandarLayanan

SECTIONS = ("persyaratan", "prosedur", "waktu", "biaya", "produk")


def prompt_service(turn: Turn) -> None:
    keys = [*(s.value for s in Layanan), "pengaduan", "kontak", "menu"]
    turn.say(
        turn.t("info_prompt", office=_office(turn).nama),
        [Option(k, turn.t(f"info_{k}")) for k in keys],
    )


def handle_service(turn: Turn) -> str:
    choice, office = turn.choice, _office(turn)
    if choice is None:
        turn.say(turn.t("not_understood"))
        return "info.service"
    if choice == "menu":
        return "menu.main"
    turn.slots["info_service"] = choice
    if choice == "pengaduan":
        turn.say(complaint_text(turn, office))
    elif choice == "kontak":
        turn.say(contact_text(turn, office))
    elif Layanan(choice) not in office.layanan:
        turn.say(
            turn.t("info_not_in_standard", service=turn.t(f"info_{choice}"), office=office.nama)
        )
        turn.say(contact_text(turn, office))
    else:
        return "info.mode"
    return "info.after"


def prompt_mode(turn: Turn) -> None:
    turn.say(turn.t("info_mode_prompt"), [Option(m.value, turn.t(f"mode_{m.value}")) for m in Mode])


def handle_mode(turn: Turn) -> str:
    if turn.choice is None:
        turn.say(turn.t("not_understood"))
        return "info.mode"
    office, mode = _office(turn), Mode(turn.choice)
    service = Layanan(turn.slots["info_service"])
    turn.slots["info_mode"] = mode.value
    turn.say(standard_text(turn, office, service, mode))
    turn.say(contact_text(turn, office))
    return "info.after"


def prompt_after(turn: Turn) -> None:
    options = []
    mode = turn.slots.get("info_mode")
    if mode and turn.slots.get("info_service") in {s.value for s in Layanan}:
        other = Mode.ONLINE if mode == Mode.LANGSUNG else Mode.LANGSUNG
        options.append(Option(other.value, turn.t(f"info_other_mode_{other.value}")))
    options += [Option("lain", turn.t("info_other_service")), Option("menu", turn.t("menu_back"))]
    turn.say(turn.t("info_after_prompt"), options)


def handle_after(turn: Turn) -> str:
    choice = turn.choice
    if choice in {m.value for m in Mode}:
        return handle_mode(turn)
    if choice == "lain":
        turn.slots.pop("info_mode", None)
        return "info.service"
    if choice == "menu":
        return "menu.main"
    turn.say(turn.t("not_understood"))
    return "info.after"


def standard_text(turn: Turn, office: Office, service: Layanan, mode: Mode) -> str:
    """The standard of ``service`` at ``office`` for ``mode``, as one message."""
    std: StandarLayanan = office.layanan[service]
    lines = [turn.t("info_header", title=std.judul, mode=turn.t(f"mode_{mode.value}"))]
    if std.nomor_sk:
        lines.append(turn.t("info_sk", sk=std.nomor_sk))
    other = Mode.ONLINE if mode is Mode.LANGSUNG else Mode.LANGSUNG
    for section in SECTIONS:
        items = getattr(std, section).for_mode(mode)
        if items:
            lines += ["", turn.t(f"sec_{section}")]
            lines += (
                [f"{n}. {item}" for n, item in enumerate(items, 1)] if len(items) > 1 else items
            )
        elif getattr(std, section).for_mode(other):  # stated for the other mode only
            section_name = turn.t(f"sec_{section}").rstrip(":").lower()
            mode_name = turn.t(f"mode_{mode.value}").lower()
            lines += ["", turn.t("info_not_stated", section=section_name, mode=mode_name)]
    return "\n".join(lines)


def contact_text(turn: Turn, office: Office) -> str:
    """Address, phone, email, website, opening hours and complaint channels of ``office``."""
    lines = [
        office.unit,
        turn.t("contact_address", address=office.alamat),
        turn.t("contact_phone", phone=office.telepon),
        turn.t("contact_email", email=office.email),
        turn.t("contact_website", website=office.website),
    ]
    if office.whatsapp:
        lines.append(turn.t("contact_whatsapp", number=office.whatsapp))
    lines += ["", turn.t("hours_header", zone=office.zone_abbr), *hours_lines(turn, office)]
    return "\n".join([*lines, "", complaint_text(turn, office)])


def hours_lines(turn: Turn, office: Office) -> list[str]:
    """Opening hours, consecutive weekdays with the same hours joined ("Senin–Kamis …")."""
    lines = []
    for hours, days in groupby(WEEKDAYS, key=lambda d: office.jam_layanan.get(d)):
        names = [turn.t(f"day_{d}") for d in days]
        span = names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
        when = f"{hours.buka:%H.%M}–{hours.tutup:%H.%M}" if hours else turn.t("hours_closed")
        lines.append(f"{span}: {when}")
    lines.append(turn.t("hours_holidays"))
    return lines


def complaint_text(turn: Turn, office: Office) -> str:
    """The office's complaint channels (its own, then national ones such as SP4N-LAPOR)."""
    lines = [turn.t("complaint_header")]
    if office.pengaduan.waktu_penyelesaian:
        lines.append(turn.t("complaint_time", time=office.pengaduan.waktu_penyelesaian))
    lines += [f"- {c.jenis}: {c.alamat}" for c in turn.pst.complaint_channels(office)]
    return "\n".join(lines)


def _office(turn: Turn) -> Office:
    office = turn.office
    assert office is not None, "menu.route asks for the office before any flow runs"
    return office


STATES = {
    "info.service": State(prompt_service, handle_service),
    "info.mode": State(prompt_mode, handle_mode),
    "info.after": State(prompt_after, handle_after),
}
