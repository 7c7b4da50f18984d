"""Data requests over both webhooks and the staff group: ticket, due date, /ambil, /siap with a
file, the "data ready" notice (also as a template after 30 silent hours, and across a restart)."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
from babel.dates import format_date
from sqlalchemy import select

from office.workdays import due_date
from storage.models import Outbox, Ticket, Visitor
from tests.conftest import STAFF_CHATS, STAFF_USER, TEMPLATE_SID
from tests.harness import SHARED_NUMBER, StaffMember, TelegramVisitor, WhatsAppVisitor

NEED = "jumlah penduduk per kecamatan ketapang 2024 excel"
XLSX = b"PK\x03\x04 tabel penduduk per kecamatan (xlsx)"


def _request_as_whatsapp_visitor(pstbot, twilio_api, phone: str) -> tuple[WhatsAppVisitor, str]:
    wa = WhatsAppVisitor(pstbot, twilio_api, phone, SHARED_NUMBER, "Hendra")
    wa.says("halo")
    wa.taps("BPS Kabupaten Ketapang")
    wa.taps("Permintaan data")
    before = dt.datetime.now(dt.UTC)
    wa.says(NEED)
    offered = wa.reads()
    assert "Kabupaten Ketapang Dalam Angka 2024" in offered  # the catalogue comes first
    wa.taps("Lanjutkan permintaan data")
    assert "Untuk keperluan apa" in wa.reads()  # subject, level, period, form taken from NEED
    wa.taps("Penelitian")  # no email sender here: the chat is the only way, not asked
    summary = wa.reads()
    for line in (
        "Subjek: Kependudukan",
        "Tingkat wilayah: Kecamatan",
        "Periode: 2024",
        "Bentuk: Excel (xlsx)",
        "Pemberitahuan: Lewat chat ini",
    ):
        assert line in summary
    wa.taps("Kirim permintaan")
    wa.fills_guest_book(
        "Hendra Gunawan",
        "hendra@example.net",
        "1",
        "Bappeda Ketapang",
        "ASN/TNI/Polri",
        "Perencanaan/evaluasi pemerintahan",
    )
    made = wa.reads()
    number = re.search(r"PD-6106-\d{8}-\d{4}", made)[0]
    office = pstbot.service.pst.office("6106")
    due = format_date(due_date(office, before, 5), "full", locale="id")
    assert f"paling lambat {due}" in made
    return wa, number


def test_whatsapp_request_to_data_ready_notice_with_file(pstbot, twilio_api, telegram_api):
    wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255512345")
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas Ani")
    posted = staff.reads()
    assert number in posted and "Kependudukan" in posted and "h***@example.net" in posted
    assert telegram_api.messages(STAFF_CHATS["6106"])[-1]["reply_markup"]["inline_keyboard"]
    staff.says(f"/ambil {number}")
    assert f"Tiket {number} diambil oleh Petugas Ani" in staff.reads()
    assert "sedang diproses" in wa.reads()
    staff.says("/tiket")
    assert number in staff.reads()
    staff.says(
        f"/siap {number}",
        document=telegram_api.add_file(XLSX, "penduduk-2024.xlsx", "application/vnd.ms-excel"),
    )
    assert f"Tiket {number} siap" in staff.reads()
    assert "Data Anda sudah siap" in wa.reads()
    media = [m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]
    assert len(media) == 1 and media[0]["MediaUrl"][0].endswith("/penduduk-2024.xlsx")
    assert httpx.get(media[0]["MediaUrl"][0]).content == XLSX
    wa.says(f"cek {number}")
    assert "Status: siap, sudah dikirim" in wa.reads()
    with pstbot.service.db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert [e.status for e in ticket.events] == ["baru", "diproses", "siap"]
        assert ticket.assigned_to == "Petugas Ani"


def test_notice_after_30_silent_hours_is_a_template_and_the_file_follows(
    pstbot, twilio_api, telegram_api
):
    wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500001")
    with pstbot.service.db.transaction() as session:  # the visitor has been silent for 30 h
        visitor = session.scalars(select(Visitor).where(Visitor.channel == "whatsapp")).one()
        visitor.last_inbound_at -= dt.timedelta(hours=30)
    twilio_api.session_window(True)
    twilio_api.visitor_wrote(wa.chat_id, dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas Budi")
    staff.says(f"/siap {number}", document=telegram_api.add_file(XLSX, "data.xlsx"))
    wa.reads()
    last = twilio_api.messages(wa.chat_id)[-1]
    assert last["ContentSid"] == TEMPLATE_SID and "Body" not in last
    assert json.loads(last["ContentVariables"]) == {"1": "Hendra Gunawan", "2": number}
    twilio_api.visitor_wrote(wa.chat_id)
    wa.says("terima kasih, sudah saya terima notifikasinya")
    wa.reads()
    media = [m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]
    assert len(media) == 1 and httpx.get(media[0]["MediaUrl"][0]).content == XLSX
    wa.says("halo")
    wa.reads()
    assert len([m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]) == 1


def test_restart_between_ready_and_notice_delivers_exactly_once(pstbot, twilio_api, telegram_api):
    wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500002")
    twilio_api.fail_next(status=503, count=1000)  # Twilio down when staff mark it ready
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas Cici")
    staff.says(f"/siap {number}", document=telegram_api.add_file(XLSX, "data.xlsx"))
    staff.reads()
    assert pstbot.pending("whatsapp", wa.chat_id) == 3  # notice with file, rating intro, U1
    pstbot.restart()  # the notice is still in the outbox
    twilio_api.recover()
    wa.reads()
    media = [m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]
    assert len(media) == 1
    with pstbot.service.db.transaction() as session:
        sent = session.scalars(
            select(Outbox).where(Outbox.chat_id == wa.chat_id, Outbox.status == "sent")
        ).all()
        assert sum("media_download" in row.payload for row in sent) == 1


def test_staff_commands_are_for_configured_staff_only(pstbot, telegram_api, twilio_api):
    wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500003")
    stranger = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], 4242, "Orang Lain")
    stranger.says(f"/siap {number}", document=telegram_api.add_file(XLSX, "x.xlsx"))
    assert "hanya untuk petugas PST yang terdaftar" in stranger.reads().split("---")[-1]
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas")
    staff.says(f"/siap {number}")
    assert "Lampirkan berkas" in staff.reads().split("---")[-1]
    staff.says(f"/tolak {number}")
    assert "Tulis alasannya" in staff.reads()
    staff.says(f"/tolak {number} data desa belum tersedia untuk 2024")
    assert "ditolak" in staff.reads()
    assert "Alasan: data desa belum tersedia untuk 2024" in wa.reads()
    with pstbot.service.db.transaction() as session:
        assert session.scalars(select(Ticket).where(Ticket.number == number)).one().status == (
            "ditolak"
        )


def test_telegram_visitor_gets_the_file_as_a_document(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 5601, "Lina")
    tg.says("halo")
    tg.taps("BPS Kabupaten Ketapang")
    tg.taps("Buku tamu")
    tg.fills_guest_book(
        "Lina Marlina", "lina@example.com", "081377788899", "Pribadi", "Wiraswasta", "Bisnis"
    )
    tg.taps("Permintaan data")
    tg.says("data produksi padi per kecamatan 2020 sampai 2024 csv")
    tg.reads()
    tg.taps("Lanjutkan permintaan data")
    tg.taps("Bisnis")
    assert "Periode: 2020–2024" in tg.reads()
    tg.taps("Kirim permintaan")
    number = re.search(r"PD-6106-\d{8}-\d{4}", tg.reads())[0]
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas")
    staff.says(
        f"/siap {number}",
        document=telegram_api.add_file(b"kec,padi\nA,1\n", "padi.csv", "text/csv"),
    )
    tg.reads()
    documents = [m for m in telegram_api.messages(5601) if "document" in m]
    assert len(documents) == 1 and documents[0]["document"].content == b"kec,padi\nA,1\n"


def test_staff_get_a_reminder_the_working_day_before_and_an_overdue_alert(
    pstbot, twilio_api, telegram_api
):
    import time_machine

    from office.workdays import previous_working_day

    _wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500004")
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas")
    staff.reads()
    office = pstbot.service.pst.office("6106")
    with pstbot.service.db.transaction() as session:
        due_at = session.scalars(select(Ticket).where(Ticket.number == number)).one().due_at
    due = due_at.replace(tzinfo=dt.UTC).astimezone(office.tz)
    eve = dt.datetime.combine(previous_working_day(office, due.date()), dt.time(9), office.tz)
    # Outbox rows are due from the (moved) time they are written, so read inside each move.
    with time_machine.travel(eve - dt.timedelta(days=1), tick=True):
        pstbot.service.sweep()
        assert staff.reads() == ""  # too early
    with time_machine.travel(eve, tick=True):
        pstbot.service.sweep()
        pstbot.service.sweep()
        assert staff.reads().count(f"Pengingat: tiket {number} jatuh tempo") == 1
    with time_machine.travel(due + dt.timedelta(hours=1), tick=True):
        pstbot.service.sweep()
        pstbot.service.sweep()
        assert staff.reads().count(f"TERLAMBAT: tiket {number}") == 1


def test_data_ready_by_email_when_the_visitor_chose_email(pstbot, telegram_api, twilio_api, smtp):
    recorder, port = smtp()
    pstbot.env.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="pst6106@bps.go.id", SMTP_STARTTLS=False
    )
    pstbot.restart()
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6281255500005", SHARED_NUMBER, "Eko")
    wa.says("halo")
    wa.taps("BPS Kabupaten Ketapang")
    wa.taps("Permintaan data")
    wa.says("inflasi bulanan ketapang 2025 pdf")
    wa.taps("Lanjutkan permintaan data")  # past the Dalam Angka 2025 offered first
    wa.taps("Kecamatan")
    wa.taps("Bisnis")
    wa.taps("Lewat email")
    wa.taps("Kirim permintaan")
    wa.fills_guest_book(
        "Eko Prasetyo", "eko.prasetyo@example.com", "1", "CV Maju", "Wiraswasta", "Bisnis"
    )
    number = re.search(r"PD-6106-\d{8}-\d{4}", wa.reads())[0]
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas")
    staff.says(f"/siap {number}", document=telegram_api.add_file(b"%PDF-1.4 inflasi", "inf.pdf"))
    staff.reads()
    pstbot.wait_delivered("email", "eko.prasetyo@example.com")
    [mail] = recorder.messages()
    assert mail["To"] == "eko.prasetyo@example.com" and number in mail["Subject"]
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "inf.pdf" and part.get_content() == b"%PDF-1.4 inflasi"
    assert not [m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]  # email only
