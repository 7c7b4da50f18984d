"""The consultation knowledge base: the shipped file, answer quality on a table of visitors'
questions, unrelated and bad input, and broken files."""

from __future__ import annotations

import copy
import re
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalogue.kb import (
    DEFAULT_PATH,
    MAX_QUERY_CHARS,
    THRESHOLD,
    Entry,
    KnowledgeBase,
    KnowledgeBaseError,
)

# (what a visitor types, the entry that must be among the first three), with the typos,
# abbreviations, slang and word orders of chat messages. The first part was used while the
# keywords were written; the second ("held out") was written afterwards and measured before any
# change (top-1 0.90, top-3 0.93 then).
QUESTIONS = [
    ("apa itu tpt", "tpt"),
    ("tpt itu apa ya kak", "tpt"),
    ("gimana cara minta data", "cara-mendapatkan-data"),
    ("garis kemiskinan itu apa", "garis-kemiskinan"),
    ("berapa biaya layanan pst", "biaya-layanan"),
    ("pengertian ipm", "ipm"),
    ("inflasi adl", "inflasi"),
    ("inflsi itu apa", "inflasi"),
    ("apa itu ihk?", "ihk"),
    ("indeks harga konsumen dihitung pakai rumus apa", "ihk"),
    ("susenas tu apa", "susenas"),
    ("sakernas apaan min", "sakernas"),
    ("podes itu apa", "podes"),
    ("definisi penduduk menurut bps", "penduduk"),
    ("pdrb itu apa sih", "pdrb"),
    ("cara dapat data mikro", "data-mikro"),
    ("syarat ke perpustakaan bps apa aja", "perpustakaan-syarat"),
    ("pst buka jam brp", "jam-layanan"),
    ("layanan di pst gratis ga?", "biaya-layanan"),
    ("cara daftar mitra bps", "mitra-statistik"),
    ("rekomendasi statistik itu apa", "rekomendasi"),
    ("mau komplain pelayanan gimana", "pengaduan"),
    ("harus isi buku tamu ga", "buku-tamu"),
    ("boleh bawa tas ke perpustakaan?", "loker"),
    ("permintaan data berapa hari selesainya", "permintaan-data-waktu"),
    ("konsultasi online gmn caranya", "konsultasi-online"),
    ("rasio gini itu apa", "gini-ratio"),
    ("angka pengangguran kendal 2023", "tpt"),
    ("nilai tukar petani apa", "ntp"),
    ("laju pertumbuhan pendduk", "laju-pertumbuhan-penduduk"),
    ("sex ratio artinya apa", "rasio-jenis-kelamin"),
    ("tabel io itu apa", "input-output"),
    ("SPPD itu apa?", "sppd"),
    ("beli peta wilkerstat", "peta-wilkerstat"),
    ("download publikasi gratis bisa?", "unduh-publikasi"),
    ("komponen ipm apa aja", "ipm-indikator"),
    ("bagaimana bps mengukur kemiskinan", "kemiskinan"),
    ("data kemiskinan dari survei apa", "sumber-data-kemiskinan"),
    ("kepadatan pendudk", "kepadatan-penduduk"),
    ("cara beli buku publikasi bps", "ruang-layanan"),
    ("apakah data bps berbayar", "data-berbayar"),
    ("syarat konsultasi statistik", "konsultasi-syarat"),
    ("berapa lama dilayani di perpustakaan", "perpustakaan-waktu"),
    ("syarat ngajuin rekomendasi kegiatan statistik", "rekomendasi-syarat"),
    ("PST itu apa", "pst"),
    ("alur datang langsung ke pst", "alur-kunjungan"),
    ("cara unduh softcopy di pst.bps.go.id", "perpustakaan-online"),
    ("ipm metode baru", "ipm-metode-baru"),
    ("data angkatan kerja ada apa aja", "subjek-tenaga-kerja"),
    ("isi survei kepuasan di mana", "survei-kepuasan"),
    ("kemiskinan garis", "garis-kemiskinan"),
    ("berapa lama konsultasi dijawab", "konsultasi-waktu"),
    ("hasil rekomendasi keluar berapa lama", "rekomendasi-proses"),
    ("romantik bps panduannya dmn", "romantik"),
    ("data apa aja yg ada di bps", "subjek-data"),
    ("persentase penduduk miskin", "penduduk-miskin"),
    ("apa aja layanan di bps majene", "layanan-majene"),
    ("perpus digital itu apa", "perpustakaan"),
    ("dapat apa dari perpustakaan, hardcopy?", "produk-perpustakaan"),
    ("harga konsumen dihitung di kota mana aja", "ihk-kota"),
    ("syarat perpustakaan ketapang", "perpustakaan-ketapang"),
    ("beli produk statistik gimana", "produk-berbayar"),
    ("data penduduk ada apa aja", "subjek-kependudukan"),
    ("data harga apa saja", "subjek-harga"),
    ("konsultasi statistik itu apa", "konsultasi"),
    # held out
    ("tingkat pengangguran terbuka maksudnya apa", "tpt"),
    ("kalau mau data ke bps caranya gmn", "cara-mendapatkan-data"),
    ("GK itu apa kak", "garis-kemiskinan"),
    ("pelayanan di pst bayar ga", "biaya-layanan"),
    ("ipm tuh apa", "ipm"),
    ("arti deflasi", "inflasi"),
    ("survei sosial ekonomi nasional itu apa", "susenas"),
    ("potensi desa apa itu", "podes"),
    ("produk domestik regional bruto", "pdrb"),
    ("minta raw data survei bisa?", "data-mikro"),
    ("jam operasional pst", "jam-layanan"),
    ("rekrutmen mitra statistik kapan", "mitra-statistik"),
    ("gimana cara lapor kalau pelayanan jelek", "pengaduan"),
    ("wajib isi buku tamu?", "buku-tamu"),
    ("titip tas dimana", "loker"),
    ("data yang saya minta kapan jadi", "permintaan-data-waktu"),
    ("chat petugas pst online", "konsultasi-online"),
    ("ketimpangan pengeluaran diukur pakai apa", "gini-ratio"),
    ("sakernas itu survei apa", "sakernas"),
    ("ntp tahun dasar berapa", "ntp"),
    ("umur harapan hidup termasuk komponen ipm?", "ipm-indikator"),
    ("apa syarat pinjam buku di perpustakaan", "perpustakaan-syarat"),
    ("surat perjanjian penggunaan data", "sppd"),
    ("konsultasi statistik berapa lama", "konsultasi-waktu"),
    ("penduduk wna dihitung ga", "penduduk"),
    ("perpustakaan digital bps", "perpustakaan"),
    ("beli publikasi cetak dimana", "ruang-layanan"),
    ("tarif pnbp data bps", "data-berbayar"),
    ("izin survei ke bps untuk opd", "rekomendasi"),
    ("berapa banyak kota yang dihitung inflasinya", "ihk-kota"),
]

