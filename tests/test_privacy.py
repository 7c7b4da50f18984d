"""Personal data as UU No. 27/2022 requires, over both webhooks: the consent text, see-my-data
(a Telegram document, a WhatsApp signed link), delete-my-data and withdrawn consent (rows gone
or anonymised, the IKM still counting the rating), retention on a moved clock, masked contacts
for staff and the audited ``/kontak``."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

import httpx
import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from staff.ikm import load_answers
from storage.models import AuditLog, Download, Outbox, Rating, Ticket, TicketEvent, Visitor
from tests.conftest import STAFF_CHATS, STAFF_USER
from tests.harness import StaffMember, TelegramVisitor
from tests.test_consultation import PHOTO, QUESTION, _open_consultation, _topic_texts

GUEST = ("Dewi Lestari", "dewi.lestari@example.org", "0813 4555 6677", "Universitas Tanjungpura")


def _register(visitor, office: str | None = None) -> str:
    """Fill in the guest book; returns the consent text shown."""
    visitor.says("halo")
    if office:
        visitor.taps(office)
    visitor.taps("Buku tamu")
    consent = visitor.reads()
    assert "Pengendali data: BPS Kabupaten" in consent and "24 bulan" in consent
    assert "12 bulan" in consent and "hapus data saya" in consent
    visitor.fills_guest_book(*GUEST, "Pelajar/mahasiswa", "Tugas sekolah/kuliah")
    assert "Buku tamu Anda tersimpan" in visitor.reads()
    return consent


def _visitors(pstbot) -> list[Visitor]:
    with pstbot.service.db.transaction() as session:
        rows = session.scalars(select(Visitor).order_by(Visitor.id)).all()
        session.expunge_all()
        return rows


def _rate_all(tg: TelegramVisitor, comment: str) -> None:
    for score in ("4", "3", "4", "4", "4", "3", "4", "4", "3"):
        tg.taps(next(label for label in tg.buttons() if label.startswith(score)))
    tg.says(comment)
    assert "Terima kasih atas penilaian Anda" in tg.reads()


def test_consent_names_the_office_and_its_version_is_stored(tg, pstbot):
    consent = _register(tg, "BPS Kabupaten Ketapang")
    assert "Pengendali data: BPS Kabupaten Ketapang" in consent
    assert "bps6106@bps.go.id, telepon (0534) 32017" in consent
    [visitor] = _visitors(pstbot)
    assert visitor.consent_at is not None
    assert re.fullmatch(r"id-[0-9a-f]{12}", visitor.consent_version)
    tg.says("menu")
    tg.taps("Buku tamu")
    consent_text = tg.reads()
    assert "bps6106@bps.go.id" not in consent_text  # saved profile: no consent asked again
    tg.says("bantuan")
    assert '"data saya" — lihat data pribadi Anda' in tg.reads()


def test_telegram_visitor_sees_their_data_as_a_json_document(tg, pstbot, telegram_api):
    _register(tg, "BPS Kabupaten Ketapang")
    tg.says("Data saya")
    shown = tg.reads()
    assert "Data yang kami simpan tentang Anda" in shown and "Dewi Lestari" in shown
    assert "Tiket: 0 · Penilaian: 0 · Unduhan: 0" in shown
    upload = [c for c in telegram_api.calls("sendDocument") if c.ok][-1].params["document"]
    assert upload.filename == "data-saya.json"
    data = json.loads(upload.content)
    assert data["pengendali_data"] == "BPS Kabupaten Ketapang"
    assert data["profil"]["email"] == "dewi.lestari@example.org"
    assert data["profil"]["telepon"] == "+6281345556677"
    assert data["profil"]["versi_persetujuan"].startswith("id-")
    [visitor] = _visitors(pstbot)
    with pstbot.service.db.transaction() as session:
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "ekspor")).all()
        assert entry.actor == "pengunjung" and entry.visitor_id == visitor.id


def test_whatsapp_visitor_gets_a_signed_link_then_withdraws_consent(wa, pstbot):
    _register(wa)
    wa.says("lihat data saya")
    shown = wa.reads()
    assert "Dewi Lestari" in shown
    url = re.search(r"http://127\.0\.0\.1:\d+/unduh/\S+/data-saya\.json", shown)[0]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.json()["profil"]["nama"] == "Dewi Lestari"
    assert response.json()["profil"]["nomor_whatsapp"] == "+6281234567890"
    assert httpx.get(url.replace("/unduh/", "/unduh/x")).status_code == 404

    wa.says("hapus data saya")
    assert "Hapus semua data pribadi Anda?" in wa.reads()
    wa.taps("Batal")
    assert "data Anda tidak diubah" in wa.reads()
    assert _visitors(pstbot)[0].nama == "Dewi Lestari"

    wa.says("tarik persetujuan")
    assert "Tarik persetujuan pemrosesan data pribadi?" in wa.reads()
    with pstbot.service.db.transaction() as session:
        before = session.scalar(select(func.max(Outbox.id)))
    wa.taps("Ya, tarik persetujuan")
    told = wa.reads()
    assert "Persetujuan Anda sudah ditarik" in told and "nilai penilaian" in told
    [gone] = _visitors(pstbot)
    assert gone.nama is gone.email is gone.telepon is gone.wa_phone is gone.consent_at is None
    assert gone.user_id.startswith("hapus-") and gone.chat_id.startswith("hapus-")
    assert httpx.get(url).status_code == 404  # the copy went with the data
    with pstbot.service.db.transaction() as session:
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["ekspor", "tarik_persetujuan"]
        earlier = session.scalars(select(Outbox.payload).where(Outbox.id <= before)).all()
        assert len(earlier) > 10 and all(p == {"dihapus": True} for p in earlier)
        answer = session.scalars(
            select(Outbox.payload).where(Outbox.id > before).order_by(Outbox.id)
        ).all()
        assert "Persetujuan Anda sudah ditarik" in answer[0]["body"]  # sent after, intact
    wa.says("halo")
    assert "Selamat datang" in wa.reads()  # a new visitor
    assert len(_visitors(pstbot)) == 2


def test_delete_my_data_during_a_hand_over_keeps_only_statistics(pstbot, telegram_api, twilio_api):
    tg = TelegramVisitor(pstbot, telegram_api, 7801, "Dewi")
    _register(tg, "BPS Kabupaten Bangka Selatan")
    tg.taps("Konsultasi statistik")
    tg.says("apa itu garis kemiskinan?")
    tg.reads()
    tg.taps("Sudah terjawab")
    tg.reads()
    _rate_all(tg, "Penjelasan Bu Dewi Lestari sangat jelas")
    tg.says("menu")
    tg.taps("Konsultasi statistik")
    tg.says(QUESTION)
    opened = tg.reads()
    number = re.search(r"KS-1905-\d{8}-\d{4}", opened)[0]
    tg.says("hapus data saya")  # a right: read even while relaying to staff
    tg.taps("Ya, hapus data saya")
    assert "Data pribadi Anda sudah dihapus" in tg.reads()
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    [(topic_id, _)] = telegram_api.topics(STAFF_CHATS["1905"]).items()
    assert "pengunjung menghapus data pribadinya" in _topic_texts(telegram_api, topic_id)[-1]
    assert QUESTION not in _topic_texts(telegram_api, topic_id)[-1]

    with pstbot.service.db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.status == "dibatalkan" and ticket.kind == "KS" and ticket.created_at
        assert ticket.summary == "" and ticket.details == {"dihapus": True}
        notes = session.scalars(select(TicketEvent.note).where(TicketEvent.note.is_not(None)))
        assert notes.all() == []
        rating = session.scalars(select(Rating)).one()
        assert rating.comment is None and rating.u1 == 4 and rating.u9 == 3
        topic_rows = session.scalars(
            select(Outbox)
            .where(Outbox.chat_id == f"{STAFF_CHATS['1905']}#{number}")
            .order_by(Outbox.id)
        ).all()
        assert topic_rows[0].payload == {"dihapus": True}  # the header with the profile
        assert "menghapus data pribadinya" in json.dumps([r.payload for r in topic_rows])
        texts = json.dumps([r.payload for r in session.scalars(select(Outbox)).all()])
        assert "Dewi Lestari" not in texts and QUESTION not in texts
        assert "dewi.lestari" not in texts and "Bu Dewi" not in texts
    [visitor] = _visitors(pstbot)
    assert visitor.nama is None and visitor.instansi is None and visitor.display_name is None
    office = pstbot.service.pst.office("1905")
    today = dt.datetime.now(office.tz).date()
    answers = load_answers(pstbot.service.db, "1905", today, today, office.tz)
    assert answers == [(4, 3, 4, 4, 4, 3, 4, 4, 3)]  # the IKM still counts the rating


def test_staff_topic_masks_contacts_and_kontak_is_audited(pstbot, twilio_api, telegram_api):
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700003"
    )
    header = _topic_texts(telegram_api, topic_id)[0]
    assert "Rahmat Hidayat" in header and "Dinas Kelautan Basel" in header and QUESTION in header
    assert "rahmat@example.id" not in header and "+6281377700003" not in header
    assert "r***@example.id" in header and "0813****0003" in header
    staff.reads()
    staff.says(f"/kontak {number.lower()}")
    shown = staff.reads()
    assert "rahmat@example.id" in shown and "+6281377700003" in shown and "tercatat" in shown
    outsider = StaffMember(pstbot, telegram_api, STAFF_CHATS["1905"], 4242, "Bukan petugas")
    outsider.says(f"/kontak {number}")
    refused = outsider.reads().split("---")[-1]
    assert "hanya untuk petugas PST" in refused and "rahmat@example.id" not in refused
    with pstbot.service.db.transaction() as session:
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "kontak")).all()
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert entry.actor == str(STAFF_USER) and entry.ticket_id == ticket.id
        assert entry.visitor_id == ticket.visitor_id and entry.at is not None
    wa.says("ini tabelnya", media=(twilio_api.add_media(PHOTO, "image/png"), "image/png"))
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    kept = [p for p in pstbot.service.downloads.tickets_dir.rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in kept] == [PHOTO]  # the visitor's photo, relayed to staff
    staff.says("/kontak", topic=topic_id)  # in the ticket's own topic: no number needed
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{topic_id}")
    assert "rahmat@example.id" in _topic_texts(telegram_api, topic_id)[-1]
    wa.says("hapus data saya")
    wa.taps("Ya, hapus data saya")
    wa.reads()
    assert not any(p.exists() for p in kept)  # erased with the rest
    staff.says(f"/kontak {number}")
    assert "sudah menghapus data pribadinya" in staff.reads()
    with pstbot.service.db.transaction() as session:
        looks = session.scalars(select(AuditLog.actor).where(AuditLog.action == "kontak")).all()
        assert looks == [str(STAFF_USER)] * 3


def _purge_cli(pstbot, *args: str) -> str:
    env = {k: str(v) for k, v in pstbot.env.items()}
    for key in ("TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(key)
    result = CliRunner().invoke(main, ["privacy", "purge", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_retention_anonymises_messages_then_erases_the_profile(tg, pstbot, telegram_api):
    _register(tg, "BPS Kabupaten Ketapang")
    tg.taps("Perpustakaan")
    assert "Buku tamu Anda tersimpan" not in tg.reads()
    with pstbot.service.db.transaction() as session:
        visitor_id = session.scalars(select(Visitor.id)).one()
        session.add(
            Download(
                download_id="abc123", visitor_id=visitor_id, publication_id=1, office_code="6106"
            )
        )
    stamped = pstbot.service.downloads.out_dir / "abc123.pdf"
    stamped.parent.mkdir(parents=True, exist_ok=True)
    stamped.write_bytes(b"%PDF-1.4 stamped with Dewi Lestari")
    assert "privacy-purge" in pstbot.service.scheduler.jobs  # the job the scheduler runs hourly
    pstbot.service.scheduler.shutdown()  # the jobs are run by hand below, on a moved clock
    pstbot.service.scheduler = None
    assert pstbot.service.purge() == {"profil": 0}  # nothing is old yet
    start = dt.datetime.now(dt.UTC)

    with time_machine.travel(start + dt.timedelta(days=400), tick=True):
        dry = _purge_cli(pstbot, "--dry-run")
        assert "dry run" in dry and "profil: 0" in dry and "outbox.payload:" in dry
        assert "files: 1" in dry and stamped.exists()
        counts = pstbot.service.purge()
        assert counts["profil"] == 0 and counts["outbox.payload"] >= 5 and counts["files"] == 1
        assert counts["conversations.state"] == 1  # the old conversation starts again
        tg.says("halo")
        assert "Selamat datang" in tg.reads()
        tg.taps("Buku tamu")
        assert "Dewi Lestari" in tg.reads()  # the profile is kept 24 months after the last word
    assert not stamped.exists()
    with pstbot.service.db.transaction() as session:
        sent = session.scalars(
            select(Outbox.payload).where(Outbox.chat_id == tg.chat_id).order_by(Outbox.id)
        ).all()
        assert sent[0] == {"dihapus": True} and "Dewi Lestari" in json.dumps(sent[-2:])
        assert session.scalar(select(Download.download_id)) == "abc123"  # the count stays

    with time_machine.travel(start + dt.timedelta(days=400 + 740), tick=True):
        assert "profil: 1" in _purge_cli(pstbot, "--dry-run")
        assert pstbot.service.purge()["profil"] == 1
        assert pstbot.service.purge() == {"profil": 0}  # once
    [visitor] = _visitors(pstbot)
    assert visitor.nama is None and visitor.user_id.startswith("hapus-")
    with pstbot.service.db.transaction() as session:
        runs = session.scalars(
            select(AuditLog).where(AuditLog.action == "retensi").order_by(AuditLog.id)
        ).all()
        assert len(runs) == 2 and "profil=1" in runs[-1].detail


def test_privacy_journeys_log_no_personal_data(pstbot, twilio_api, telegram_api):
    from bot import logs

    stream = io.StringIO()
    root, handler = logging.getLogger(), logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    try:
        logs.setup("INFO", pstbot.service.settings.secrets)
        root.setLevel(logging.INFO)
        wa, staff, number, _ = _open_consultation(
            pstbot, twilio_api, telegram_api, "+6281377700004"
        )
        staff.says(f"/kontak {number}")
        assert "rahmat@example.id" in staff.reads()
        wa.says("data saya")
        shown = wa.reads()
        assert "data-saya.json" in shown, shown
        link = re.search(r"http://\S+/data-saya\.json", shown)[0]
        assert httpx.get(link).json()["profil"]["nama"] == "Rahmat Hidayat"
        wa.says("hapus data saya")
        wa.taps("Ya, hapus data saya")
        assert "sudah dihapus" in wa.reads()
        assert pstbot.service.purge(dry_run=True)["profil"] == 0
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue()
    assert "/webhook/whatsapp" in text  # the logs were captured
    for personal in ("Rahmat Hidayat", "rahmat@example.id", "6281377700004", "Kelautan", QUESTION):
        assert personal not in text, personal
