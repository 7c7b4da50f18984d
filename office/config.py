"""The offices and their service standards, read from ``config.yaml``.

Every text in the file is transcribed from the office's published *standar pelayanan*
(``docs/standards/``); the schema below is what start-up validates. A bad file stops the
program with :class:`ConfigError`, whose message names the key and its line.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
OFFICE_ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
# Message classes that need an approved WhatsApp template outside the 24-hour window
# (``whatsapp_templates``; what each one is: core/window.py).
TEMPLATE_CLASSES = (
    "jawaban_petugas",
    "pengingat_tutup",
    "konsultasi_ditutup",
    "tiket_diperbarui",
    "data_siap",
    "undangan_penilaian",
)
LIST_ITEMS_MAX = 10  # Twilio twilio/list-picker: 1 to 10 items
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")  # a Twilio Content SID


class ConfigError(Exception):
    """``config.yaml`` cannot be used; the message names the key and the line."""


class Layanan(StrEnum):
    """The PST services the bot describes (keys under ``layanan`` in config.yaml)."""

    PERPUSTAKAAN = "perpustakaan"
    PERMINTAAN_DATA = "permintaan_data"
    KONSULTASI = "konsultasi"


class Mode(StrEnum):
    """How the visitor is served: a walk-in visit or online (the standards' two columns)."""

    LANGSUNG = "langsung"
    ONLINE = "online"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = Annotated[str, Field(min_length=1)]


class PerMode(_Strict):
    """Items of one part of a standard: for a walk-in visit, for online service, or for both.

    A standard that does not separate the two modes puts its items under ``semua``.
    """

    langsung: list[Text] = []
    online: list[Text] = []
    semua: list[Text] = []

    def for_mode(self, mode: Mode) -> list[str]:
        """Return the items that apply to ``mode``: its own, then those for every mode."""
        own = self.langsung if mode is Mode.LANGSUNG else self.online
        return [*own, *self.semua]


class StandarLayanan(_Strict):
    """One service standard (*standar pelayanan*) of an office, as published.
    ``batas_hari_kerja``: the working days it promises online requests are done in (the due
    date of a ticket), only where it states them; None: no deadline is promised."""

    judul: Text
    nomor_sk: str | None = None
    batas_hari_kerja: int | None = Field(None, ge=1, le=60)
    persyaratan: PerMode
    prosedur: PerMode
    waktu: PerMode
    biaya: PerMode
    produk: PerMode


class SaluranPengaduan(_Strict):
    """A complaint channel (*saluran pengaduan*) such as the suggestion box, email or LAPOR."""

    jenis: Text
    alamat: Text


class Pengaduan(_Strict):
    """The *Pengaduan Layanan* section of the office's standards."""

    waktu_penyelesaian: str | None = None
    # Working days to handle a complaint, only where the standard states it (None: it does not).
    batas_hari_kerja: int | None = Field(None, ge=1, le=60)
    saluran: list[SaluranPengaduan] = Field(min_length=1)


class Retensi(_Strict):
    """How long an office keeps personal data (UU 27/2022 Pasal 43–44: processing ends and the
    data is destroyed when the retention period ends), in months: ``profil_bulan`` after a
    visitor's last message for the guest-book profile, ``pesan_bulan`` after a message for
    message texts (ticket texts, notes, rating comments, sent messages, stamped softcopies)."""

    profil_bulan: int = Field(24, ge=1, le=120)
    pesan_bulan: int = Field(12, ge=1, le=120)


class Hours(_Strict):
    """Opening hours of one weekday, office local time."""

    buka: dt.time
    tutup: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.tutup <= self.buka:
            raise ValueError("tutup must be later than buka")
        return self


class Office(_Strict):
    """One BPS office running a PST unit; ``code`` is its BPS domain code (not Kemendagri's)."""

    code: Annotated[str, Field(pattern=r"^\d{4}$")]
    nama: Text
    unit: Text
    provinsi: Text
    alamat: Text
    telepon: Text
    email: Text
    website: Text
    zona_waktu: Text
    jam_layanan: dict[str, Hours]
    whatsapp: str | None = None
    staff_chat_id: int | None = None
    staff_user_ids: list[int] = []
    whatsapp_templates: dict[str, str] = {}
    libur_tambahan: list[dt.date] = []
    retensi: Retensi = Retensi()
    pengaduan: Pengaduan
    layanan: dict[Layanan, StandarLayanan]

    @field_validator("whatsapp_templates")
    @classmethod
    def _templates(cls, value: dict[str, str]) -> dict[str, str]:
        for name, sid in value.items():
            if name not in TEMPLATE_CLASSES:
                raise ValueError(f"unknown class {name!r}; use {', '.join(TEMPLATE_CLASSES)}")
            if not CONTENT_SID.fullmatch(sid):
                raise ValueError(f"{name}: {sid!r} is not a Content SID (HX and 32 hex digits)")
        return value

    @field_validator("zona_waktu")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in OFFICE_ZONES:
            raise ValueError(f"must be one of {', '.join(OFFICE_ZONES)}")
        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError as exc:
            raise ValueError(f"unknown time zone {value}") from exc
        return value

    @field_validator("jam_layanan")
    @classmethod
    def _weekdays(cls, value: dict[str, Hours]) -> dict[str, Hours]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
        return value

    @field_validator("whatsapp")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        number = phonenumbers.parse(value, "ID")
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f"{value!r} is not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def deadline_days(self, service: str) -> int | None:
        """Working days within which ``service`` (a :class:`Layanan` value or "pengaduan") is
        promised by the office's standard; None where the standard states none."""
        if service == "pengaduan":
            return self.pengaduan.batas_hari_kerja
        standard = self.layanan.get(Layanan(service))
        return standard.batas_hari_kerja if standard else None

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone."""
        return ZoneInfo(self.zona_waktu)

    @property
    def zone_abbr(self) -> str:
        """WIB, WITA or WIT."""
        return OFFICE_ZONES[self.zona_waktu]


class PstConfig(_Strict):
    """The whole of ``config.yaml``."""

    offices: list[Office] = Field(min_length=1)
    saluran_nasional: list[SaluranPengaduan] = []
    # WhatsApp buttons and lists: "<lang>:<key>,<key>,…" (an option set, keys in order) → the
    # Content SID of a twilio/quick-reply (≤ 3 buttons) or twilio/list-picker (≤ 10 items)
    # whose body is {{1}} and whose ids are those keys (README, "Buttons and lists").
    whatsapp_choices: dict[str, str] = {}

    @field_validator("whatsapp_choices")
    @classmethod
    def _choices(cls, value: dict[str, str]) -> dict[str, str]:
        for name, sid in value.items():
            lang, sep, keys = name.partition(":")
            if not (sep and lang and keys) or not CONTENT_SID.fullmatch(sid):
                raise ValueError(f'{name!r}: use "<lang>:<key>,<key>…": HX… (a Content SID)')
            if len(keys.split(",")) > LIST_ITEMS_MAX:
                raise ValueError(f"{name!r}: a list picker holds at most {LIST_ITEMS_MAX} items")
        return value

    @model_validator(mode="after")
    def _unique(self) -> PstConfig:
        for attr in ("code", "whatsapp"):
            values = [getattr(o, attr) for o in self.offices if getattr(o, attr)]
            if len(values) != len(set(values)):
                raise ValueError(f"two offices share the same {attr}")
        return self

    def office(self, code: str) -> Office:
        """Return the office with BPS domain ``code``; raises KeyError when unknown."""
        for office in self.offices:
            if office.code == code:
                return office
        raise KeyError(code)

    def office_by_whatsapp(self, number: str) -> Office | None:
        """Return the office whose WhatsApp number (E.164) is ``number``, if any."""
        return next((o for o in self.offices if o.whatsapp == number), None)

    def warnings(self, shared_number: bool) -> list[str]:
        """What the operator should know, one line per office: served on WhatsApp (its own
        number, or every office when ``shared_number``, i.e. TWILIO credentials are set)
        without an approved template for some class (core/window.py), or without a staff chat
        (consultations and complaints are then not taken in the chat)."""
        lines = []
        for office in self.offices:
            missing = [c for c in TEMPLATE_CLASSES if c not in office.whatsapp_templates]
            if (office.whatsapp or shared_number) and missing:
                lines.append(
                    f"{office.code} {office.nama} is served on WhatsApp without an approved "
                    f"template (whatsapp_templates) for {', '.join(missing)}: outside the "
                    "24-hour window those messages wait until the visitor writes again, and "
                    "rating invitations are skipped"
                )
            if office.staff_chat_id is None:
                lines.append(
                    f"{office.code} {office.nama} has no staff_chat_id: consultations and "
                    "complaints are not taken in the chat (visitors get its phone and email)"
                )
        return lines

    def complaint_channels(self, office: Office) -> list[SaluranPengaduan]:
        """The office's own complaint channels, then national ones it does not list itself."""
        own = {c.alamat.lower() for c in office.pengaduan.saluran}
        extra = [c for c in self.saluran_nasional if c.alamat.lower() not in own]
        return [*office.pengaduan.saluran, *extra]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML's safe loader (libyaml's when installed) without its implicit dates: "2026-13-45"
    stays a string, so the schema reports it with its key and line instead of PyYAML raising
    mid-parse."""

    yaml_implicit_resolvers: ClassVar = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def load_config(path: str | Path) -> PstConfig:
    """Read and validate ``config.yaml`` at ``path``.

    Raises:
        ConfigError: the file is missing, is not YAML, or breaks the schema; the message gives
            the file, the dotted key (``offices.2.email``) and the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return PstConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not _is_type_tag(p)]
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc)
        raise ConfigError(f"{path}:{line}: {key}: {err['msg']}") from exc


def _is_type_tag(part: Any) -> bool:
    # pydantic adds the member type of a union to the error location (e.g. "int"); it is not a key.
    return isinstance(part, str) and bool(re.fullmatch(r"[a-z_]+\[.*\]|int|str|none", part))


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """Return the 1-based line of the deepest node on ``loc`` that exists in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line
