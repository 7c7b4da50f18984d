"""Catalogue search: typo-tolerant, abbreviation-aware, ranked by region and year.

How a query is scored against every publication (vectorised with numpy, so a 100k-title
catalogue answers in milliseconds):

1. :func:`catalogue.abbreviations.parse_query` turns the text into terms (each with its
   alternatives: ``ipm`` → *indeks pembangunan manusia*) and the year asked for.
2. Each query word is looked up in the catalogue's vocabulary: exactly, else by
   ``rapidfuzz.process.extract`` (``fuzz.ratio`` ≥ 80, or ≥ 85 for four letters), else as the
   start of a word, else as two words written together (``dalamangka``).
3. A word found in a title counts fully, in the publication's place names (its domain and
   province, so *Kalbar* finds Ketapang) 0.9, in the abstract 0.5, times the fuzzy similarity.
4. Words weigh by rarity (``log(1 + N / df)``): *Ketapang* outweighs *Kabupaten*. The score is
   ``100 × (0.8 × share of the query found + 0.2 × share of the title matched)``; words found
   nowhere weigh as the query's average word.
5. Where a query names a place (a word of a domain, province or kecamatan name that is not
   a generic word such as *Barat*, also a place the catalogue has nothing of), publications
   of none of the places named lose 40 points. A year asked for costs the other years 10–20
   points (3 within a title's range such as *2019-2023*). Titles about one kecamatan lose 5
   points unless the query asks for a kecamatan: "kendal dalam angka" finds the regency's
   book before Kecamatan Kendal's.
6. Publications under :data:`THRESHOLD` are not matches; the rest are ranked by score, then
   newest first.
"""

from __future__ import annotations

import bisect
import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import select

from catalogue.abbreviations import (
    GENERIC_PLACE_WORDS,
    Query,
    parse_query,
    title_words,
    title_years,
)
from catalogue.regions import all_place_names, place_names
from storage.db import Database
from storage.models import Publication

THRESHOLD = 60.0  # below this a publication is not a match ("no good match" = nothing)
QUERY_SHARE = 0.8  # weight of "how much of the query was found" against "of the title"
PLACE_CREDIT = 0.9  # a word found in the publication's place names, not its title
ABSTRACT_CREDIT = 0.5  # a word found only in the abstract
PLACE_MATCHED = 0.75  # a place term counts as found from this credit on
PLACE_PENALTY = 40.0  # for publications of none of the places a query names
FUZZY_CUTOFF = 80  # fuzz.ratio for a mistyped word of five letters or more
FUZZY_CUTOFF_SHORT = 85  # … of four letters (shorter words must be exact)
PREFIX_CREDIT = 0.85  # a query word that is the start of a title word ("kesejah")
KECAMATAN = "kecamatan"  # titles about one kecamatan rank below the regency's own …
KECAMATAN_PENALTY = 5.0  # … unless the query asks for a kecamatan ("kendal dalam angka")


@dataclass(frozen=True)
class Record:
    """What the index needs of a publication (``id`` is ``Publication.id``)."""

    id: int
    domain: str
    pub_id: str
    title: str
    year: int | None = None
    abstract: str | None = None


@dataclass(frozen=True)
class Hit:
    """One match: the publication and its ``score`` (0–100)."""

    id: int
    domain: str
    pub_id: str
    title: str
    year: int | None
    score: float


@dataclass(frozen=True)
class SearchResult:
    """One page of matches, best first, and ``total``: how many matches there are in all."""

    hits: list[Hit]
    total: int


