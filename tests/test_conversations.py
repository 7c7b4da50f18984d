"""Whole conversations over the real webhooks, asserting what the visitor reads."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import InboundMessage, Visitor
from tests.harness import SHARED_NUMBER, WhatsAppVisitor

KENDAL_WA = "+6289633243324"
MAJENE_WA = "+6282210007601"


def _profile(pstbot, channel: str, user_id: str) -> Visitor:
    with pstbot.service.db.transaction() as session:
        return session.scalars(
            select(Visitor).where(Visitor.channel == channel, Visitor.user_id == user_id)
        ).one()


def test_kendal_walk_in_requirements_on_whatsapp(wa, pst):
    wa.says("halo")
    first = wa.reads()
    assert "Selamat datang" in first
    assert "Menu utama — BPS Kabupaten Kendal" in first  # the number written to decides
    assert "kantor BPS mana" not in first
    wa.taps("Info layanan")
    wa.taps("Perpustakaan")
    wa.taps("Kunjungan langsung")
    text = wa.reads()
    walk_in = pst.office("3324").layanan["perpustakaan"].persyaratan.langsung
    assert len(walk_in) == 4
    for requirement in walk_in:
        assert requirement in text
    assert "kartu identitas yang masih berlaku (KTP, SIM, Paspor" in text
    assert "memiliki akun pada aplikasi pelayanan" not in text  # an online-only requirement
    assert "Tidak dipungut biaya" in text
    assert "Jl. Pramuka" in text


def test_tarakan_complaint_channels_on_telegram(tg):
    tg.says("/start")
    assert "kantor BPS mana" in tg.reads()
    tg.taps("BPS Kota Tarakan")
    assert "Menu utama — BPS Kota Tarakan" in tg.reads()
    tg.taps("Info layanan")
    tg.taps("Pengaduan")
    text = tg.reads()
    for channel in (
        "(0551) 31715",
        "0851-8310-6571",
        "bps6571@bps.go.id",
        "s.bps.go.id/AduanPST6571",
        "BPS Kota Tarakan",
        "bpskotatarakan",
        "SP4N-LAPOR: www.lapor.go.id",
    ):
        assert channel in text
    assert "Ada lagi yang ingin Anda ketahui?" in text


def test_guest_book_bad_email_is_asked_again(tg, pstbot):
    tg.says("halo")
    tg.taps("BPS Kabupaten Ketapang")
    tg.taps("Buku tamu")
    assert "Apakah Anda setuju?" in tg.reads()
    tg.taps("Setuju")
    assert "nama lengkap" in tg.reads()
    tg.says("Dewi Lestari")
    tg.says("dewi.lestari@@contoh")
    reply = tg.reads()
    assert "Alamat email itu tidak valid" in reply
    assert reply.endswith("Apa alamat email Anda yang masih aktif?")
    tg.says("Dewi.Lestari@Contoh.co.id")
    tg.says("12")
    assert "Nomor telepon itu tidak valid" in tg.reads()
    tg.says("0812-5500-1234")
    tg.says("Universitas Tanjungpura")
    tg.taps("Peneliti/dosen")
    tg.taps("Penelitian")
    review = tg.reads()
    assert "Email: Dewi.Lestari@contoh.co.id" in review  # domain normalised by email-validator
    assert "Telepon: +62 812-5500-1234" in review
    tg.taps("Simpan")
    assert "Buku tamu Anda tersimpan" in tg.reads()
    visitor = _profile(pstbot, "telegram", tg.chat_id)
    assert (visitor.nama, visitor.telepon, visitor.pekerjaan) == (
        "Dewi Lestari",
        "+6281255001234",
        "Peneliti/dosen",
    )
    assert visitor.consent_at is not None


def test_refused_consent_stores_nothing(tg, pstbot):
    tg.says("halo")
    tg.taps("BPS Kabupaten Majene")
    tg.taps("Buku tamu")
    tg.taps("Tidak setuju")
    assert "tidak ada data Anda yang disimpan" in tg.reads()
    visitor = _profile(pstbot, "telegram", tg.chat_id)
    assert visitor.nama is None and visitor.consent_at is None


def test_duplicate_deliveries_are_processed_once(tg, wa, pstbot):
    update = tg.message_update("halo")
    assert tg.post(update).status_code == 200
    assert tg.post(update).status_code == 200  # Telegram re-delivers after a timeout
    tg.reads()
    assert len(tg.api.texts(5512345)) == 2  # welcome + office question, once
    form = wa.form("halo")
    assert wa.post(form).status_code == 200
    assert wa.post(form).status_code == 200
    wa.reads()
    assert len(wa.api.bodies(wa.chat_id)) == 2  # welcome + menu, once
    with pstbot.service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 2


def test_unsigned_or_wrongly_signed_webhooks_are_refused(tg, wa, pstbot):
    assert tg.post(tg.message_update("halo"), secret="wrong").status_code == 403
    assert tg.post(tg.message_update("halo"), secret="").status_code == 403
    form = wa.form("halo")
    assert wa.post(form, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert wa.post(form, signature="").status_code == 403
    tampered = wa.validator.compute_signature(f"{pstbot.url}/webhook/whatsapp", form)
    assert wa.post({**form, "Body": "ubah"}, signature=tampered).status_code == 403
    with pstbot.service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert tg.api.calls("sendMessage") == [] and wa.api.messages() == []


def test_failed_telegram_send_is_retried_after_retry_after(tg, telegram_api, pstbot):
    telegram_api.fail_next("sendMessage", status=429, retry_after=1)
    tg.says("halo")
    text = tg.reads()
    assert "Selamat datang" in text and "kantor BPS mana" in text
    calls = telegram_api.calls("sendMessage")
    assert [c.ok for c in calls] == [False, True, True]
    assert calls[1].time - calls[0].time >= 1.0  # retry_after honoured


def test_failed_whatsapp_send_is_retried_in_order(wa, twilio_api):
    twilio_api.fail_next(status=500, count=2)
    wa.says("halo")
    text = wa.reads()
    assert text.index("Selamat datang") < text.index("Menu utama")
    assert [c.ok for c in twilio_api.calls()] == [False, False, True, True]


def test_shared_number_asks_for_the_office(pstbot, twilio_api):
    visitor = WhatsAppVisitor(pstbot, twilio_api, "+6285712340000", SHARED_NUMBER, "Andi")
    visitor.says("Halo")
    assert "kantor BPS mana" in visitor.reads()
    visitor.says("bangka selatan")
    assert "Menu utama — BPS Kabupaten Bangka Selatan" in visitor.reads()
    replies = twilio_api.messages(visitor.chat_id)
    assert {m["From"] for m in replies} == {f"whatsapp:{SHARED_NUMBER}"}


def test_global_words_work_inside_a_flow(tg):
    tg.says("halo")
    tg.taps("BPS Kabupaten Kendal")
    tg.taps("Buku tamu")
    tg.taps("Setuju")
    tg.says("Budi")
    tg.reads()
    tg.says("bantuan")
    help_text = tg.reads()
    assert '"batal"' in help_text and help_text.endswith("Apa alamat email Anda yang masih aktif?")
    tg.says("bahasa")
    tg.taps("English")
    assert tg.reads().endswith("What is your active email address?")
    tg.says("batal")
    cancelled = tg.reads()
    assert "cancelled" in cancelled and "Main menu — BPS Kabupaten Kendal" in cancelled
    tg.says("bahasa")
    tg.taps("Bahasa Indonesia")
    assert "Menu utama" in tg.reads()


def test_unknown_answer_is_asked_again_politely(wa):
    wa.says("halo")
    wa.reads()
    wa.says("zzkx qwv")  # no service is near this
    text = wa.reads()
    assert "Maaf, saya belum mengerti" in text and "Menu utama" in text
    wa.taps("Info layanan")
    wa.says("99")
    assert "Layanan mana yang ingin Anda ketahui?" in wa.reads()


def test_complaint_entry_asks_the_service_element_first(wa):
    wa.says("halo")
    wa.taps("Pengaduan")
    text = wa.reads()
    assert "Tentang apa pengaduan Anda?" in text
    for element in ("Persyaratan", "Perilaku petugas", "Sarana dan prasarana"):
        assert element in text
    assert text.rstrip().endswith("_Balas dengan angka atau kata dari daftar._")


def test_long_standard_is_split_within_whatsapp_limit(wa, twilio_api):
    wa.says("halo")
    wa.taps("Info layanan")
    wa.taps("Perpustakaan")
    wa.taps("Online")
    wa.taps("Info kunjungan langsung")
    wa.reads()
    bodies = twilio_api.bodies(wa.chat_id)
    assert all(len(b) <= 1600 for b in bodies)
    assert all(c.ok for c in twilio_api.calls())
