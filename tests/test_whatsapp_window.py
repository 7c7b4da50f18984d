"""WhatsApp as it really works, over the real webhooks with the fake Twilio enforcing the 24-hour
window: staff answers, idle warnings and closes, ticket notices and rating invitations to a
visitor who has been silent for days reach them — a template first, the held messages in order
once they write — and staff are told what waits."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import time_machine
from sqlalchemy import select

from storage.models import Outbox, Rating
from tests.conftest import STAFF_CHATS, STAFF_USER, TEMPLATES
from tests.harness import StaffMember, WhatsAppVisitor
from tests.test_consultation import BASEL_WA, QUESTION, _open_consultation, _topic_texts

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _filled(kind: str, name: str, number: str) -> str:
    """What the visitor reads of the test offices' template of class ``kind``."""
    return TEMPLATES[kind][1].replace("{{1}}", name).replace("{{2}}", number)


def _pstbot_outbox(pstbot, *args: str):
    from click.testing import CliRunner

    from bot.cli import main

    env = {"DATABASE_URL": pstbot.env["DATABASE_URL"], "PSTBOT_CONFIG": pstbot.env["PSTBOT_CONFIG"]}
    return CliRunner().invoke(main, ["outbox", *args], env=env)


def _no_window_refusals(twilio_api) -> None:
    """Twilio never had to refuse a free-form message: the bot decided before sending."""
    assert [c.response.get("code") for c in twilio_api.calls() if not c.ok] == []


def _rows(pstbot, chat_id: str) -> list[Outbox]:
    with pstbot.service.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.chat_id == chat_id)).all()
        session.expunge_all()
        return rows


def test_a_week_of_silence_answer_warning_and_close_all_arrive_in_order(
    pstbot, twilio_api, telegram_api
):
    twilio_api.session_window(True)
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700101"
    )
    start = dt.datetime.now(dt.UTC)
    answer = "Jumlah perahu motor di Toboali tahun 2023: 412 unit (Statistik Perikanan, tabel 3.2)."
    with time_machine.travel(start + 30 * HOUR, tick=True):  # the standard allows 3 working days
        staff.says(answer, topic=topic_id)
        told = wa.reads()
        assert told == _filled("jawaban_petugas", "Rahmat Hidayat", number)
        staff.says("Bila perlu per desa, kabari kami.", topic=topic_id)
        assert wa.reads() == ""  # one template per silence and class: the visitor knows already
    with time_machine.travel(start + 30 * HOUR + 6 * DAY + HOUR, tick=True):
        pstbot.service.sweep()
        assert "akan ditutup otomatis besok" in wa.reads()
    with time_machine.travel(start + 30 * HOUR + 7 * DAY + HOUR, tick=True):
        pstbot.service.sweep()
        assert f"tiket {number} sudah ditutup" in wa.reads()  # no paid rating invitation
        pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
        wa.says("terima kasih, maaf baru balas")
        back = wa.reads().split("\n---\n")
    assert back[:4] == [
        f"Petugas PST: {answer}",
        "Petugas PST: Bila perlu per desa, kabari kami.",
        f"Tiket {number} akan ditutup otomatis besok bila tidak ada balasan dari Anda. "
        "Balas pesan ini bila masih ada yang ingin ditanyakan.",
        f"Tiket {number} ditutup otomatis karena tidak ada balasan dari Anda selama 7 hari. "
        "Silakan buka konsultasi baru bila masih perlu bantuan.",
    ]
    assert not any("Penilaian 1/9" in text for text in back)
    wa.says("halo")
    assert all(t not in wa.reads() for t in ("Petugas PST:", "ditutup otomatis"))  # none twice
    _no_window_refusals(twilio_api)
    with pstbot.service.db.transaction() as session:
        assert session.scalars(select(Rating)).all() == []  # the survey was taken back
    assert not any("belum terkirim" in t for t in _topic_texts(telegram_api, topic_id))
    wa.save_transcript("whatsapp-week-of-silence")


