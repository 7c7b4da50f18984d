"""The consultation knowledge base: questions visitors ask about PST services and BPS statistical
concepts, each with a short answer and its source (``catalogue/data/kb.yaml``; where its facts
come from is in the file's header and in ``catalogue/data/README.md``).

How a visitor's question is scored against every entry:

1. The question (its first :data:`MAX_QUERY_CHARS` characters) becomes words with
   :func:`catalogue.abbreviations.title_words` (accents and emoji dropped, lower case, split at
   punctuation, years dropped, ``stat`` → *statistik* …), less the question and filler words of
   :data:`QUESTION_WORDS` (*apa*, *itu*, *gimana*, *adl* …). The entries' questions and keywords
   become words the same way.
2. Each word is looked up among the entries' words: exactly (also without the clitic *-nya*:
   ``caranya`` → *cara*), else with ``rapidfuzz.process.extract`` (``fuzz.ratio`` ≥ 80, or ≥ 85
   for four letters; shorter words must be exact), else as the start of a word (``perpus`` →
   *perpustakaan*, 0.85), so typos and chat shorthand count nearly fully and word order does
   not matter.
3. Words weigh by rarity among the entries (``log(1 + N / df)``): *tpt* outweighs *layanan*.
   A word found in no entry weighs the average of the words found.
4. An entry's score is ``100 × (0.7 × share of the question's weight found in the entry's words
   + 0.3 × share of its best-covered question or keyword found in the question)``.
5. Entries under :data:`THRESHOLD` are not matches: unrelated questions get none. Equal scores
   are ordered by how closely one of the entry's question or keywords reads like the question
   as written (``fuzz.ratio`` of the words in order: "data harga" before "harga data"), then by
   the file's order.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rapidfuzz import fuzz, process

from catalogue.abbreviations import title_words

DEFAULT_PATH = Path(__file__).with_name("data") / "kb.yaml"
MAX_QUERY_CHARS = 200  # longer input is cut: no question needs more, and it bounds the work
THRESHOLD = 60.0  # below this an entry does not answer the question
QUERY_SHARE = 0.7  # weight of "how much of the question was found" against "of the entry"
FUZZY_CUTOFF = 80  # fuzz.ratio for a mistyped word of five letters or more
FUZZY_CUTOFF_SHORT = 85  # … of four letters (shorter words must be exact)
NEAR_TOP = 5  # fuzzy candidates this close to the best one count as well
PREFIX_CREDIT = 0.85  # a question word that is the start of an entry word ("perpus")

# Words of asking rather than of the topic ("apa itu tpt", "gimana cara …", "inflasi adl").
QUESTION_WORDS = frozenset(
    {"apa", "apakah", "apaan", "itu", "ini", "adalah", "adl", "ialah", "yaitu", "yg", "bagaimana",
     "gimana", "gmn", "gmana", "bgmn", "bgm", "berapa", "brp", "siapa", "mana", "dimana",
     "kenapa", "mengapa", "knp", "saya", "aku", "sy", "kami", "anda", "mau", "ingin", "pengen",
     "pingin", "tolong", "mohon", "dong", "deh", "sih", "nih", "ya", "yah", "kak", "kakak", "min",
     "admin", "pak", "bu", "bapak", "ibu", "halo", "hai", "permisi", "bisa", "bisakah", "boleh",
     "ada", "tentang", "soal", "maksud", "maksudnya", "arti", "artinya", "pengertian", "definisi",
     "jelaskan", "penjelasan", "tahu", "tau", "kah", "nya", "utk", "dgn", "sama", "juga", "saja",
     "aja", "tu", "tuh", "gitu", "ga", "gak", "nggak", "ngga", "enggak", "pakai", "pake", "kalau",
     "kalo", "bps"}
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One knowledge-base entry: the question it answers, the words visitors use for it, the
    answer (plain text) and the title and address of the document the answer comes from."""

    id: str
    question: str
    keywords: tuple[str, ...]
    answer: str
    source_title: str
    source_url: str


@dataclass(frozen=True)
class Match:
    """An entry that answers a question, with its ``score`` (0–100, higher is better)."""

    entry: Entry
    score: float


class KnowledgeBaseError(ValueError):
    """The knowledge-base file is missing, is not YAML, or an entry breaks the schema; the
    message names the file and the entry (its number and id)."""


_NonEmpty = Annotated[str, Field(min_length=1)]


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: _NonEmpty
    url: str = Field(pattern=r"^https?://\S+$")


class _EntryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    question: _NonEmpty
    keywords: list[_NonEmpty] = Field(min_length=1)
    answer: _NonEmpty
    source: _Source


