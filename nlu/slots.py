"""Slots read from a visitor's message: the office, a year, a ticket number and the details of
a data request (subject, region level, period, file form).

The data-request details are the ones ``handlers/data_request.py`` asks for; that flow and the
understanding layer share this one reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from nlu.normalize import normalize

# Visitors retype ticket numbers with spaces, dashes of any kind or nothing between the parts.
_SEP = r"[\s\-\u2010-\u2015_.]*"
TICKET = re.compile(rf"\b([a-z]{{2}}){_SEP}(\d{{4}}){_SEP}(\d{{8}}){_SEP}(\d{{4}})(?!\d)", re.I)
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
PER = re.compile(r"\b(?:per|tiap|setiap|menurut|by|each|tingkat|level)\s*$")
SHORT_YEAR = re.compile(r"\b(?:tahun|th|thn|thun|taun|year)\.?\s*'?(\d{2})\b|'(\d{2})\b", re.I)

SUBJECTS = {
    "kependudukan": ("penduduk", "kependudukan", "demografi", "kelahiran", "migrasi",
                     "population", "demograph", "birth"),
    "ketenagakerjaan": ("kerja", "pengangguran", "angkatan kerja", "upah", "sakernas",
                        "unemployment", "employment", "labour", "labor", "wage"),
    "kemiskinan": ("miskin", "kemiskinan", "garis kemiskinan", "poverty", "poor"),
    "pdrb": ("pdrb", "ekonomi", "pertumbuhan ekonomi", "produk domestik", "gdp", "grdp",
             "economic"),
    "inflasi": ("inflasi", "harga", "ihk", "inflation", "price", "cpi"),
    "pertanian": ("tani", "padi", "pertanian", "ternak", "perkebunan", "sawit", "ikan",
                  "panen", "agricultur", "rice", "farm", "livestock", "fish", "crop"),
    "pendidikan": ("pendidikan", "sekolah", "murid", "guru", "education", "school",
                   "student", "teacher"),
    "kesehatan": ("kesehatan", "puskesmas", "penyakit", "stunting", "health"),
}  # fmt: skip
LEVELS = {
    "kabupaten": ("kabupaten", "kota", "kab", "regency", "city"),
    "kecamatan": ("kecamatan", "kec", "district"),
    "desa": ("desa", "kelurahan", "village"),
}
FORMATS = {
    "xlsx": ("excel", "xlsx", "xls", "spreadsheet"),
    "csv": ("csv",),
    "pdf": ("pdf",),
    "cetak": ("cetak", "hardcopy", "print"),
}
# Other names visitors give an office's area: the regency seat, the short names in use.
OFFICE_ALIASES = {
    "bangka selatan": ("basel", "bangka sel", "bangkasel", "toboali", "bangka", "bangka slt"),
    "ketapang": ("ktp kalbar",),
    "kendal": (),
    "majene": (),
    "tarakan": (),
}
# Everyday words a typo match must not take for an office name ("kendala" is not Kendal).
NOT_OFFICES = {"kendala", "kendali", "tarikan", "bangkai", "kenal", "kepang", "kendi"}
_PREFIXES = ("bps ", "kabupaten ", "kota ")
# Words before an office name that say it is not the one meant ("bukan kendal").
NEGATIONS = {"bukan", "not", "selain", "tidak", "instead"}


def ticket(text: str) -> str | None:
    """The first ticket number in ``text`` (``PD-6106-20261127-0003``), upper case, or None."""
    found = TICKET.search(text)
    return "-".join(found.groups()).upper() if found else None


def years(text: str) -> list[str]:
    """Four-digit years in ``text`` in the order written; "th 23" / "'23" read as 2023.
    Ticket numbers are skipped."""
    text = TICKET.sub(" ", text)
    found = [(m.start(), m.group()) for m in YEAR.finditer(text)]
    for m in SHORT_YEAR.finditer(text):
        found.append((m.start(), "20" + (m.group(1) or m.group(2))))
    return [year for _, year in sorted(found)]


def office_core(nama: str) -> str:
    """The distinctive part of an office name: "BPS Kabupaten Bangka Selatan" → "bangka selatan"."""
    core = nama.casefold()
    for prefix in _PREFIXES:
        core = core.removeprefix(prefix)
    return core


def office(text: str, offices: Iterable[tuple[str, str]]) -> str | None:
    """The code of the office named in ``text`` — by name, short name or a typo of it
    ("tarakn", "ktapang", "bps bangka sel") — among ``offices`` (code, name) pairs; None when
    no office or more than one is named."""
    words = normalize(text, keep_address=True).split()
    named, denied = set(), set()
    for code, nama in offices:
        core = office_core(nama)
        names = (core, *OFFICE_ALIASES.get(core, ()))
        for start, gram in _grams(words):
            if gram in names or _typo_of(gram, core):
                named.add(code)
                if start and words[start - 1] in NEGATIONS:
                    denied.add(code)
    if len(named) > 1:  # "bukan majene, saya di tarakan": the office not denied
        named -= denied
    return named.pop() if len(named) == 1 else None


def _grams(words: list[str]) -> list[tuple[int, str]]:
    """(start, text) of every word and pair of adjacent words."""
    pairs = [(i, f"{words[i]} {words[i + 1]}") for i in range(len(words) - 1)]
    return list(enumerate(words)) + pairs


def _typo_of(gram: str, name: str) -> bool:
    """``gram`` is ``name`` with a letter or two wrong (names of 5+ letters only)."""
    if len(name) < 5 or gram in NOT_OFFICES or gram.count(" ") != name.count(" "):
        return False
    return gram[0] == name[0] and fuzz.ratio(gram, name) >= 85


def data_details(text: str) -> dict[str, str]:
    """What a data request says about itself: ``subject``, ``level`` and ``format`` (keys of
    :data:`SUBJECTS`, :data:`LEVELS`, :data:`FORMATS`) and ``period`` ("2023" or
    "2019–2023"), each only when found."""
    words = text.casefold()
    found = {}
    for detail, table in (("subject", SUBJECTS), ("format", FORMATS)):
        for key, cues in table.items():
            if any(re.search(_cue_pattern(cue), words) for cue in cues):
                found[detail] = key
                break
    if level := _level(words):
        found["level"] = level
    period = sorted(set(years(text)))
    if period:
        found["period"] = period[0] if len(period) == 1 else f"{period[0]}–{period[-1]}"
    return found


def _level(words: str) -> str | None:
    """The region level asked for: one named after "per"/"tiap"/"menurut" ("per kecamatan")
    wins over one in a place name ("kab ketapang"); else the finest level named."""
    named = [
        (match.start(), key)
        for key, cues in LEVELS.items()
        for cue in cues
        for match in re.finditer(_cue_pattern(cue), words)
    ]
    asked = [key for start, key in named if PER.search(words[:start])]
    if asked:
        return asked[0]
    finest = [key for key in reversed(LEVELS) if key in {key for _, key in named}]
    return finest[0] if finest else None


def _cue_pattern(cue: str) -> str:
    # Short cues are whole words ("kab" is not "kabar"); longer ones also start longer words.
    tail = r"\b" if len(cue) <= 3 else ""
    return rf"\b{re.escape(cue)}{tail}"