def test_without_a_template_the_answer_waits_and_staff_are_told_once(
    pstbot, twilio_api, telegram_api, monkeypatch
):
    twilio_api.session_window(True)
    monkeypatch.delitem(pstbot.service.pst.office("1905").whatsapp_templates, "jawaban_petugas")
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700102"
    )
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start + 2 * DAY, tick=True):
        staff.says("Datanya ada di tabel 3.2.", topic=topic_id)
        staff.says("Tabel 3.3 juga relevan.", topic=topic_id)
        assert wa.reads() == ""
        pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
        notes = [t for t in _topic_texts(telegram_api, topic_id) if "belum terkirim" in t]
        assert len(notes) == 1 and number in notes[0] and '"jawaban_petugas"' in notes[0]
        assert "menerimanya begitu ia menulis lagi" in notes[0]
        listed = _pstbot_outbox(pstbot, "--held").output.splitlines()
        assert len(listed) == 2 and all(
            number in line and "window closed" in line for line in listed
        )
        assert _pstbot_outbox(pstbot, "--failed").output.strip() == "nothing waiting"
        wa.says("halo, ada kabar?")
        back = wa.reads().split("\n---\n")
    assert back[:2] == [
        "Petugas PST: Datanya ada di tabel 3.2.",
        "Petugas PST: Tabel 3.3 juga relevan.",
    ]
    _no_window_refusals(twilio_api)


def test_ticket_notices_after_two_days_come_as_one_template_then_in_order(
    pstbot, twilio_api, telegram_api
):
    from tests.test_data_request import _request_as_whatsapp_visitor

    twilio_api.session_window(True)
    wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500101")
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas Ani")
    with time_machine.travel(dt.datetime.now(dt.UTC) + 2 * DAY, tick=True):
        staff.says(f"/ambil {number}")
        staff.says(f"/tolak {number} data tingkat kecamatan 2024 belum dirilis")
        staff.reads()
        assert wa.reads() == _filled("tiket_diperbarui", "Hendra Gunawan", number)
        wa.says("ya?")
        back = wa.reads()
    assert back.index("sedang diproses") < back.index("belum dirilis")
    assert back.count("sedang diproses") == 1
    _no_window_refusals(twilio_api)


def test_rating_invitation_goes_as_a_template_when_the_office_has_one(
    pstbot, twilio_api, telegram_api, monkeypatch
):
    sid = "HX" + "a7" * 16
    monkeypatch.setitem(
        pstbot.service.pst.office("1905").whatsapp_templates, "undangan_penilaian", sid
    )
    twilio_api.approve(sid, "Halo {{1}}, bagaimana layanan kami untuk {{2}}? Balas untuk menilai.")
    twilio_api.session_window(True)
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700103"
    )
    with time_machine.travel(dt.datetime.now(dt.UTC) + 3 * DAY, tick=True):
        staff.says("/selesai", topic=topic_id)
        templates = wa.reads().split("\n---\n")
        assert templates == [
            _filled("konsultasi_ditutup", "Rahmat Hidayat", number),
            f"Halo Rahmat Hidayat, bagaimana layanan kami untuk {number}? Balas untuk menilai.",
        ]
        wa.says("4")  # the visitor answers the first question straight away
        back = wa.reads()
    assert back.index(f"Petugas PST menutup tiket {number}") < back.index("Penilaian 1/9")
    assert "Penilaian 2/9" in back  # the "4" was the answer to U1
    with pstbot.service.db.transaction() as session:
        assert session.scalars(select(Rating)).one().u1 == 4


def test_twilio_refusing_with_63016_holds_the_message_and_sends_the_template(
    pstbot, twilio_api, telegram_api
):
    twilio_api.session_window(True)
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700104"
    )
    # Meta counts from an earlier message than the bot saw (e.g. a parked retry):
    twilio_api.visitor_wrote(wa.chat_id, dt.datetime.now(dt.UTC) - 25 * HOUR)
    staff.says("Jawabannya: 412 unit.", topic=topic_id)
    assert wa.reads() == _filled("jawaban_petugas", "Rahmat Hidayat", number)
    assert [c.response["code"] for c in twilio_api.calls() if not c.ok] == [63016]
    wa.says("ok")
    assert "Petugas PST: Jawabannya: 412 unit." in wa.reads()
    sent = [r for r in _rows(pstbot, wa.chat_id) if r.kind == "jawaban_petugas"]
    assert [r.status for r in sent] == ["sent", "sent"]  # the answer (released) and the template


