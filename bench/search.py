"""Benchmark of the catalogue search at 1k, 10k and 100k titles.

Run from the repository root: ``python bench/search.py`` (``--sizes 1000 10000`` to choose,
``--queries N`` queries per size, default 300).

The catalogues are synthesised from the shipped catalogue (``catalogue/data``, real and
modelled titles): every title that names its regency or city becomes a series pattern
("Statistik Daerah {region} {year}"), and the patterns are filled with the 514 regencies and
cities of ``catalogue/data/domains.jsonl`` and the years 2000–2025, so that every region
publishes the same series every year, as BPS offices do. Each catalogue holds the shipped
titles plus a seeded random sample of those combinations.

Queries are made from random titles of the catalogue the way visitors write them: desk
abbreviations (*dda*, *kcda*, *statda*, *pdrb*, *ipm* …), a missing *Kabupaten*/*Kota*/*Menurut*,
a typo in the longest word, shuffled word order, and the year as ``2023``, ``23`` or not at all.
A query is answered right when the top five hold the title asked for (for a query without a
year: that title in any year). The script prints, per size, the index build time, the median
and 95th-percentile query latency and this recall@5.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time

from catalogue import modelled
from catalogue.abbreviations import title_words
from catalogue.importer import DATA, jsonl_batch
from catalogue.regions import domains
from catalogue.search import Record, SearchIndex

YEARS = range(2000, 2026)
ABBREVIATE = (
    ("Kecamatan (.+) Dalam Angka", r"kcda \1"),
    ("Dalam Angka", "dda"),
    ("Statistik Daerah", "statda"),
    ("Produk Domestik Regional Bruto", "pdrb"),
    ("Indeks Pembangunan Manusia", "ipm"),
    ("Indikator Kesejahteraan Rakyat", "ikr"),
    ("Statistik Potensi Desa", "podes"),
    ("Kabupaten", "kab"),
)
OPTIONAL_WORDS = frozenset({"kabupaten", "kota", "menurut"})


def shipped() -> list[dict]:
    """The shipped catalogue as rows (real records with a domain, then the modelled ones)."""
    with (DATA / "publications.jsonl").open(encoding="utf-8") as lines:
        real = jsonl_batch(lines, "publications.jsonl").rows
    return real + modelled.publications(real)


def patterns(rows: list[dict]) -> list[str]:
    """Series patterns from the titles that name their own regency or city."""
    found = set()
    for row in rows:
        region = _region(row["domain"])
        if region is None or region not in row["title"]:
            continue
        pattern = row["title"].replace(region, "{region}")
        pattern = re.sub(r"(19|20)\d\d\s*-\s*(19|20)\d\d", "{start}-{year}", pattern)
        pattern = re.sub(r"(?<![\d{])(19|20)\d\d(?!\d)", "{year}", pattern)
        if "{year}" in pattern:
            found.add(pattern)
    return sorted(found)


def catalogue(size: int, base: list[dict], series: list[str], rng: random.Random) -> list[Record]:
    """``size`` records: the shipped ``base`` rows and a random sample of region × series × year."""
    regions = [d for d in domains().values() if d.level in ("kabupaten", "kota")]
    combos = [(d, s, y) for d in regions for s in series for y in YEARS]
    wanted = max(size - len(base), 0)
    records = [
        Record(i, row["domain"], row["pub_id"], row["title"], row["year"])
        for i, row in enumerate(base[:size], 1)
    ]
    for domain, pattern, year in rng.sample(combos, wanted):
        title = pattern.format(region=_region(domain.code), start=year - 4, year=year)
        records.append(Record(len(records) + 1, domain.code, f"syn-{len(records)}", title, year))
    return records


def visitor_query(record: Record, rng: random.Random) -> tuple[str, bool]:
    """How a visitor might ask for ``record``; and whether the query names the year."""
    text = re.sub(r"\s*(19|20)\d\d\s*-\s*", " ", record.title)
    text = re.sub(r"(19|20)\d\d", " ", text)
    for long, short in ABBREVIATE:
        if rng.random() < 0.5:
            text = re.sub(long, short, text)
    words = [w for w in text.lower().replace(",", " ").split() if w]
    words = [w for w in words if w not in OPTIONAL_WORDS or rng.random() < 0.5] or words
    if rng.random() < 0.5:
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        words[longest] = _typo(words[longest], rng)
    if rng.random() < 0.3:
        rng.shuffle(words)
    named = record.year is not None and rng.random() < 0.9
    if named:
        words.append(str(record.year) if rng.random() < 0.67 else f"{record.year % 100:02d}")
    return " ".join(words), named


def answered(hits, record: Record, named: bool) -> bool:
    """True when the hits hold ``record`` (any year of its title when the year was not named)."""
    if named:
        return any(hit.id == record.id for hit in hits)
    wanted = (record.domain, title_words(record.title))
    return any((hit.domain, title_words(hit.title)) == wanted for hit in hits)


def run(size: int, queries: int, base: list[dict], series: list[str]) -> None:
    """Build a ``size`` catalogue, time ``queries`` queries, print one result line."""
    rng = random.Random(size)
    records = catalogue(size, base, series, rng)
    start = time.perf_counter()
    index = SearchIndex(records)
    build = time.perf_counter() - start
    latencies, right = [], 0
    for record in rng.sample(records, queries):
        query, named = visitor_query(record, rng)
        start = time.perf_counter()
        result = index.search(query)
        latencies.append((time.perf_counter() - start) * 1000)
        right += answered(result.hits, record, named)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(
        f"{len(records):>7} titles  build {build:6.2f} s  "
        f"median {statistics.median(latencies):6.2f} ms  p95 {p95:6.2f} ms  "
        f"recall@5 {right / queries:.3f} ({queries} queries)"
    )


def _region(code: str) -> str | None:
    domain = domains().get(code)
    if domain is None or domain.level not in ("kabupaten", "kota"):
        return None
    return f"{'Kabupaten' if domain.level == 'kabupaten' else 'Kota'} {domain.name}"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    base = shipped()
    series = patterns(base)
    print(f"{len(base)} shipped titles, {len(series)} series patterns")
    for size in args.sizes:
        run(size, args.queries, base, series)


if __name__ == "__main__":
    main()
