"""Consultation with hand-over to a staff forum topic, the seven-day idle close, complaints and
ratings — over both webhooks and the staff group, with a moved clock."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import time_machine
from sqlalchemy import select

from storage.models import Rating, Ticket
from tests.conftest import STAFF_CHATS, STAFF_USER
from tests.harness import StaffMember, TelegramVisitor, WhatsAppVisitor

BASEL_WA = "+6281271067114"  # BPS Bangka Selatan's own number: the consultation standard
PHOTO = b"\x89PNG\r\n\x1a\n foto tabel yang membingungkan"
QUESTION = "berapa jumlah perahu motor nelayan di kecamatan toboali tahun 2023"


def _ticket(pstbot, number: str) -> Ticket:
    with pstbot.service.db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        session.expunge(ticket)
        return ticket


def _open_consultation(pstbot, twilio_api, telegram_api, phone: str):
    wa = WhatsAppVisitor(pstbot, twilio_api, phone, BASEL_WA, "Rahmat")
    wa.says("halo")
    wa.taps("Konsultasi statistik")
    wa.says(QUESTION)
    assert "Belum ada jawaban" in wa.reads()  # not in the knowledge base: straight to staff
    wa.fills_guest_book(
        "Rahmat Hidayat",
        "rahmat@example.id",
        "1",
        "Dinas Kelautan Basel",
        "ASN/TNI/Polri",
        "Perencanaan/evaluasi pemerintahan",
    )
    opened = wa.reads()
    number = re.search(r"KS-1905-\d{8}-\d{4}", opened)[0]
    assert "Seorang petugas akan menjawab di chat ini" in opened
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["1905"], STAFF_USER, "Petugas Dina")
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    [(topic_id, topic)] = telegram_api.topics(STAFF_CHATS["1905"]).items()
    assert topic["name"].startswith(f"{number} · Rahmat Hidayat")
    return wa, staff, number, topic_id


def _topic_texts(telegram_api, topic_id: int) -> list[str]:
    return [
        m.get("text") or m.get("caption", "")
        for m in telegram_api.messages(STAFF_CHATS["1905"])
        if m.get("message_thread_id") == topic_id
    ]


def test_question_answered_from_the_knowledge_base_then_rated(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 7701, "Putri")
    tg.says("halo")
    tg.taps("BPS Kabupaten Bangka Selatan")
    tg.taps("Konsultasi statistik")
    tg.says("apa itu garis kemiskinan?")
    answers = tg.reads()
    assert "Sumber:" in answers and "kemiskinan" in answers.lower()
    tg.taps("Sudah terjawab")
    assert "Penilaian 1/9" in tg.reads()
    for score in ("4", "3", "Lewati", "4", "4", "3", "4", "Lewati", "3"):
        tg.taps(next(label for label in tg.buttons() if label.startswith(score)))
    tg.says("Jawabannya jelas, terima kasih")
    assert "Terima kasih atas penilaian Anda" in tg.reads()
    with pstbot.service.db.transaction() as session:
        rating = session.scalars(select(Rating)).one()
        scores = [getattr(rating, f"u{i}") for i in range(1, 10)]
        assert scores == [4, 3, None, 4, 4, 3, 4, None, 3]
        assert rating.comment == "Jawabannya jelas, terima kasih" and rating.answered_at
        assert rating.service == "konsultasi" and rating.office_code == "1905"


def test_consultation_relayed_both_ways_with_photos_and_closed_by_staff(
    pstbot, twilio_api, telegram_api
):
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700001"
    )
    header = _topic_texts(telegram_api, topic_id)[0]
    assert QUESTION in header and "Dinas Kelautan Basel" in header
    assert "r***@example.id" in header and "0813****0001" in header  # contacts masked
    wa.says(
        "ini tabel yang saya maksud", media=(twilio_api.add_media(PHOTO, "image/png"), "image/png")
    )
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    relayed = [m for m in telegram_api.messages(STAFF_CHATS["1905"]) if "document" in m]
    assert relayed[-1]["document"].content == PHOTO
    assert "Rahmat Hidayat: ini tabel yang saya maksud" in relayed[-1]["caption"]
    staff.says("Datanya ada di Statistik Perikanan Bangka Selatan, tabel 3.2.", topic=topic_id)
    assert "Petugas PST: Datanya ada di Statistik Perikanan" in wa.reads()
    staff.says(
        "Ini cuplikannya",
        topic=topic_id,
        document=telegram_api.add_file(b"%PDF-1.4 tabel 3.2", "tabel-3-2.pdf"),
    )
    wa.reads()
    media = twilio_api.messages(wa.chat_id)[-1]
    assert httpx.get(media["MediaUrl"][0]).content == b"%PDF-1.4 tabel 3.2"
    assert "Petugas PST: Ini cuplikannya" in media["Body"]
    wa.says("batal")  # not a command during the hand-over: relayed like any message
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    assert _topic_texts(telegram_api, topic_id)[-1].endswith(": batal")
    staff.says("/selesai", topic=topic_id)
    closed = wa.reads()
    assert f"Petugas PST menutup tiket {number}" in closed and "Penilaian 1/9" in closed
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    assert [c.ok for c in telegram_api.calls("closeForumTopic")] == [True]
    wa.save_transcript("consultation-whatsapp")
    assert _ticket(pstbot, number).status == "selesai"


def test_idle_consultation_warned_on_day_6_and_closed_on_day_7_across_a_restart(
    pstbot, twilio_api, telegram_api
):
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700002"
    )
    staff.says("Bisa dijelaskan tahun berapa yang dibutuhkan?", topic=topic_id)
    wa.reads()
    answered = dt.datetime.now(dt.UTC)
    with time_machine.travel(answered + dt.timedelta(days=5, hours=23), tick=True):
        pstbot.service.sweep()
        assert "ditutup otomatis besok" not in wa.reads()
    with time_machine.travel(answered + dt.timedelta(days=6, hours=1), tick=True):
        pstbot.service.sweep()
        pstbot.service.sweep()
        assert wa.reads().count("akan ditutup otomatis besok") == 1
    pstbot.restart()
    with time_machine.travel(answered + dt.timedelta(days=7, hours=1), tick=True):
        pstbot.service.sweep()
        closed = wa.reads()  # six days silent: the approved template, not the notice itself
        assert f"tiket {number} sudah ditutup. Balas" in closed and "Penilaian" not in closed
        pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    assert _ticket(pstbot, number).status == "selesai"
    wa.says("oh maaf, baru sempat membuka")
    back = wa.reads()
    assert back.count("akan ditutup otomatis besok") == 1  # the held warning, once …
    assert back.index("akan ditutup otomatis besok") < back.index(
        f"Tiket {number} ditutup otomatis"
    )
    assert f"Tiket {number} ditutup oleh sistem." in _topic_texts(telegram_api, topic_id)[-1]


def test_unanswered_visitor_message_is_never_closed_and_staff_are_reminded(
    pstbot, twilio_api, telegram_api
):
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700003"
    )
    staff.says("Untuk kecamatan mana saja?", topic=topic_id)
    wa.reads()
    wa.says("Semua kecamatan, mohon dibantu")
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=12)
    with time_machine.travel(later, tick=True):
        pstbot.service.sweep()
        pstbot.service.sweep()
        assert wa.reads() == ""
        reminders = staff.reads()
    assert reminders.count(f"konsultasi {number} belum dijawab") == 1
    assert _ticket(pstbot, number).status == "diproses"


def test_complaint_gets_a_ticket_and_lists_other_channels(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 7702, "Agus")
    tg.says("halo")
    tg.taps("BPS Kabupaten Majene")
    tg.taps("Buku tamu")
    tg.fills_guest_book(
        "Agus Salim", "agus@example.com", "082211112222", "Pribadi", "Wiraswasta", "Bisnis"
    )
    tg.taps("Pengaduan")
    tg.taps("Perilaku petugas")
    tg.says("Petugas di loket tidak menjawab pertanyaan saya dengan jelas kemarin siang.")
    tg.taps("Lewati")
    text = tg.reads()
    number = re.search(r"PG-7601-\d{8}-\d{4}", text)[0]
    assert "paling lambat" not in text  # Majene's standard states no time for complaints
    assert "s.bps.go.id/pengaduan-7601" in text and "www.lapor.go.id" in text
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['7601']}#{number}")
    [topic] = telegram_api.topics(STAFF_CHATS["7601"]).values()
    assert topic["name"].startswith(number)
    tg.says("menu")  # leave the hand-over (the complaint stays open) …
    tg.says("status")  # … and follow its status
    assert f"{number} — Pengaduan" in tg.reads()


def test_general_rating_is_asked_once_a_day(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 7703, "Wati")
    tg.says("halo")
    tg.taps("BPS Kota Tarakan")
    tg.taps("Penilaian layanan")
    assert "Penilaian 1/9" in tg.reads()
    tg.taps("Berhenti menilai")
    tg.taps("Penilaian layanan")
    assert "sudah memberi penilaian hari ini" in tg.reads()
    with pstbot.service.db.transaction() as session:
        assert len(session.scalars(select(Rating)).all()) == 1


def test_only_configured_staff_answers_reach_the_visitor(pstbot, twilio_api, telegram_api):
    wa, _staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700004"
    )
    stranger = StaffMember(pstbot, telegram_api, STAFF_CHATS["1905"], 5150, "Anggota Grup")
    stranger.says("ini jawaban dari orang yang bukan petugas", topic=topic_id)
    stranger.says("/selesai", topic=topic_id)
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{topic_id}")
    assert wa.reads() == ""
    assert "hanya untuk petugas PST" in _topic_texts(telegram_api, topic_id)[-1]
    assert _ticket(pstbot, number).status == "baru"
