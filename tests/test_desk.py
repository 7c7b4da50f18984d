"""The staff web desk over real HTTP: sign-in, CSRF, office isolation, ticket actions with the
same effects as the staff Telegram commands, the walk-in queue (numbers per office day), the
guest book's Excel export and the monthly report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import httpx
import time_machine
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from handlers import antrian
from office.config import Layanan
from storage.models import Download, Publication, Ticket, Visit, Visitor
from tests.conftest import STAFF_CHATS, STAFF_USER
from tests.desk_client import PASSWORD, DeskUser, add_staff, open_moment
from tests.harness import StaffMember, TelegramVisitor
from tests.test_consultation import QUESTION, _open_consultation
from tests.test_data_request import XLSX, _request_as_whatsapp_visitor


def _desk(pstbot, name: str, office: str | None) -> DeskUser:
    add_staff(pstbot.service.db, name, office)
    user = DeskUser(pstbot.url, name)
    assert user.sign_in().url.path == "/desk/tiket"
    return user


def _ticket(pstbot, number: str) -> Ticket:
    with pstbot.service.db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        ticket.events  # noqa: B018  (loaded before the session ends)
        return ticket


def test_sign_in_wrong_password_and_sign_out(pstbot):
    add_staff(pstbot.service.db, "ani", "6106")
    user = DeskUser(pstbot.url, "ani")
    assert user.get("/desk/tiket").url.path == "/desk/masuk"  # not signed in yet
    refused = user.sign_in(password="salah-sekali-123")
    assert refused.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in user.flashes()
    stranger = DeskUser(pstbot.url, "tidak-ada")
    assert stranger.sign_in().status_code == 401  # an unknown name: the same answer
    assert "Nama pengguna atau kata sandi salah." in stranger.flashes()
    assert user.sign_in().url.path == "/desk/tiket"
    assert "Tiket terbuka" in user.page and "Keluar (ani)" in user.page
    user.submit("/desk/keluar")
    assert user.get("/desk/tiket").url.path == "/desk/masuk"
    user.sign_in()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8, minutes=5)  # PSTBOT_DESK_SESSION_HOURS
    with time_machine.travel(later, tick=True):
        assert user.get("/desk/tiket").url.path == "/desk/masuk"  # the session expired


def test_forms_without_the_csrf_token_are_refused(pstbot, twilio_api):
    _, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500011")
    add_staff(pstbot.service.db, "ani", "6106")
    user = DeskUser(pstbot.url, "ani")
    user.get("/desk/masuk")
    bare = user.http.post("/desk/masuk", data={"name": "ani", "password": PASSWORD})
    assert bare.status_code == 400 and "CSRF" in bare.text
    user.sign_in()
    forged = user.http.post(f"/desk/tiket/{number}/ambil")
    assert forged.status_code == 400
    assert _ticket(pstbot, number).status == "baru"  # nothing happened


def test_staff_see_only_their_office(pstbot, twilio_api):
    _, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500022")
    kendal = _desk(pstbot, "budi", "3324")
    assert number not in kendal.page
    assert kendal.get(f"/desk/tiket/{number}").status_code == 403
    assert kendal.http.get("/desk/antrian", params={"kantor": "6106"}).status_code == 403
    assert kendal.http.get("/desk/bukutamu.xlsx", params={"kantor": "6106"}).status_code == 403
    kendal.get("/desk/tiket")  # a page with a valid token: the office check still refuses
    assert kendal.submit(f"/desk/tiket/{number}/ambil").status_code == 403
    admin = _desk(pstbot, "admin", None)
    assert number in admin.page  # an admin sees every office
    assert admin.get(f"/desk/tiket/{number}").status_code == 200
    assert "BPS Kabupaten Kendal" in admin.get("/desk/antrian", kantor="3324").text
    assert admin.http.get("/desk/antrian", params={"kantor": "0000"}).status_code == 404


def test_desk_actions_have_the_effects_of_the_telegram_commands(pstbot, twilio_api, telegram_api):
    by_chat, first = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500031")
    by_desk, second = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500032")
    group = StaffMember(pstbot, telegram_api, STAFF_CHATS["6106"], STAFF_USER, "Ani")
    group.reads()
    group.says(f"/ambil {first}")
    group.says(f"/siap {first}", document=telegram_api.add_file(XLSX, "data.xlsx", "x/y"))
    group.reads()
    desk = _desk(pstbot, "ani", "6106")
    assert second in desk.page and "belum diambil" in desk.page
    desk.get(f"/desk/tiket/{second}")
    desk.submit(f"/desk/tiket/{second}/ambil")
    assert f"Tiket {second} diambil oleh ani." in desk.flashes()
    assert f"Tiket {second} diambil oleh ani." in group.reads()  # the group sees the desk's work
    upload = {"berkas": ("data.xlsx", XLSX, "application/vnd.ms-excel")}
    desk.submit(f"/desk/tiket/{second}/siap", files=upload)
    assert f"Tiket {second} siap; data dikirim ke pengunjung." in desk.flashes()

    told_by_chat, told_by_desk = by_chat.reads(), by_desk.reads()
    assert "sedang diproses" in told_by_desk and "Data Anda sudah siap" in told_by_desk
    assert told_by_desk == told_by_chat.replace(first, second)  # the same words, in order
    media = [m["MediaUrl"][0] for m in twilio_api.messages(by_desk.chat_id) if m.get("MediaUrl")]
    assert len(media) == 1 and media[0].endswith("/data.xlsx")
    assert httpx.get(media[0]).content == XLSX
    chat_steps = [e.status for e in _ticket(pstbot, first).events]
    desk_steps = [(e.status, e.actor) for e in _ticket(pstbot, second).events]
    assert chat_steps == [s for s, _ in desk_steps] == ["baru", "diproses", "siap"]
    assert desk_steps[1][1] == "desk:ani"
    assert "desk:ani" in desk.get(f"/desk/tiket/{second}").text  # the history on the page
    assert "sudah dikirim, menunggu ditutup" in desk.get("/desk/tiket").text  # clock stopped


def test_refuse_needs_a_reason_the_visitor_reads(pstbot, twilio_api):
    visitor, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500041")
    visitor.reads()
    desk = _desk(pstbot, "ani", "6106")
    desk.get(f"/desk/tiket/{number}")
    desk.submit(f"/desk/tiket/{number}/tolak", {"alasan": "x"})
    assert "Alasan 3–500 huruf, agar pengunjung paham." in desk.flashes()
    assert _ticket(pstbot, number).status == "baru"
    desk.submit(f"/desk/tiket/{number}/tolak", {"alasan": "Data per desa belum tersedia"})
    assert "Alasan: Data per desa belum tersedia" in visitor.reads()
    desk.submit(f"/desk/tiket/{number}/ambil")
    assert f"Tiket {number} sudah berstatus ditolak." in desk.flashes()
    assert number not in desk.get("/desk/tiket").text  # no longer open


def test_consultation_page_shows_the_talk_and_closing_it_is_the_hand_over_close(
    pstbot, twilio_api, telegram_api
):
    visitor, group, number, topic_id = _open_consultation(
        pstbot, twilio_api, telegram_api, "+6281377700091"
    )
    group.says("Tabelnya ada di publikasi Statistik Perikanan.", topic=topic_id)
    visitor.reads()
    desk = _desk(pstbot, "dina", "1905")
    page = desk.get(f"/desk/tiket/{number}").text
    assert QUESTION in page  # the topic's header, relayed from the visitor
    assert "Petugas PST: Tabelnya ada di publikasi Statistik Perikanan." in page
    desk.submit(f"/desk/tiket/{number}/tutup")
    assert f"Tiket {number} ditutup oleh dina." in desk.flashes()
    told = visitor.reads()
    assert f"Petugas PST menutup tiket {number}" in told and "Penilaian 1/9" in told
    pstbot.wait_delivered("telegram", f"{STAFF_CHATS['1905']}#{number}")
    assert [c.ok for c in telegram_api.calls("closeForumTopic")] == [True]
    assert _ticket(pstbot, number).status == "selesai"
    desk.submit(f"/desk/tiket/{number}/tutup")
    assert f"Tiket {number} sudah berstatus selesai." in desk.flashes()


def test_walk_in_queue_number_from_the_bot_and_the_call(pstbot, telegram_api):
    office = pstbot.service.pst.office("6106")
    with time_machine.travel(open_moment(office), tick=True):
        tg = TelegramVisitor(pstbot, telegram_api, 5550101, "Rina")
        tg.says("halo")
        tg.taps("BPS Kabupaten Ketapang")
        tg.taps("Ambil nomor antrian")
        tg.taps("Permintaan data")
        assert "isi buku tamu dulu" in tg.reads()
        tg.fills_guest_book(
            "Rina Marlina",
            "rina@example.net",
            "0812-5500-7788",
            "Untan",
            "Pelajar/mahasiswa",
            "Tugas sekolah/kuliah",
        )
        told = tg.reads()
        assert "Nomor antrian Anda: D-001 (Permintaan data)" in told
        assert "Antrian sebelum Anda: 0" in told
        desk = _desk(pstbot, "ani", "6106")
        desk.get("/desk/antrian")
        desk.submit(
            "/desk/antrian/daftar?kantor=6106", {"layanan": "permintaan_data", "nama": "Pak Joko"}
        )
        assert "Pak Joko terdaftar di buku tamu dengan nomor antrian D-002." in desk.flashes()
        assert "D-001" in desk.page and "D-002" in desk.page
        desk.submit("/desk/antrian/panggil?kantor=6106", {"layanan": "permintaan_data"})
        assert "Memanggil D-001 — Rina Marlina." in desk.flashes()
        assert "Nomor antrian D-001 (Permintaan data) dipanggil" in tg.reads()
        desk.submit("/desk/antrian/panggil?kantor=6106", {"layanan": "permintaan_data"})
        assert "Memanggil D-002 — Pak Joko." in desk.flashes()  # no chat: nobody to tell
        desk.submit("/desk/antrian/panggil?kantor=6106", {"layanan": "permintaan_data"})
        assert "Tidak ada antrian yang menunggu untuk layanan ini." in desk.flashes()


def test_queue_numbers_start_again_each_local_day(db, pst):
    # 15:59 UTC is 23:59 in Tarakan (WITA, UTC+8) but 22:59 in Ketapang (WIB, UTC+7); at 16:00
    # UTC Tarakan's new day begins and its numbers start again, Ketapang's go on.
    tarakan, ketapang = pst.office("6571"), pst.office("6106")
    before = dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.UTC)
    after = before + dt.timedelta(minutes=1)
    lib = Layanan.PERPUSTAKAAN
    with db.transaction() as session:

        def take(office, now, service=lib):
            return antrian.label(antrian.take_number(session, office, service, now, {"nama": "X"}))

        assert [take(tarakan, before), take(tarakan, before), take(tarakan, after)] == [
            "P-001",
            "P-002",
            "P-001",
        ]
        assert [take(ketapang, before), take(ketapang, after)] == ["P-001", "P-002"]
        assert take(ketapang, after, Layanan.KONSULTASI) == "K-001"  # each service its own
        days = session.scalars(select(Visit.day).where(Visit.office_code == "6571")).all()
        assert sorted(set(days)) == [dt.date(2026, 11, 23), dt.date(2026, 11, 24)]


def test_guest_book_excel_has_the_office_columns_and_rows(pstbot, twilio_api):
    _visitor, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500051")
    office = pstbot.service.pst.office("6106")
    with time_machine.travel(open_moment(office), tick=True):
        desk = _desk(pstbot, "ani", "6106")
        desk.get("/desk/antrian")
        desk.submit(
            "/desk/antrian/daftar", {"layanan": "perpustakaan", "nama": "Siti", "telepon": "12"}
        )
        assert "Nomor telepon tidak valid." in desk.flashes()  # nothing stored: no P-001 yet
        assert "P-001" not in desk.page
        desk.submit(
            "/desk/antrian/daftar",
            {
                "layanan": "perpustakaan",
                "nama": "Siti Aminah",
                "instansi": "SMAN 1 Ketapang",
                "pekerjaan": "Pelajar/mahasiswa",
                "email": "siti@example.net",
                "telepon": "081255509999",
                "tujuan": "Tugas sekolah/kuliah",
            },
        )
        today = dt.datetime.now(office.tz).date()
        start = (today - dt.timedelta(days=30)).isoformat()  # the ticket: before the trip
        response = desk.http.get(
            "/desk/bukutamu.xlsx", params={"dari": start, "sampai": today.isoformat()}
        )
        bad = desk.http.get("/desk/bukutamu.xlsx", params={"dari": "kemarin"})
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == (
        "No",
        "Tanggal",
        "Jam",
        "Nama",
        "Instansi",
        "Pekerjaan",
        "Email",
        "Telepon",
        "Keperluan",
        "Layanan",
        "Cara",
        "Nomor",
    )
    by_name = {r[3]: r for r in rows[2:]}
    siti = by_name["Siti Aminah"]
    assert siti[4:] == (
        "SMAN 1 Ketapang",
        "Pelajar/mahasiswa",
        "siti@example.net",
        "+6281255509999",
        "Tugas sekolah/kuliah",
        "Perpustakaan",
        "Datang langsung",
        "P-001",
    )
    assert siti[1] == today.isoformat()
    hendra = by_name["Hendra Gunawan"]
    assert hendra[4] == "Bappeda Ketapang" and hendra[9:] == (
        "Permintaan data",
        "Online (whatsapp)",
        number,
    )
    assert [r[0] for r in rows[2:]] == list(range(1, len(rows) - 1))
    assert bad.url.path == "/desk/bukutamu" and "TTTT-BB-HH" in bad.text


def test_report_counts_tickets_and_ikm(pstbot, twilio_api):
    _, _number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500061")
    with pstbot.service.db.transaction() as session:
        hendra = session.scalars(select(Visitor).where(Visitor.nama == "Hendra Gunawan")).one()
        book = session.scalars(select(Publication).where(Publication.domain == "6106")).first()
        for n in range(2):
            session.add(
                Download(
                    download_id=f"t{n}",
                    visitor_id=hendra.id,
                    publication_id=book.id,
                    office_code="6106",
                )
            )
        title = book.title
    desk = _desk(pstbot, "ani", "6106")
    page = desk.get("/desk/laporan").text
    assert "Indeks Kepuasan Masyarakat" in page
    assert "Belum ada responden survei kepuasan pada bulan ini." in page
    month = dt.datetime.now(pstbot.service.pst.office("6106").tz).strftime("%Y-%m")
    sheet = load_workbook(
        io.BytesIO(desk.http.get("/desk/laporan.xlsx", params={"bulan": month}).content)
    ).active
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert rows["Tiket dibuka"][1] == 1
    assert rows["Permintaan data"][1:5] == (1, 0, 0, 1)  # opened, finished, refused, open
    assert rows["U1"][2] == 0
    assert rows[title][1] == 2  # downloads per publication
    assert title in page


def test_report_as_csv_and_health_for_admins_only(pstbot, twilio_api):
    _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500081")
    staff = _desk(pstbot, "ani", "6106")
    table = list(csv.reader(io.StringIO(staff.http.get("/desk/laporan.csv").text)))
    assert ["Tiket dibuka", "1"] in table
    assert table[-2][0] == "IKM" and table[-2][1] == ""  # no survey answers yet: no IKM
    assert staff.http.get("/desk/sehat").status_code == 403
    assert "Sistem" not in staff.get("/desk/tiket").text
    admin = _desk(pstbot, "admin", None)
    page = admin.get("/desk/sehat").text
    assert "Kotak keluar" in page and "Berjalan (memegang lease)" in page
    sent = re.search(r"Terkirim 24 jam terakhir</td><td><strong>(\d+)", page)
    assert int(sent[1]) > 5  # the visitor's conversation went out
    assert re.search(r"skema revisi 00\d\d", page)


def test_no_queue_number_while_the_office_is_closed(pstbot, telegram_api):
    sunday = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)  # 10.00 WIB, a Sunday
    with time_machine.travel(sunday, tick=True):
        tg = TelegramVisitor(pstbot, telegram_api, 5550303, "Dodi")
        tg.says("halo")
        tg.taps("BPS Kabupaten Ketapang")
        tg.taps("Ambil nomor antrian")
        assert "Kantor buka lagi Senin, 7 Desember 2026 08.00 WIB" in tg.reads()
    with pstbot.service.db.transaction() as session:
        assert session.scalars(select(Visit)).first() is None


def test_staff_accounts_from_the_command_line(tmp_path, test_config, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    monkeypatch.setenv("PSTBOT_CONFIG", str(test_config))
    runner = CliRunner()
    added = runner.invoke(main, ["staff", "add", "ani", "--office", "6106", "--password", PASSWORD])
    assert added.exit_code == 0, added.output
    short = runner.invoke(main, ["staff", "add", "budi", "--password", "pendek"])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    unknown = runner.invoke(
        main, ["staff", "add", "budi", "--office", "9999", "--password", PASSWORD]
    )
    assert "unknown office 9999" in unknown.output
    again = runner.invoke(main, ["staff", "add", "ani", "--password", PASSWORD])
    assert "exists already" in again.output
    assert runner.invoke(main, ["staff", "add", "kepala", "--password", PASSWORD]).exit_code == 0
    listed = runner.invoke(main, ["staff", "list"]).output.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["ani", "6106"], ["kepala", "admin"]]
    assert runner.invoke(main, ["staff", "remove", "ani"]).exit_code == 0
    assert "no account 'ani'" in runner.invoke(main, ["staff", "remove", "ani"]).output
    assert [
        line.split("\t")[0] for line in runner.invoke(main, ["staff", "list"]).output.splitlines()
    ] == ["kepala"]