# Questions a PST knowledge base has no answer to: they must get none.
UNRELATED = [
    "siapa presiden pertama",
    "resep nasi goreng",
    "cara masak rendang",
    "harga emas hari ini",
    "cuaca besok",
    "jadwal kereta api",
    "jadwal sholat",
    "tiket pesawat murah",
    "cara buat ktp",
    "cara daftar bpjs",
    "pinjaman online",
    "siapa kepala bps",
    "hasil pemilu 2024",
    "lirik lagu indonesia raya",
    "skor bola tadi malam",
    "apa kabar",
    "terima kasih",
]

# Input that is no question at all.
NOT_QUESTIONS = [
    "",
    "   ",
    "😀😀😀",
    "🙏",
    "!!!???",
    "12345",
    "asdfghjkl",
    "a b c d e f",
    "x" * 2000,
]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def ids(matches: list) -> list[str]:
    return [m.entry.id for m in matches]


def shipped_items() -> list[dict[str, Any]]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def write(path: Path, items: Any) -> Path:
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    return path


# --- the shipped file ---------------------------------------------------------------------------


def test_the_shipped_file_loads_with_40_to_60_complete_entries(kb):
    assert 40 <= len(kb) <= 60
    assert len({e.id for e in kb.entries}) == len(kb)
    for entry in kb.entries:
        assert entry.question.endswith("?"), entry.id
        assert entry.keywords, entry.id
        assert entry.source_title and entry.source_url.startswith(("http://", "https://"))


def test_every_answer_is_two_to_six_sentences_of_plain_text(kb):
    for entry in kb.entries:
        sentences = re.findall(r"[.!?](?:\s+(?=[A-Z0-9])|$)", entry.answer)
        assert 2 <= len(sentences) <= 6, (entry.id, len(sentences))
        assert "\n" not in entry.answer and "*" not in entry.answer, entry.id


def test_the_table_covers_every_entry(kb):
    assert len(QUESTIONS) >= 25
    assert {e.id for e in kb.entries} == {expected for _, expected in QUESTIONS}


def test_every_entry_is_the_best_answer_to_its_own_question(kb):
    for entry in kb.entries:
        assert ids(kb.search(entry.question))[:1] == [entry.id]


# --- answer quality ------------------------------------------------------------------------------


def test_top_3_accuracy_on_visitors_questions(kb):
    results = [(q, expected, ids(kb.search(q))) for q, expected in QUESTIONS]
    top1 = sum(got[:1] == [expected] for _, expected, got in results) / len(results)
    missed = [(q, expected, got) for q, expected, got in results if expected not in got]
    top3 = 1 - len(missed) / len(results)
    print(f"\ntop-1 = {top1:.3f}, top-3 = {top3:.3f} on {len(results)} questions; missed: {missed}")
    assert top3 >= 0.9, missed


@pytest.mark.parametrize(("question", "expected"), QUESTIONS[:8])
def test_the_issue_examples_come_first(kb, question, expected):
    assert ids(kb.search(question))[:1] == [expected]


def test_word_order_typos_and_case_do_not_change_the_answer(kb):
    same = ["garis kemiskinan", "kemiskinan garis", "GARIS KEMISKINAN!!", "garis kemiskinn"]
    assert {ids(kb.search(q))[0] for q in same} == {"garis-kemiskinan"}


