"""The staff desk in a real browser: Playwright driving the system's headless Chromium (Debian's
``chromium`` package) against the running bot. Sign in, take a ticket and mark it ready with a
file (the visitor receives it), call the next queue number (the visitor is told), export the
guest book, open the IKM report. ``PSTBOT_SCREENSHOTS=DIR`` keeps phone and desktop screenshots.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook
from playwright.sync_api import Page, expect, sync_playwright

from core.tickets import new_ticket
from storage.models import Rating, Visitor
from tests.desk_client import PASSWORD, add_staff, open_moment
from tests.harness import TelegramVisitor
from tests.test_data_request import XLSX, _request_as_whatsapp_visitor

CHROMIUM = os.environ.get("PSTBOT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture
def page(tmp_path: Path):
    """A phone-sized page of a fresh Chromium profile."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport=PHONE,
            accept_downloads=True,
            locale="id-ID",
        )
        context.set_default_timeout(15_000)
        yield context.pages[0] if context.pages else context.new_page()
        context.close()


def _shoot(page: Page, name: str, tmp_path: Path) -> None:
    """Full-page screenshots at phone and desktop widths, kept when PSTBOT_SCREENSHOTS is set."""
    folder = Path(os.environ.get("PSTBOT_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)


def _overdue_complaint(pstbot, office) -> str:
    """A complaint whose due time passed yesterday: the list shows it first, in red."""
    with pstbot.service.db.transaction() as session:
        visitor = session.query(Visitor).filter_by(nama="Hendra Gunawan").one()
        due = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        summary = "Petugas tidak membalas chat konsultasi selama tiga hari"
        return new_ticket(session, "PG", office, visitor, summary, due_at=due).number


def _ratings(pstbot, office_code: str) -> None:
    """Three answered satisfaction surveys of this month, so the IKM report has numbers."""
    with pstbot.service.db.transaction() as session:
        for n, answers in enumerate(((4,) * 9, (3,) * 9, (4, 3, 3, 4, 3, 4, 4, 3, 3))):
            visitor = session.query(Visitor).filter_by(nama="Hendra Gunawan").one()
            session.add(
                Rating(
                    visitor_id=visitor.id,
                    office_code=office_code,
                    service="umum",
                    ref=f"umum/test-{n}",
                    **{f"u{i + 1}": a for i, a in enumerate(answers)},
                    answered_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_desk_in_a_browser(page: Page, pstbot, twilio_api, telegram_api, tmp_path):
    visitor, number = _request_as_whatsapp_visitor(pstbot, twilio_api, "+6281255500071")
    visitor.reads()
    add_staff(pstbot.service.db, "ani", "6106")
    office = pstbot.service.pst.office("6106")
    with time_machine.travel(open_moment(office), tick=True):
        _ratings(pstbot, "6106")
        late = _overdue_complaint(pstbot, office)
        walk_in = TelegramVisitor(pstbot, telegram_api, 5550202, "Rina")
        walk_in.says("halo")
        walk_in.taps("BPS Kabupaten Ketapang")
        walk_in.taps("Ambil nomor antrian")
        walk_in.taps("Permintaan data")
        walk_in.fills_guest_book(
            "Rina Marlina",
            "rina@example.net",
            "0812-5500-7788",
            "Universitas Tanjungpura",
            "Pelajar/mahasiswa",
            "Tugas sekolah/kuliah",
        )
        assert "Nomor antrian Anda: D-001" in walk_in.reads()

        page.goto(f"{pstbot.url}/desk/tiket")
        page.get_by_label("Nama pengguna").fill("ani")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        expect(page.get_by_role("heading", name="Tiket terbuka")).to_be_visible()
        expect(page.get_by_role("link", name=number)).to_be_visible()
        overdue = page.locator("article.overdue")
        expect(overdue).to_have_count(1)
        expect(overdue.get_by_role("link")).to_have_text(late)
        expect(overdue.locator(".late")).to_contain_text("terlambat")
        _shoot(page, "tiket", tmp_path)

        page.get_by_role("link", name=number).click()
        page.get_by_role("button", name="Ambil tiket").click()
        expect(page.get_by_text(f"Tiket {number} diambil oleh ani.")).to_be_visible()
        assert "sedang diproses" in visitor.reads()
        page.get_by_text("Siap — kirim berkas").click()
        page.get_by_label("Berkas data untuk pengunjung").set_input_files(
            {"name": "penduduk.xlsx", "mimeType": "application/vnd.ms-excel", "buffer": XLSX}
        )
        page.get_by_role("button", name="Tandai siap dan kirim").click()
        expect(page.get_by_text(f"Tiket {number} siap; data dikirim")).to_be_visible()
        assert "Data Anda sudah siap" in visitor.reads()
        media = [m for m in twilio_api.messages(visitor.chat_id) if m.get("MediaUrl")]
        assert media[-1]["MediaUrl"][0].endswith("/penduduk.xlsx")
        _shoot(page, "tiket-detail", tmp_path)

        page.get_by_role("link", name="Antrian").click()
        expect(page.get_by_text("D-001 Rina Marlina")).to_be_visible()
        _shoot(page, "antrian", tmp_path)
        lane = page.locator("article.lane", has_text="Permintaan data")
        lane.get_by_role("button", name="Panggil berikutnya").click()
        expect(page.get_by_text("Memanggil D-001 — Rina Marlina.")).to_be_visible()
        assert "Nomor antrian D-001 (Permintaan data) dipanggil" in walk_in.reads()

        page.get_by_role("link", name="Buku tamu").click()
        month_ago = dt.datetime.now(office.tz).date() - dt.timedelta(days=30)
        page.get_by_label("Dari").fill(month_ago.isoformat())
        with page.expect_download() as download:
            page.get_by_role("button", name="Unduh Excel").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name.startswith("buku-tamu-6106-") and saved.suffix == ".xlsx"
        sheet = load_workbook(saved).active
        names = [row[3] for row in sheet.iter_rows(min_row=3, values_only=True)]
        assert sorted(names) == ["Hendra Gunawan"] * 2 + ["Rina Marlina"]  # PD, PG, walk-in

        page.get_by_role("link", name="Laporan").click()
        # Σ NRR = (36 + 27 + 31) ÷ 3; IKM = Σ NRR ÷ 9 × 25 = 87,04, mutu B
        expect(page.get_by_text("IKM 87,04")).to_be_visible()
        _shoot(page, "laporan", tmp_path)
