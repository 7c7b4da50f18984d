"""The foundation's "done when": a WhatsApp and a Telegram visitor each get the menu, the Majene
library requirements and a completed guest book, and the profiles survive a restart.

Set ``PSTBOT_TRANSCRIPTS=<folder>`` to keep the two transcripts as text files.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Visitor
from tests.harness import TelegramVisitor, WhatsAppVisitor

MAJENE_WA = "+6282210007601"


def _majene_library_and_guest_book(visitor, pst) -> None:
    visitor.taps("Info layanan")
    visitor.taps("Perpustakaan")
    visitor.taps("Online")
    text = visitor.reads()
    standard = pst.office("7601").layanan["perpustakaan"]
    assert "SK No. 014a/KGP TAHUN 2023" in text
    for item in standard.persyaratan.online + standard.prosedur.online:
        assert item in text
    assert "majenekab.bps.go.id" in text and "WITA" in text
    visitor.taps("Info kunjungan langsung")
    text = visitor.reads()
    for item in standard.persyaratan.langsung:
        assert item in text
    visitor.taps("Menu utama")
    visitor.taps("Buku tamu")
    visitor.taps("Setuju")


def test_whatsapp_visitor_end_to_end_survives_restart(pstbot, twilio_api, pst):
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6281356781234", MAJENE_WA, "Andi Mappe")
    wa.says("Selamat pagi")
    assert "Menu utama — BPS Kabupaten Majene" in wa.reads()
    _majene_library_and_guest_book(wa, pst)
    wa.says("Andi Mappe")
    wa.says("andi.mappe@gmail.com")
    assert "Pakai nomor WhatsApp ini (+62 813-5678-1234)" in wa.reads()
    wa.taps("Pakai nomor WhatsApp ini (+62 813-5678-1234)")
    wa.says("Dinas Pendidikan Kabupaten Majene")
    wa.taps("ASN/TNI/Polri")
    wa.taps("Perencanaan/evaluasi pemerintahan")
    assert "Telepon: +62 813-5678-1234" in wa.reads()
    wa.taps("Simpan")
    assert "Terima kasih, Andi Mappe" in wa.reads()

    pstbot.restart()
    wa.says("menu")
    wa.taps("Buku tamu")
    saved = wa.reads()
    assert "Data buku tamu Anda yang tersimpan" in saved
    assert "Instansi: Dinas Pendidikan Kabupaten Majene" in saved
    wa.save_transcript("whatsapp")
    with pstbot.service.db.transaction() as session:
        visitor = session.scalars(select(Visitor).where(Visitor.channel == "whatsapp")).one()
        assert (visitor.email, visitor.telepon, visitor.office_code) == (
            "andi.mappe@gmail.com",
            "+6281356781234",
            "7601",
        )


def test_telegram_visitor_end_to_end_survives_restart(pstbot, telegram_api, pst):
    tg = TelegramVisitor(pstbot, telegram_api, 880011, "Nurul")
    tg.says("/start")
    assert "kantor BPS mana" in tg.reads()
    tg.taps("BPS Kabupaten Majene")
    assert "Menu utama — BPS Kabupaten Majene" in tg.reads()
    _majene_library_and_guest_book(tg, pst)
    tg.says("Nurul Hikmah")
    tg.says("nurul.hikmah@unsulbar.ac.id")
    tg.says("0813 4201 7788")
    tg.says("Universitas Sulawesi Barat")
    tg.taps("Pelajar/mahasiswa")
    tg.says("Skripsi tentang kemiskinan")
    review = tg.reads()
    assert "Tujuan: Skripsi tentang kemiskinan" in review
    tg.taps("Simpan")
    assert "Buku tamu Anda tersimpan" in tg.reads()

    pstbot.restart()
    tg.says("/start")  # /start of a known visitor: no office question again
    text = tg.reads()
    assert "kantor BPS mana" not in text and "Menu utama — BPS Kabupaten Majene" in text
    tg.taps("Buku tamu")
    assert "Nama: Nurul Hikmah" in tg.reads()
    tg.save_transcript("telegram")
    with pstbot.service.db.transaction() as session:
        visitor = session.scalars(select(Visitor).where(Visitor.channel == "telegram")).one()
        assert (visitor.telepon, visitor.pekerjaan) == ("+6281342017788", "Pelajar/mahasiswa")