def _wait(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_status_callbacks_record_delivery_per_row(pstbot, twilio_api, wa):
    wa.says("halo")
    wa.reads()
    _wait(lambda: {r.delivery for r in _rows(pstbot, wa.chat_id)} == {"delivered"})
    rows = _rows(pstbot, wa.chat_id)
    sent = twilio_api.messages(wa.chat_id)
    assert len(sent) == len(rows) and all(
        re.fullmatch(r"SM[0-9a-f]{32}", r.message_sid) for r in rows
    )
    assert {m["StatusCallback"] for m in sent} == {f"{pstbot.url}/webhook/whatsapp/status"}
    form = {"MessageSid": rows[0].message_sid, "MessageStatus": "failed", "ErrorCode": "30008"}
    forged = httpx.post(f"{pstbot.url}/webhook/whatsapp/status", data=form)
    assert forged.status_code == 403  # unsigned: not Twilio's
    assert _rows(pstbot, wa.chat_id)[0].status == "sent"


def test_63016_reported_later_holds_the_answer_and_sends_the_template(
    pstbot, twilio_api, telegram_api
):
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700105"
    )
    twilio_api.fail_delivery(63016)  # accepted, then reported failed as the real service does
    staff.says("Jawabannya: 412 unit.", topic=topic_id)
    _wait(
        lambda: _filled("jawaban_petugas", "Rahmat Hidayat", number) in twilio_api.shown(wa.chat_id)
    )
    assert "Petugas PST: Jawabannya" not in "".join(twilio_api.shown(wa.chat_id))
    wa.reads()
    wa.says("ok, saya baca")
    assert "Petugas PST: Jawabannya: 412 unit." in wa.reads()


def test_a_message_whatsapp_refuses_for_good_is_counted_and_staff_are_told(
    pstbot, twilio_api, telegram_api
):
    wa, staff, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700106"
    )
    twilio_api.fail_delivery(63024)  # invalid message recipient
    staff.says("Jawabannya: 412 unit.", topic=topic_id)
    topic = f"{STAFF_CHATS['1905']}#{number}"
    _wait(lambda: any("WhatsApp menolak" in t for t in _topic_texts(telegram_api, topic_id)))
    pstbot.wait_delivered("telegram", topic)
    note = [t for t in _topic_texts(telegram_api, topic_id) if "WhatsApp menolak" in t]
    assert len(note) == 1 and number in note[0] and "63024" in note[0]
    [row] = [r for r in _rows(pstbot, wa.chat_id) if r.kind == "jawaban_petugas"]
    assert (row.status, row.delivery) == ("failed", "failed")
    assert httpx.get(f"{pstbot.url}/healthz").json()["undelivered"] == 1


def test_a_file_over_16_mb_goes_to_whatsapp_as_its_link_and_staff_hear_of_20_mb(
    pstbot, twilio_api, telegram_api
):
    from tests.test_data_request import _request_as_whatsapp_visitor

    wa, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500102")
    staff = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Petugas Ani")
    staff.reads()
    huge = b"PK\x03\x04" + b"\x07" * (25 * 2**20)  # Telegram will not let a bot fetch it
    staff.says(f"/siap {number}", document=telegram_api.add_file(huge, "sensus.xlsx"))
    told = staff.reads()
    assert "lebih dari 20 MB" in told and number in told and "tautannya" in told
    assert wa.reads() == ""  # nothing half-done reached the visitor
    big = b"PK\x03\x04" + b"\x05" * (18 * 2**20)  # fetchable, but over WhatsApp's 16 MB
    staff.says(f"/siap {number}", document=telegram_api.add_file(big, "penduduk-2024.xlsx"))
    staff.reads()
    ready = wa.reads()
    assert "Data Anda sudah siap" in ready and "penduduk-2024.xlsx (18 MB) terlalu besar" in ready
    assert not [m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]
    link = re.search(r"https?://\S+/unduh/\S+", ready)[0]
    assert httpx.get(link).content == big
    _no_window_refusals(twilio_api)


def test_a_file_over_telegrams_50_mb_upload_goes_as_its_link(telegram_api, tmp_path):
    from core.channels.telegram import TelegramSender, render
    from core.engine import Attachment, Reply
    from core.texts import Texts
    from tests.harness import BOT_TOKEN

    path = tmp_path / "sensus-2020.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * (51 * 2**20))
    sender = TelegramSender(
        BOT_TOKEN,
        telegram_api.base_url,
        lambda key: path,
        links=lambda key, name: f"https://pst.example/unduh/signed/{name}",
    )
    reply = Reply("Sensus Penduduk 2020", attachment=Attachment("unduh/abc", path.name))
    try:
        for method, payload in render("4242", None, "en", reply, Texts.load()):
            sender.send(method, payload)
    finally:
        sender.close()
    assert telegram_api.calls("sendDocument") == []
    [sent] = telegram_api.messages(4242)
    assert sent["text"].startswith("Sensus Penduduk 2020\n\nThe file sensus-2020.pdf (51 MB)")
    assert sent["text"].endswith("https://pst.example/unduh/signed/sensus-2020.pdf")