class KnowledgeBase:
    """The entries and their search index; searching is read-only and safe from several threads.

    ``KnowledgeBase(entries)`` indexes :class:`Entry` s; :meth:`load` reads and validates them
    from a YAML file.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(entries)
        self._phrases = [
            [p for p in (_words(text) for text in (e.question, *e.keywords)) if p]
            for e in self.entries
        ]
        self._postings: dict[str, set[int]] = {}
        for i, phrases in enumerate(self._phrases):
            for word in {w for phrase in phrases for w in phrase}:
                self._postings.setdefault(word, set()).add(i)
        n = len(self.entries)
        self._idf = {word: math.log(1 + n / len(ids)) for word, ids in self._postings.items()}
        self._vocabulary = sorted(self._postings)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> KnowledgeBase:
        """Read the YAML list of entries at ``path`` (default: the shipped ``kb.yaml``).

        Each item needs ``id`` (lower case, digits and hyphens, unique), ``question``,
        ``keywords`` (a non-empty list), ``answer`` and ``source`` (``title``, ``url`` starting
        ``http://`` or ``https://``), all non-blank, and nothing else.

        Raises:
            KnowledgeBaseError: the file cannot be read, is not YAML, is not a non-empty list, or
                an entry is invalid or repeats an id; the message names the file, the entry's
                number and its id (``kb.yaml: entry 12 (id 'tpt'): answer: …``).
        """
        path = Path(path)
        try:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed
            data = yaml.load(path.read_text(encoding="utf-8"), loader)
        except OSError as exc:
            raise KnowledgeBaseError(f"{path}: cannot read ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise KnowledgeBaseError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(data, list) or not data:
            raise KnowledgeBaseError(f"{path}: expected a non-empty list of entries")
        return cls(_validated(path, data))

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, question: str, limit: int = 3) -> list[Match]:
        """The entries that answer ``question`` best, best first (at most ``limit``).

        Scoring and the order of equal scores are described in the module docstring. An
        empty, emoji-only or unrelated question gives ``[]``; text past :data:`MAX_QUERY_CHARS`
        characters is ignored. Never raises for any string.
        """
        words = _words(question[:MAX_QUERY_CHARS])
        resolved = [self._resolve(word) for word in words]
        weights = [max(self._idf[v] for v in r) for r in resolved if r]
        if not weights or limit <= 0:
            return []
        unknown_weight = sum(weights) / len(weights)
        total = sum(weights) + unknown_weight * (len(resolved) - len(weights))
        found: dict[str, float] = {}  # entry word → its best similarity to a question word
        for r in resolved:
            for word, similarity in r.items():
                found[word] = max(found.get(word, 0.0), similarity)
        ranked = []
        for i in sorted({i for word in found for i in self._postings[word]}):
            share = self._query_share(i, resolved, total)
            coverage = max(self._coverage(phrase, found) for phrase in self._phrases[i])
            score = round(100 * (QUERY_SHARE * share + (1 - QUERY_SHARE) * coverage), 1)
            if score >= THRESHOLD:
                ranked.append((-score, -self._likeness(i, words), i))
        return [Match(self.entries[i], -score) for score, _, i in sorted(ranked)[:limit]]

    def _resolve(self, word: str) -> dict[str, float]:
        """The entries' words ``word`` may be (itself, or mistyped), with similarity 0–1."""
        if word in self._postings:
            return {word: 1.0}
        if word.endswith("nya") and word[:-3] in self._postings:
            return {word[:-3]: 1.0}
        if len(word) < 4 or word.isdigit():
            return {}
        cutoff = FUZZY_CUTOFF if len(word) >= 5 else FUZZY_CUTOFF_SHORT
        near = process.extract(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
        if near:
            top = near[0][1]
            return {w: score / 100 for w, score, _ in near if score >= top - NEAR_TOP}
        start = bisect.bisect_left(self._vocabulary, word)
        longer = itertools.takewhile(lambda w: w.startswith(word), self._vocabulary[start:])
        return dict.fromkeys(longer, PREFIX_CREDIT)

    def _query_share(self, i: int, resolved: Sequence[dict[str, float]], total: float) -> float:
        """Share of the question's weight found among entry ``i``'s words."""
        found = 0.0
        for r in resolved:
            here = [(self._idf[w] * s) for w, s in r.items() if i in self._postings[w]]
            found += max(here, default=0.0)
        return found / total

    def _likeness(self, i: int, words: tuple[str, ...]) -> float:
        """How closely entry ``i``'s question or a keyword reads like ``words``, in order."""
        text = " ".join(words)
        return max(fuzz.ratio(text, " ".join(phrase)) for phrase in self._phrases[i])

    def _coverage(self, phrase: tuple[str, ...], found: dict[str, float]) -> float:
        """Share of ``phrase``'s weight (a question or keyword) that the question contains."""
        weight = sum(self._idf[w] for w in phrase)
        return sum(self._idf[w] * found.get(w, 0.0) for w in phrase) / weight


def _words(text: str) -> tuple[str, ...]:
    """The words of ``text`` that carry its topic, each once, in order."""
    return tuple(dict.fromkeys(w for w in title_words(text) if w not in QUESTION_WORDS))


def _validated(path: Path, items: list[Any]) -> list[Entry]:
    """The :class:`Entry` s of the YAML ``items``; raises :class:`KnowledgeBaseError`."""
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        try:
            model = _EntryModel.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(part) for part in err["loc"]) or "(entry)"
            raise KnowledgeBaseError(
                f"{path}: entry {number} (id {_raw_id(item)!r}): {key}: {err['msg']}"
            ) from exc
        if model.id in seen:
            raise KnowledgeBaseError(
                f"{path}: entry {number}: duplicate id {model.id!r} (also entry {seen[model.id]})"
            )
        seen[model.id] = number
        entries.append(
            Entry(
                id=model.id,
                question=model.question,
                keywords=tuple(model.keywords),
                answer=model.answer,
                source_title=model.source.title,
                source_url=model.source.url,
            )
        )
    return entries


def _raw_id(item: Any) -> str | None:
    """The ``id`` an invalid item gives itself, if any, for the error message."""
    return str(item["id"]) if isinstance(item, dict) and "id" in item else None
