"""Defects a visitor met in held-out journeys (issue 13), each reproduced over the webhooks."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import STAFF_CHATS, STAFF_USER
from tests.harness import SHARED_NUMBER, StaffMember, TelegramVisitor, WhatsAppVisitor

KETAPANG_NEED = "jumlah penduduk per kecamatan ketapang 2024 excel"
XLSX = b"PK\x03\x04 tabel (xlsx)"


@pytest.fixture
def tg(pstbot, telegram_api):
    return TelegramVisitor(pstbot, telegram_api, 5513001, "Sari")


def _wa(pstbot, twilio_api, phone: str = "+6281355500001") -> WhatsAppVisitor:
    return WhatsAppVisitor(pstbot, twilio_api, phone, SHARED_NUMBER, "Yusuf")


def _at_ketapang(visitor) -> None:
    visitor.says("halo")
    visitor.taps("BPS Kabupaten Ketapang")
    visitor.reads()


# --------------------------------------------------------------------------- 3. language first


def test_language_chosen_before_the_office_is_kept(tg, pstbot, twilio_api):
    tg.says("language")
    assert "Choose a language" in tg.reads()
    tg.taps("English")
    asked = tg.reads()
    assert "Language changed to English" in asked
    assert "Which BPS office would you like to be served by?" in asked
    assert "kantor BPS mana" not in asked
    tg.taps("BPS Kabupaten Kendal")
    assert "Main menu — BPS Kabupaten Kendal" in tg.reads()
    tg.save_transcript("defect-03-language-first-telegram")
    wa = _wa(pstbot, twilio_api)
    wa.says("language")
    wa.taps("English")
    asked = wa.reads()
    assert "Which BPS office" in asked and "kantor BPS mana" not in asked
    wa.taps("BPS Kabupaten Majene")
    assert "Main menu — BPS Kabupaten Majene" in wa.reads()
    wa.save_transcript("defect-03-language-first-whatsapp")


# --------------------------------------------------------------------------- 4. "this number"


@pytest.mark.parametrize("answer", ["pakai nomor ini aja", "nomor ini saja", "sama dengan wa ini"])
def test_use_this_number_in_words_at_the_phone_question(pstbot, twilio_api, answer):
    wa = _wa(pstbot, twilio_api)
    _at_ketapang(wa)
    wa.taps("Buku tamu")
    wa.taps("Setuju")
    wa.says("Yusuf Maulana")
    wa.says("yusuf@example.com")
    assert "1. Pakai nomor WhatsApp ini (+62 813-5550-0001)" in wa.reads()
    wa.says(answer)
    reply = wa.reads()
    assert "tidak valid" not in reply
    assert "nama instansi" in reply
    wa.says("Pribadi")
    wa.taps("Wiraswasta")
    wa.taps("Bisnis")
    assert "Telepon: +62 813-5550-0001" in wa.reads()
    wa.save_transcript(f"defect-04-use-this-number-{answer.split()[0]}")


def _guest_book(visitor, phone: str = "081255007788") -> None:
    visitor.taps("Buku tamu")
    visitor.fills_guest_book(
        "Sari Wulandari",
        "sari@example.com",
        phone,
        "Universitas Tanjungpura",
        "Peneliti/dosen",
        "Penelitian",
    )
    visitor.reads()


def _past_purpose(visitor, need: str = KETAPANG_NEED) -> str:
    """A data request at Ketapang up to its purpose; returns what the visitor reads next."""
    visitor.taps("Permintaan data")
    visitor.says(need)
    visitor.taps("Lanjutkan permintaan data")
    visitor.taps("Penelitian")
    return visitor.reads()


def _sent(visitor) -> str:
    visitor.taps("Kirim permintaan")
    return re.search(r"PD-6106-\d{8}-\d{4}", visitor.reads())[0]


def _data_request(visitor, need: str = KETAPANG_NEED) -> str:
    """A data request at Ketapang by a visitor with a guest book; returns the PD number."""
    _past_purpose(visitor, need)
    return _sent(visitor)


def _ready(pstbot, telegram_api, number: str) -> StaffMember:
    """Staff mark ``number`` ready with a file."""
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas")
    staff.says(f"/siap {number}", document=telegram_api.add_file(XLSX, "data.xlsx"))
    staff.reads()
    return staff


# --------------------------------------------------------------------------- 1. email, no SMTP


def test_without_smtp_email_is_not_offered_and_no_email_row_is_written(tg, pstbot, telegram_api):
    from sqlalchemy import func, select

    from storage.models import Outbox

    _at_ketapang(tg)
    _guest_book(tg)
    summary = _past_purpose(tg)
    assert "Lewat email" not in summary and "Chat dan email" not in summary
    assert "Pemberitahuan: Lewat chat ini" in summary
    _ready(pstbot, telegram_api, _sent(tg))
    assert "Data Anda sudah siap" in tg.reads()
    with pstbot.service.db.transaction() as session:
        rows = session.scalar(select(func.count()).where(Outbox.channel == "email"))
    assert rows == 0


def test_an_old_email_only_ticket_without_smtp_is_told_on_chat(pstbot, twilio_api, telegram_api):
    from sqlalchemy import func, select

    from storage.models import Outbox, Ticket

    wa = _wa(pstbot, twilio_api, "+6281355500011")
    _at_ketapang(wa)
    _guest_book(wa, "1")
    number = _data_request(wa)
    with pstbot.service.db.transaction() as session:  # chosen while SMTP was still configured
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        ticket.details = {**ticket.details, "notify": "email"}
    _ready(pstbot, telegram_api, number)
    assert "Data Anda sudah siap" in wa.reads()
    with pstbot.service.db.transaction() as session:
        assert not session.scalar(select(func.count()).where(Outbox.channel == "email"))


# --------------------------------------------------------------------------- 2. file not fetched


def test_staff_file_that_cannot_be_fetched_is_answered_not_500(tg, pstbot, telegram_api):
    from sqlalchemy import select

    from storage.models import Ticket

    _at_ketapang(tg)
    _guest_book(tg)
    number = _data_request(tg)
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas")
    staff.reads()
    lost = {
        "file_id": "BQACAgUAAxkBAAIBhilang0000",
        "file_unique_id": "AgADhilang",
        "file_name": "data.xlsx",
        "mime_type": "application/vnd.ms-excel",
        "file_size": 2048,
    }
    staff.says(f"/siap {number}", document=lost)  # says() asserts the webhook answered 200
    answer = staff.reads()
    assert "tidak dapat diambil" in answer and f"/siap {number}" in answer
    with pstbot.service.db.transaction() as session:
        assert session.scalars(select(Ticket).where(Ticket.number == number)).one().status == "baru"
    staff.says(f"/siap {number}", document=telegram_api.add_file(XLSX, "data.xlsx"))
    assert f"Tiket {number} siap" in staff.reads()


# --------------------------------------------------------------------------- 9. words after a list


def test_words_typed_under_the_status_list_or_a_ticket_are_routed(tg, pstbot, twilio_api):
    _at_ketapang(tg)
    tg.says("status")
    assert "belum punya tiket" in tg.reads()
    tg.says("konsultasi")
    assert "Konsultasi statistik. Tulis pertanyaan Anda" in tg.reads()
    wa = _wa(pstbot, twilio_api, "+6281355500009")
    _at_ketapang(wa)
    _guest_book(wa, "1")
    _data_request(wa)
    wa.says("perpustakaan")
    assert "Ketik judul atau kata kunci publikasi" in wa.reads()
    wa.says("cek")
    assert "Tiket Anda" in wa.reads()
    wa.says("pengaduan")
    assert "Tentang apa pengaduan Anda?" in wa.reads()


# --------------------------------------------------------------------------- 15. email subject


def test_data_ready_email_has_a_short_subject_with_the_ticket_number(
    pstbot, telegram_api, twilio_api, smtp
):
    recorder, port = smtp()
    pstbot.env.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="pst6106@bps.go.id", SMTP_STARTTLS=False
    )
    pstbot.restart()
    tg = TelegramVisitor(pstbot, telegram_api, 5513015, "Eko")
    _at_ketapang(tg)
    _guest_book(tg)
    _past_purpose(tg)
    tg.taps("Chat dan email")
    number = _sent(tg)
    _ready(pstbot, telegram_api, number)
    pstbot.wait_delivered("email", "sari@example.com")
    [mail] = recorder.messages()
    assert mail["Subject"] == f"PST BPS: data siap, tiket {number}"
    assert "Data Anda sudah siap" in mail.get_body(("plain",)).get_content()


# --------------------------------------------------------------------------- 5. region level


def test_per_kecamatan_beats_kab_in_the_place_name_and_one_field_can_be_changed(pstbot, twilio_api):
    wa = _wa(pstbot, twilio_api, "+6281355500005")
    _at_ketapang(wa)
    _guest_book(wa, "1")
    wa.taps("Permintaan data")
    wa.says("data kemiskinan kab ketapang 2019-2023 per kecamatan dlm excel")
    wa.taps("Lanjutkan permintaan data")
    wa.taps("Penelitian")
    summary = wa.reads()
    assert "Tingkat wilayah: Kecamatan" in summary
    assert "Periode: 2019–2023" in summary and "Subjek: Kemiskinan" in summary
    wa.taps("Ubah satu bagian")
    assert "Bagian mana yang ingin diubah?" in wa.reads()
    wa.taps("Tingkat wilayah")
    wa.taps("Desa/kelurahan")
    changed = wa.reads()
    assert "Tingkat wilayah: Desa/kelurahan" in changed
    assert "Periode: 2019–2023" in changed and "Bentuk: Excel (xlsx)" in changed
    wa.taps("Ubah satu bagian")
    wa.taps("Periode")
    wa.says("2022")
    assert "Periode: 2022" in wa.reads()
    number = _sent(wa)
    assert number


# --------------------------------------------------------------------------- 6. result labels


def _labels(visitor) -> list[str]:
    if isinstance(visitor, TelegramVisitor):
        return list(visitor.buttons())
    return list(visitor.options())


def test_search_results_can_be_told_apart(tg, pstbot, twilio_api):
    wa = _wa(pstbot, twilio_api, "+6281355500006")
    for visitor in (tg, wa):
        _at_ketapang(visitor)
        visitor.taps("Perpustakaan")
        visitor.says("pdrb ketapang")
        results = _labels(visitor)[:5]
        assert len(set(results)) == 5, results
        assert all(len(label) <= 64 for label in results), results
        assert any("Pengeluaran 2020-2024" in label for label in results), results
        visitor.save_transcript(f"defect-06-search-labels-{visitor.channel}")


# --------------------------------------------------------------------------- 7. complaint channels


def test_where_to_complain_is_answered_with_the_channels(tg, pstbot, twilio_api):
    wa = _wa(pstbot, twilio_api, "+6281355500007")
    for visitor in (tg, wa):
        _at_ketapang(visitor)
        visitor.says("pengaduan lewat mana")
        text = visitor.reads()
        assert "Saluran pengaduan" in text and "Kotak saran" in text and "www.lapor.go.id" in text
        assert "Tentang apa pengaduan Anda?" not in text
        visitor.taps("Ajukan pengaduan di chat ini")
        assert "Tentang apa pengaduan Anda?" in visitor.reads()


# --------------------------------------------------------------------------- 8. rating scale


def test_rating_on_whatsapp_has_an_unambiguous_scale_and_takes_words(pstbot, twilio_api):
    from sqlalchemy import select

    from storage.models import Rating

    wa = _wa(pstbot, twilio_api, "+6281355500008")
    _at_ketapang(wa)
    wa.taps("Penilaian layanan")
    question = wa.reads()
    assert "1. Tidak baik" in question and "4. Sangat baik" in question
    assert "\n5. " not in question and '"lewati"' in question
    wa.says("baik")
    assert "Penilaian 2/9" in wa.reads()
    wa.says("sangat baik")
    assert "Penilaian 3/9" in wa.reads()
    wa.says("5")
    refused = wa.reads()
    assert "1–4" in refused and "Penilaian 3/9" in refused and "Penilaian 4/9" not in refused
    wa.says("lewati")
    assert "Penilaian 4/9" in wa.reads()
    wa.says("kurang baik")
    wa.says("tidak baik")
    wa.says("berhenti")
    assert "Terima kasih atas penilaian Anda" in wa.reads()
    with pstbot.service.db.transaction() as session:
        rating = session.scalars(select(Rating)).one()
        assert (rating.u1, rating.u2, rating.u3, rating.u4, rating.u5) == (3, 4, None, 2, 1)


def test_rating_on_telegram_keeps_its_buttons_and_takes_words(tg):
    _at_ketapang(tg)
    tg.taps("Penilaian layanan")
    assert set(tg.buttons()) == {
        "1 – Tidak baik",
        "2 – Kurang baik",
        "3 – Baik",
        "4 – Sangat baik",
        "Lewati",
        "Berhenti menilai",
    }
    tg.says("sangat baik")
    assert "Penilaian 2/9" in tg.reads()
    tg.says("5")
    assert "Pilih nilai 1–4" in tg.reads()
    tg.taps("Lewati")
    assert "Penilaian 3/9" in tg.reads()


# --------------------------------------------------------------------------- 11. purpose twice


def test_purpose_given_in_the_data_request_is_not_asked_again_by_the_guest_book(pstbot, twilio_api):
    wa = _wa(pstbot, twilio_api, "+6281355500111")
    _at_ketapang(wa)
    _past_purpose(wa)
    wa.taps("Kirim permintaan")
    wa.taps("Setuju")
    for answer in ("Yusuf Maulana", "yusuf@example.com", "1", "Pribadi"):
        wa.says(answer)
    wa.taps("Wiraswasta")
    review = wa.reads()
    assert "Apa tujuan Anda memakai layanan PST?" not in review
    assert "Tujuan: Penelitian" in review
    wa.taps("Simpan")
    assert re.search(r"PD-6106-\d{8}-\d{4}", wa.reads())


# --------------------------------------------------------------------------- 13. deadlines


def _complaint(visitor) -> str:
    visitor.taps("Pengaduan")
    visitor.taps("Perilaku petugas")
    visitor.says("Petugas di loket tidak menjawab pertanyaan saya dengan jelas kemarin siang.")
    visitor.taps("Lewati")
    return visitor.reads()


def test_deadlines_are_the_offices_own_and_none_where_the_standard_states_none(
    pstbot, twilio_api, telegram_api
):
    import datetime as dt

    from babel.dates import format_date

    from office.workdays import due_date

    tarakan = TelegramVisitor(pstbot, telegram_api, 5513131, "Rudi")
    tarakan.says("halo")
    tarakan.taps("BPS Kota Tarakan")
    _guest_book(tarakan)
    said = _complaint(tarakan)
    assert re.search(r"PG-6571-\d{8}-\d{4}", said) and "paling lambat" not in said
    assert "tidak menetapkan batas waktu penanganan pengaduan" in said
    tarakan.says("menu")
    tarakan.says("permintaan data")
    tarakan.reads()
    tarakan.says("jumlah penduduk kota tarakan per kecamatan 2024 excel")
    tarakan.reads()
    tarakan.taps("Lanjutkan permintaan data")
    tarakan.taps("Penelitian")
    tarakan.taps("Kirim permintaan")
    made = tarakan.reads()
    assert re.search(r"PD-6571-\d{8}-\d{4}", made) and "paling lambat" not in made
    assert "tidak menetapkan batas waktu penyelesaian permintaan data" in made
    tarakan.says("status")
    assert "Paling lambat" not in tarakan.reads()

    ketapang = _wa(pstbot, twilio_api, "+6281355500113")
    _at_ketapang(ketapang)
    _guest_book(ketapang, "1")
    before = dt.datetime.now(dt.UTC)
    said = _complaint(ketapang)
    office = pstbot.service.pst.office("6106")
    due = format_date(due_date(office, before, 5), "full", locale="id")
    assert f"paling lambat {due}" in said


# --------------------------------------------------------------------------- 14. Ketapang info


def test_ketapang_online_info_is_not_the_desk_procedure_and_consultation_is_described(
    pstbot, twilio_api
):
    wa = _wa(pstbot, twilio_api, "+6281355500114")
    _at_ketapang(wa)
    wa.taps("Info layanan")
    wa.taps("Perpustakaan")
    wa.taps("Online")
    online = wa.reads()
    assert "Email untuk perpustakaan digital" in online
    assert "Mengarahkan pengunjung kepada Petugas PST" not in online
    assert "Fotocopy KTP/KK" not in online
    assert "tidak merinci prosedur untuk layanan online" in online
    wa.taps("Info kunjungan langsung")
    walk_in = wa.reads()
    assert "Mengarahkan pengunjung kepada Petugas PST" in walk_in and "Fotocopy KTP/KK" in walk_in
    wa.taps("Layanan lain")
    wa.taps("Konsultasi statistik")
    assert "belum dimuat" not in wa.reads()
    wa.taps("Kunjungan langsung")
    consultation = wa.reads()
    assert "Memberikan konsultasi statistik mengenai permasalahan secara langsung" in consultation
    assert "Menanyakan kepada pengunjung apa memerlukan peminjaman buku" not in consultation


# --------------------------------------------------------------------------- 12. long read-outs


def test_whatsapp_read_outs_stay_under_1000_characters(pstbot, twilio_api):
    wa = _wa(pstbot, twilio_api, "+6281355500112")
    _at_ketapang(wa)
    wa.taps("Info layanan")
    wa.taps("Perpustakaan")
    wa.taps("Kunjungan langsung")
    text = wa.reads()
    assert "13. Mengisi kotak saran dan pengaduan" in text and "Jam layanan" in text
    for office, service in (
        ("BPS Kabupaten Kendal", "Perpustakaan"),
        ("BPS Kabupaten Bangka Selatan", "Konsultasi statistik"),
    ):
        wa.says("menu")
        wa.taps("Ganti kantor BPS")
        wa.taps(office)
        wa.taps("Info layanan")
        wa.taps(service)
        wa.taps("Kunjungan langsung")
        wa.taps("Info layanan online")
    wa.reads()
    bodies = twilio_api.bodies(wa.chat_id)
    assert max(len(body) for body in bodies) <= 1000, sorted(len(b) for b in bodies)[-3:]


# --------------------------------------------------------------------------- 10. English


def _saturday_morning() -> dt.datetime:
    """10.00 WIB on the next Saturday: outside every office's hours."""
    wib = ZoneInfo("Asia/Jakarta")
    today = dt.datetime.now(wib).date()
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    return dt.datetime.combine(saturday, dt.time(10), wib)