def test_an_office_without_staff_chat_gives_its_own_channels_not_a_false_promise(
    pstbot, twilio_api
):
    pst = pstbot.service.pst
    office = pst.office("1905").model_copy(update={"staff_chat_id": None})
    pst.offices[:] = [office if o.code == "1905" else o for o in pst.offices]  # this bot's own
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6281377700107", BASEL_WA, "Rahmat")
    wa.says("halo")
    wa.taps("Konsultasi statistik")
    wa.says(QUESTION)
    told = wa.reads()
    assert "teruskan ke petugas" not in told and "tidak diteruskan" in told  # no promise
    assert office.telepon in told and office.email in told
    wa.taps("Pengaduan")
    complaint = wa.reads()
    assert "tidak diteruskan" in complaint and "lapor.go.id" in complaint
    with pstbot.service.db.transaction() as session:
        assert session.scalars(select(Outbox).where(Outbox.channel == "telegram")).all() == []


MENU_LIST = "HX" + "1a" * 16
ANSWERED_BUTTONS = "HX" + "2b" * 16


def _offer_buttons_and_lists(pstbot, twilio_api, monkeypatch) -> None:
    """The deployment's content for the main menu (a list) and "answered?" (two buttons)."""
    from core.texts import Texts
    from handlers.menu import ENTRIES

    texts = Texts.load()
    menu = [(key, texts.get("id", f"menu_{key}")) for key in ENTRIES]
    twilio_api.add_content(MENU_LIST, "{{1}}", menu, picker=True)
    answered = [("ya", "Sudah terjawab"), ("belum", "Belum, tanya petugas")]
    twilio_api.add_content(ANSWERED_BUTTONS, "{{1}}", answered)
    choices = pstbot.service.pst.whatsapp_choices
    monkeypatch.setitem(choices, f"id:{','.join(ENTRIES)}", MENU_LIST)
    monkeypatch.setitem(choices, "id:ya,belum", ANSWERED_BUTTONS)


def test_a_tapped_list_item_and_a_tapped_button_drive_a_consultation(
    pstbot, twilio_api, monkeypatch
):
    _offer_buttons_and_lists(pstbot, twilio_api, monkeypatch)
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6281377700108", BASEL_WA, "Putri")
    wa.says("halo")
    menu = wa.reads()
    assert "[Konsultasi statistik]" in menu and "1. Info layanan" not in menu
    wa.taps("Konsultasi statistik")  # a list item: ListId "konsultasi"
    wa.says("apa itu garis kemiskinan?")
    answers = wa.reads()
    assert "Sumber:" in answers and "[Sudah terjawab] [Belum, tanya petugas]" in answers
    wa.taps("Sudah terjawab")  # a button: ButtonPayload "ya"
    assert "Penilaian 1/9" in wa.reads()  # no content for the survey: numbered, as before
    wa.taps("Sangat baik")
    assert "Penilaian 2/9" in wa.reads()
    sent = twilio_api.messages(wa.chat_id)
    assert sum(m.get("ContentSid") == MENU_LIST for m in sent) == 1
    assert sum(m.get("ContentSid") == ANSWERED_BUTTONS for m in sent) == 1
    posted = [c.params for c in twilio_api.calls() if c.params.get("ContentSid") in (MENU_LIST,)]
    assert all("Body" not in p for p in posted)


def test_a_number_typed_under_a_list_still_picks_its_item(pstbot, twilio_api, monkeypatch):
    _offer_buttons_and_lists(pstbot, twilio_api, monkeypatch)
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6281377700109", BASEL_WA, "Agus")
    wa.says("halo")
    wa.reads()
    from handlers.menu import ENTRIES

    wa.says(str(ENTRIES.index("konsultasi") + 1))  # typed, not tapped: its number in the list
    assert "Konsultasi statistik. Tulis pertanyaan Anda" in wa.reads()
