"""Small pieces: text catalogues, splitting, option matching, backoff."""

from __future__ import annotations

import string

import pytest

from core.channels.base import numbered, split_text
from core.engine import Option, Reply, _match_label
from core.outbox import BACKOFF_MAX, backoff
from core.texts import Texts


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    texts = Texts.load()
    assert texts.languages == ["id", "en"]
    reference = texts.catalogues["id"]
    visitor_keys = {k for k in reference if not k.startswith("staff_")}  # staff read Indonesian
    for lang, catalogue in texts.catalogues.items():
        assert set(catalogue) - {k for k in catalogue if k.startswith("staff_")} == visitor_keys
        assert set(catalogue) <= set(reference), lang
        for key, text in catalogue.items():
            assert _placeholders(text) == _placeholders(reference[key]), (lang, key)


def test_split_text_respects_the_limit_and_keeps_every_word():
    paragraph = "Pengguna layanan mengisi buku tamu di front office. " * 20
    text = "\n\n".join([paragraph.strip()] * 5)
    pieces = split_text(text, 1600)
    assert len(pieces) > 1 and all(len(p) <= 1600 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())
    assert split_text("x" * 5000, 4096) == ["x" * 4096, "x" * 904]
    assert split_text("pendek", 1600) == ["pendek"]


def test_numbered_options_for_whatsapp():
    texts = Texts.load()
    reply = Reply("Pilih:", (Option("a", "Perpustakaan"), Option("b", "Pengaduan")))
    assert numbered(reply, texts, "id").splitlines()[2:4] == ["1. Perpustakaan", "2. Pengaduan"]
    assert numbered(Reply("Halo"), texts, "id") == "Halo"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("perpustakaan", "lib"),
        ("Perpustakan", "lib"),
        ("PENGADUAN!", "complaint"),
        ("info layanan", "info"),
        ("konsultasi", "consult"),
        ("apa ini", None),
        ("", None),
    ],
)
def test_typed_words_match_option_labels(typed, expected):
    offered = [
        ["info", "Info layanan"],
        ["lib", "Perpustakaan"],
        ["complaint", "Pengaduan"],
        ["consult", "Konsultasi statistik"],
    ]
    assert _match_label(typed, offered) == expected


def test_option_key_must_fit_telegram_callback_data():
    Option("x" * 64, "ok")
    with pytest.raises(ValueError, match="1-64 bytes"):
        Option("é" * 33, "too long in bytes")
    with pytest.raises(ValueError):
        Option("", "empty")


def test_backoff_doubles_caps_and_honours_retry_after():
    assert [backoff(n, 5) for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff(30, 5) == BACKOFF_MAX
    assert backoff(1, 5, retry_after=42) == 42