def test_english_visitors_read_english(pstbot, telegram_api):
    import time_machine
    from babel.dates import format_date

    from office.workdays import due_date, next_opening

    tg = TelegramVisitor(pstbot, telegram_api, 5513010, "Emma")
    tg.says("language")
    tg.taps("English")
    tg.taps("BPS Kabupaten Ketapang")
    tg.taps("Guest book")
    tg.taps("I agree")
    for answer in ("Emma Clarke", "emma@example.org", "0812 5500 4321", "University of Leeds"):
        tg.says(answer)
    tg.taps("Researcher/lecturer")
    tg.taps("Research")
    review = tg.reads()
    assert "Occupation: Researcher/lecturer" in review and "Purpose: Research" in review
    assert "Peneliti/dosen" not in review and "Penelitian" not in review
    tg.taps("Save")
    tg.taps("Library")
    tg.says("ketapang regency in figures 2024")
    assert "Kabupaten Ketapang Dalam Angka 2024" in tg.reads()
    tg.taps("Search another publication")
    tg.says("kendal in figures 2025")  # another office's book
    tg.taps("Search all offices")
    assert "Kabupaten Kendal Dalam Angka 2025" in tg.reads()
    tg.says("menu")
    office = pstbot.service.pst.office("6106")
    with time_machine.travel(_saturday_morning(), tick=True):
        now = dt.datetime.now(dt.UTC)
        tg.taps("Complaint")
        tg.taps("Staff behaviour")
        tg.says("Nobody answered my question at the desk yesterday afternoon, twice.")
        tg.taps("Skip")
        said = tg.reads()
    due = format_date(due_date(office, now, 5), "full", locale="en")
    opens = format_date(next_opening(office, now).date(), "full", locale="en")
    assert f"handled by {due} at the latest" in said
    assert f"the office opens again {opens} 8:00\u202fAM WIB" in said
    assert '"done" to close' in said and "selesai" not in said
    tg.says("done")
    assert "is closed" in tg.reads()
    tg.save_transcript("defect-10-english")