def test_chat_shorthand_finds_the_full_word(kb):
    assert ids(kb.search("perpus digital"))[:1] == ["perpustakaan"]
    assert ids(kb.search("syaratnya konsultasi"))[:1] == ["konsultasi-syarat"]


def test_matches_are_ordered_scored_and_limited(kb):
    matches = kb.search("kemiskinan", limit=5)
    assert len(matches) > 3
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(THRESHOLD <= s <= 100 for s in scores)
    assert len(kb.search("kemiskinan")) == 3
    assert len(kb.search("kemiskinan", limit=1)) == 1
    assert kb.search("kemiskinan", limit=0) == []


def test_equal_scores_prefer_the_keyword_written_in_the_same_order(kb):
    first, second = kb.search("data harga")[:2]
    assert first.score == second.score
    assert (first.entry.id, second.entry.id) == ("subjek-harga", "data-berbayar")
    assert ids(kb.search("harga data"))[:1] == ["data-berbayar"]


# --- unrelated and bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("question", UNRELATED)
def test_unrelated_questions_get_no_answer(kb, question):
    assert kb.search(question) == []


@pytest.mark.parametrize("question", NOT_QUESTIONS)
def test_input_that_is_no_question_gets_no_answer(kb, question):
    assert kb.search(question) == []


def test_only_the_start_of_a_long_message_is_read(kb):
    padding = "x" * MAX_QUERY_CHARS
    assert ids(kb.search("apa itu tpt " + padding))[:1] == ["tpt"]
    assert kb.search(padding + " apa itu tpt") == []


def test_search_time_for_one_question(kb):
    questions = [q for q, _ in QUESTIONS]
    first = [ids(kb.search(q)) for q in questions]
    timings, again = [], []
    for n in range(200):
        question = questions[n % len(questions)]
        start = time.perf_counter()
        again.append(ids(kb.search(question)))
        timings.append(time.perf_counter() - start)
    print(f"\nmedian search time: {statistics.median(timings) * 1000:.2f} ms over 200 questions")
    assert again == [first[n % len(questions)] for n in range(200)]


# --- the KnowledgeBase without the shipped file --------------------------------------------------


def test_a_knowledge_base_can_be_built_from_entries():
    entries = [
        Entry("a", "Apa itu satu?", ("satu", "pertama"), "Satu. Dua.", "Sumber", "https://x.id"),
        Entry("b", "Apa itu dua?", ("dua", "kedua"), "Dua. Tiga.", "Sumber", "https://x.id"),
    ]
    kb = KnowledgeBase(entries)
    assert len(kb) == 2
    assert ids(kb.search("pertama"))[:1] == ["a"]
    assert ids(kb.search("kedua itu apa"))[:1] == ["b"]
    assert kb.search("tiga") == []  # answers are not searched, only questions and keywords


# --- broken files --------------------------------------------------------------------------------


def test_a_duplicate_id_is_named(tmp_path):
    items = shipped_items()
    items.append(copy.deepcopy(items[0]))
    with pytest.raises(KnowledgeBaseError, match=rf"entry {len(items)}: duplicate id 'pst'"):
        KnowledgeBase.load(write(tmp_path / "kb.yaml", items))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("answer"), r"\(id 'tpt'\): answer: Field required"),
        (lambda e: e.update(answer="   "), r"\(id 'tpt'\): answer: String should have at least"),
        (lambda e: e.update(keywords=[]), r"\(id 'tpt'\): keywords: List should have at least"),
        (lambda e: e["source"].pop("url"), r"\(id 'tpt'\): source\.url: Field required"),
        (lambda e: e["source"].update(url="bps.go.id"), r"\(id 'tpt'\): source\.url: String"),
        (lambda e: e.update(id="TPT 1"), r"\(id 'TPT 1'\): id: String should match pattern"),
        (lambda e: e.update(sumber="x"), r"\(id 'tpt'\): sumber: Extra inputs"),
        (lambda e: e.pop("id"), r"\(id None\): id: Field required"),
    ],
)
def test_a_broken_entry_is_named_with_its_id(tmp_path, change, message):
    items = shipped_items()
    number, entry = next((n, e) for n, e in enumerate(items, start=1) if e["id"] == "tpt")
    change(entry)
    path = write(tmp_path / "kb.yaml", items)
    with pytest.raises(KnowledgeBaseError, match=rf"kb\.yaml: entry {number} {message}"):
        KnowledgeBase.load(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- id: a\n  question: [unclosed\n", "not valid YAML"),
        ("entries: []\n", "expected a non-empty list of entries"),
        ("[]\n", "expected a non-empty list of entries"),
        ("", "expected a non-empty list of entries"),
        ("- just a string\n", r"entry 1 \(id None\): \(entry\): Input should be"),
    ],
)
def test_a_file_that_is_no_list_of_entries_is_refused(tmp_path, text, message):
    path = tmp_path / "kb.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=message):
        KnowledgeBase.load(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(KnowledgeBaseError, match=r"missing\.yaml: cannot read"):
        KnowledgeBase.load(tmp_path / "missing.yaml")