class SearchIndex:
    """An in-memory index of the catalogue; build it again after the catalogue changes.

    ``SearchIndex(records)`` indexes :class:`Record` s; :meth:`from_db` reads them from the
    ``publications`` table. Searching is read-only and safe from several threads. ``years`` is
    the span of the catalogue's years, which decides what a two-digit year means.
    """

    def __init__(self, records: Iterable[Record]) -> None:
        self._records = list(records)
        self._vocab: dict[str, int] = {}
        postings: tuple[dict[int, list[int]], ...] = ({}, {}, {})  # title, place, abstract
        for i, record in enumerate(self._records):
            title = set(title_words(record.title))
            place = set(title_words(" ".join(place_names(record.domain)))) - title
            abstract = set(title_words(_plain(record.abstract or ""))) - title - place
            for field, words in zip(postings, (title, place, abstract), strict=True):
                for word in words:
                    field.setdefault(self._vocab.setdefault(word, len(self._vocab)), []).append(i)
        n = len(self._records)
        self._title, self._place, self._abstract = (
            {word: np.array(docs, dtype=np.int32) for word, docs in field.items()}
            for field in postings
        )
        self._idf = np.array([self._idf_of(v, n) for v in range(len(self._vocab))], np.float32)
        self._words = sorted(self._vocab)
        self._place_words = sorted(
            {
                word
                for name in all_place_names()
                for word in title_words(name)
                if word not in GENERIC_PLACE_WORDS and len(word) > 2
            }
        )
        self._places = {self._vocab[w] for w in self._place_words if w in self._vocab}
        self._title_weight = np.zeros(n, np.float32)
        for word, docs in self._title.items():
            self._title_weight[docs] += self._idf[word]
        years = [_years(record) for record in self._records]
        self._year = np.array([y[0] for y in years], np.int32)
        self._year_lo = np.array([y[1] for y in years], np.int32)
        self._year_hi = np.array([y[2] for y in years], np.int32)
        self._domain = np.array([record.domain for record in self._records], dtype="U8")
        self._kecamatan = np.zeros(n, bool)
        self._kecamatan[self._title.get(self._vocab.get(KECAMATAN, -1), [])] = True
        known = self._year[self._year > 0]
        self.years = range(int(known.min()), int(known.max()) + 1) if known.size else range(0)

    @classmethod
    def from_db(cls, db: Database) -> SearchIndex:
        """Index every row of the ``publications`` table of ``db``."""
        columns = (
            Publication.id,
            Publication.domain,
            Publication.pub_id,
            Publication.title,
            Publication.year,
            Publication.abstract,
        )
        with db.transaction() as session:
            rows = session.execute(select(*columns).order_by(Publication.id)).all()
        return cls(Record(*row) for row in rows)

    def __len__(self) -> int:
        return len(self._records)

    def search(
        self, query: str, *, domain: str | None = None, limit: int = 5, offset: int = 0
    ) -> SearchResult:
        """Rank the publications that match ``query`` well (see the module docstring).

        ``domain`` keeps only that BPS domain's publications (``None``: all domains);
        ``limit`` and ``offset`` choose the page. An empty, emoji-only or meaningless query,
        or one without a good match, gives no hits and ``total`` 0; text past 200 characters
        is ignored. Never raises for any string.
        """
        parsed = parse_query(query, self.years)
        scores = self._scores(parsed) if self._records else None
        if scores is None:
            return SearchResult([], 0)
        if domain is not None:
            scores[self._domain != domain] = 0.0
        matches = np.flatnonzero(scores >= THRESHOLD)
        order = matches[np.lexsort((matches, -self._year[matches], -scores[matches]))]
        start = max(offset, 0)
        page = order[start : start + max(limit, 0)]
        return SearchResult([self._hit(int(i), float(scores[i])) for i in page], len(matches))

    def _scores(self, query: Query) -> np.ndarray | None:
        n = len(self._records)
        found, weights, place_terms, used = [], [], [], set()
        unknown = 0
        for term in query.terms:
            credit, weight, is_place, words = self._term(term)
            if not words:
                unknown += 1
                if self._names_unlisted_place(term):
                    place_terms.append(np.zeros(n, np.float32))
                continue
            found.append(credit)
            weights.append(weight)
            used |= words
            if is_place:
                place_terms.append(credit)
        if not found:
            return None
        total_weight = sum(weights) + unknown * (sum(weights) / len(weights))
        query_share = sum(w * c for w, c in zip(weights, found, strict=True)) / total_weight
        title_matched = np.zeros(n, np.float32)
        for word in used:
            if word in self._title:
                title_matched[self._title[word]] += self._idf[word]
        title_share = np.divide(
            title_matched,
            self._title_weight,
            out=np.zeros(n, np.float32),
            where=self._title_weight > 0,
        )
        share = QUERY_SHARE * query_share + (1 - QUERY_SHARE) * title_share
        scores = 100.0 * share.astype(np.float64)
        if self._vocab.get(KECAMATAN) not in used:
            scores[self._kecamatan] -= KECAMATAN_PENALTY
        if place_terms:
            somewhere = np.logical_or.reduce([c >= PLACE_MATCHED for c in place_terms])
            scores[~somewhere] -= PLACE_PENALTY
        if query.year is not None:
            scores -= self._year_penalty(query.year)
        return np.round(np.clip(scores, 0.0, 100.0), 1)

    def _term(self, term: tuple[tuple[str, ...], ...]) -> tuple[np.ndarray, float, bool, set[int]]:
        """Credit per publication (0–1), weight, whether it names a place, vocabulary ids."""
        best = np.zeros(len(self._records), np.float32)
        weight, is_place, used = 0.0, False, set()
        for alternative in term:
            words = [part for word in alternative for part in self._split(word)]
            resolved = [self._resolve(word) for word in words]
            known = [r for r in resolved if r]
            if not known:
                continue
            credit = sum((self._credit(r) for r in known), np.zeros_like(best)) / len(words)
            np.maximum(best, credit, out=best)
            weight = max(weight, sum(self._idf[max(r, key=r.get)] for r in known) / len(known))
            is_place |= any(max(r, key=r.get) in self._places for r in known)
            used |= {v for r in known for v in r}
        return best, float(weight), is_place, used

    def _names_unlisted_place(self, term: tuple[tuple[str, ...], ...]) -> bool:
        """True when a term found nowhere in the catalogue is a place name all the same
        (``sleman`` in a catalogue without Sleman): then no publication is of that place."""
        for word in term[0]:
            cutoff = FUZZY_CUTOFF if len(word) >= 5 else 100
            if process.extractOne(word, self._place_words, scorer=fuzz.ratio, score_cutoff=cutoff):
                return True
        return False

    def _resolve(self, word: str) -> dict[int, float]:
        """Vocabulary ids a query word may mean, with their similarity (0–1)."""
        if word in self._vocab:
            return {self._vocab[word]: 1.0}
        if len(word) < 4 or word.isdigit():
            return {}
        cutoff = FUZZY_CUTOFF if len(word) >= 5 else FUZZY_CUTOFF_SHORT
        near = process.extract(word, self._words, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5)
        if near:
            top = near[0][1]
            return {self._vocab[w]: score / 100 for w, score, _ in near if score >= top - 5}
        start = bisect.bisect_left(self._words, word)
        prefixed = []
        for candidate in self._words[start : start + 5]:
            if candidate.startswith(word):
                prefixed.append(self._vocab[candidate])
        return dict.fromkeys(prefixed, PREFIX_CREDIT)

    def _split(self, word: str) -> tuple[str, ...]:
        """``word``, or the two vocabulary words it was written as (``dalamangka``)."""
        if word in self._vocab or len(word) < 6:
            return (word,)
        for cut in range(len(word) - 3, 2, -1):  # both parts of three letters or more
            if word[:cut] in self._vocab and word[cut:] in self._vocab:
                return word[:cut], word[cut:]
        return (word,)

    def _credit(self, resolved: dict[int, float]) -> np.ndarray:
        credit = np.zeros(len(self._records), np.float32)
        for word, similarity in resolved.items():
            for field, factor in (
                (self._title, 1.0),
                (self._place, PLACE_CREDIT),
                (self._abstract, ABSTRACT_CREDIT),
            ):
                docs = field.get(word)
                if docs is not None:
                    credit[docs] = np.maximum(credit[docs], similarity * factor)
        return credit

    def _year_penalty(self, year: int) -> np.ndarray:
        distance = np.minimum(np.abs(self._year - year), 5)
        in_range = (self._year_lo <= year) & (year <= self._year_hi)
        return np.where(
            self._year == year,
            0.0,
            np.where(in_range, 3.0, np.where(self._year == 0, 5.0, 10.0 + 2.0 * distance)),
        )

    def _idf_of(self, word: int, n: int) -> float:
        df = sum(len(field.get(word, ())) for field in (self._title, self._place))
        return math.log(1 + n / (df or len(self._abstract[word])))

    def _hit(self, i: int, score: float) -> Hit:
        record = self._records[i]
        return Hit(record.id, record.domain, record.pub_id, record.title, record.year, score)


def _plain(text: str) -> str:
    """Text of an abstract without HTML (WebAPI abstracts hold ``<br>``, ``&lt;b&gt;``)."""
    return re.sub(r"<[^>]+>", " ", html.unescape(html.unescape(text)))


def _years(record: Record) -> tuple[int, int, int]:
    """(year, earliest, latest) of a publication: its ``year`` or the last year in its title,
    and the span of the years its title names (``2019-2023``); zeros when it has none."""
    named = title_years(record.title)
    year = record.year or (named[-1] if named else 0)
    span = [*named, year] if year else named
    return year, min(span, default=0), max(span, default=0)
