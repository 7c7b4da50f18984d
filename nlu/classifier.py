"""The intent classifier: character n-gram and word TF-IDF with a linear support vector
machine (scikit-learn), trained once per process from the shipped utterance file.

Training is deterministic (liblinear's dual coordinate descent with a fixed seed) and takes
about 0.2 s, so no model file is shipped or fetched. Confidence is the softmax of the decision
scores (scaled by :data:`SHARPNESS`, chosen on held-out utterances in ``bench/nlu.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

from nlu import slots as read
from nlu.normalize import normalize
from nlu.words import yes_or_no

INTENTS = (
    "info_layanan", "buku_tamu", "perpustakaan", "permintaan_data", "konsultasi", "pengaduan",
    "penilaian", "status_tiket", "ganti_kantor", "bahasa", "salam", "terima_kasih", "bantuan",
    "batal", "menu", "ya", "tidak", "diluar_lingkup",
)  # fmt: skip
DETAIL_SLOTS = ("subject", "level", "format")  # the data-request details shown as slots
SHARPNESS = 4.0
CACHED_TEXTS = 4096  # distinct normalised texts whose intents are kept per process
_lock = threading.Lock()


@dataclass(frozen=True)
class Understanding:
    """What one message means: ``intent`` (one of :data:`INTENTS`), ``confidence`` (0–1, the
    model's probability, 1.0 for a rule), ``slots`` (``office``, ``year``, ``ticket``,
    ``subject``, ``level``, ``format``: strings, only those found) and ``ranked``: the
    likeliest intents with their probabilities, best first."""

    intent: str
    confidence: float
    slots: dict[str, str] = field(default_factory=dict)
    ranked: tuple[tuple[str, float], ...] = ()


def load_utterances(path: str | None = None) -> dict[str, list[str]]:
    """Intent → example messages, from ``path`` or the shipped ``nlu/data/utterances.yaml``.

    Raises:
        ValueError: the file names an intent not in :data:`INTENTS` or misses one, or an
            example is not a string (YAML reads an unquoted ``yes`` or ``no`` as a boolean).
    """
    text = (
        Path(path).read_text("utf-8")
        if path
        else resources.files("nlu").joinpath("data/utterances.yaml").read_text("utf-8")
    )
    intents = yaml.safe_load(text)["intents"]
    if set(intents) != set(INTENTS):
        raise ValueError(f"utterance intents differ from INTENTS: {set(intents) ^ set(INTENTS)}")
    for name, examples in intents.items():
        if odd := [u for u in examples if not isinstance(u, str)]:
            raise ValueError(f"{name}: examples must be quoted strings: {odd}")
    return intents


def utterances_version() -> int:
    """The ``version`` of the shipped utterance file."""
    text = resources.files("nlu").joinpath("data/utterances.yaml").read_text("utf-8")
    return int(yaml.safe_load(text)["version"])


def train(examples: dict[str, list[str]]) -> Pipeline:
    """A fitted classifier for ``examples`` (intent → messages); it reads normalised text."""
    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    )
    model = make_pipeline(features, LinearSVC(C=1.0, random_state=0))
    texts = [normalize(u) for us in examples.values() for u in us]
    labels = [name for name, us in examples.items() for _ in us]
    return model.fit(texts, labels)


@cache
def _model() -> Pipeline:
    return train(load_utterances())


def model() -> Pipeline:
    """The classifier trained from the shipped utterances, once per process (thread-safe)."""
    with _lock:
        return _model()


def classify(text: str, classifier: Pipeline | None = None) -> tuple[tuple[str, float], ...]:
    """Every intent with its probability for ``text``, best first."""
    if classifier is None:
        return _classify_shipped(normalize(text))
    return _ranked(classifier, normalize(text))


@lru_cache(maxsize=CACHED_TEXTS)
def _classify_shipped(normalized: str) -> tuple[tuple[str, float], ...]:
    # Visitors write the same short things again and again ("halo", "menu", "ok", "makasih"):
    # the shipped model's answer for a text never changes within a process.
    return _ranked(model(), normalized)


def _ranked(classifier: Pipeline, normalized: str) -> tuple[tuple[str, float], ...]:
    scores = classifier.decision_function([normalized])[0] * SHARPNESS
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    ranked = sorted(zip(classifier.classes_, probs, strict=True), key=lambda p: -p[1])
    return tuple((str(intent), float(p)) for intent, p in ranked)


def understand(
    text: str,
    offices: Iterable[tuple[str, str]] | None = None,
    classifier: Pipeline | None = None,
) -> Understanding:
    """The intent, confidence and slots of one visitor message.

    ``offices`` are (code, name) pairs whose names the ``office`` slot recognises (by default
    the offices of the shipped ``config.yaml``); ``classifier`` defaults to :func:`model`.
    """
    offices = default_offices() if offices is None else tuple(offices)
    ranked = classify(text, classifier)
    intent, confidence = ranked[0]
    found = _slots(text, offices)
    answer = yes_or_no(text)
    if answer:
        intent, confidence = answer, 1.0
    elif "ticket" in found and intent != "pengaduan":
        intent, confidence = "status_tiket", max(confidence, 0.9)
    if intent == "permintaan_data":
        found.update(
            {
                k: v
                for k, v in read.data_details(text).items()
                if k in ("subject", "level", "format")
            }
        )
    return Understanding(intent, round(confidence, 4), found, ranked[:3])


def _slots(text: str, offices: Sequence[tuple[str, str]]) -> dict[str, str]:
    found = {}
    if code := read.office(text, offices):
        found["office"] = code
    if years := read.years(text):
        found["year"] = years[0]
    if number := read.ticket(text):
        found["ticket"] = number
    return found


@cache
def default_offices() -> tuple[tuple[str, str], ...]:
    """(code, name) of the offices in the configuration ``PSTBOT_CONFIG`` (``config.yaml``)."""
    from office.config import ConfigError, load_config

    try:
        pst = load_config(os.environ.get("PSTBOT_CONFIG", "config.yaml"))
    except (ConfigError, OSError):
        return ()
    return tuple((o.code, o.nama) for o in pst.offices)
