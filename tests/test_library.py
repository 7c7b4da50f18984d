"""The library over both webhooks: search, detail, watermarked download, softcopy request,
printed-copy reservation, bad input."""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from storage.models import Download, Publication, Ticket
from tests.conftest import STAFF_CHATS
from tests.harness import SHARED_NUMBER, TelegramVisitor, WhatsAppVisitor

KETAPANG_2022 = "Kabupaten Ketapang Dalam Angka 2022"


def _sample(pstbot, domain: str) -> Publication:
    """The office's publication that has a (sample) PDF on hand."""
    with pstbot.service.db.transaction() as session:
        return session.scalars(
            select(Publication).where(
                Publication.domain == domain, Publication.local_file.is_not(None)
            )
        ).first()


def _register(visitor, name: str, email: str, phone: str | None) -> None:
    assert "Apakah Anda setuju?" in visitor.reads()
    # Without a phone, "1" takes the WhatsApp number offered.
    visitor.fills_guest_book(name, email, phone or "1", "Pribadi", "Pegawai swasta", "Penelitian")


def _assert_stamped(pdf: bytes, *needles: str) -> int:
    reader = PdfReader(io.BytesIO(pdf))
    for number, page in enumerate(reader.pages, 1):
        text = " ".join(page.extract_text().split())
        for needle in needles:
            assert needle in text, f"page {number} lacks {needle!r}"
    return len(reader.pages)


def _start(visitor, office_label: str) -> None:
    visitor.says("halo")
    visitor.reads()
    visitor.taps(office_label)
    visitor.taps("Perpustakaan")
    assert "Ketik judul atau kata kunci" in visitor.reads()


def test_telegram_visitor_finds_ketapang_dda_requests_and_downloads(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 4401, "Rudi")
    _start(tg, "BPS Kabupaten Ketapang")
    tg.says("kabupatn ketapng dlm angka 2022")
    results = tg.reads()
    assert 'untuk "kabupatn ketapng dlm angka 2022" di BPS Kabupaten Ketapang' in results
    assert KETAPANG_2022 in tg.buttons()
    tg.taps(KETAPANG_2022)
    detail = tg.reads()
    assert detail.startswith(KETAPANG_2022) and "Tahun: 2022" in detail
    assert "Minta softcopy ke petugas" in tg.buttons()  # no file on hand for this record
    tg.taps("Minta softcopy ke petugas")
    _register(tg, "Rudi Hartono", "rudi.hartono@example.com", "0813 4555 6677")
    made = tg.reads()
    assert "tercatat dengan nomor tiket PS-6106-" in made
    pstbot.wait_delivered("telegram", str(STAFF_CHATS["6106"]))
    staff = telegram_api.texts(STAFF_CHATS["6106"])
    assert len(staff) == 1 and KETAPANG_2022 in staff[0] and "r***@example.com" in staff[0]
    with pstbot.service.db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.kind == "PS")).one()
        assert ticket.number in made and ticket.office_code == "6106"

    sample = _sample(pstbot, "6106")
    tg.taps("Cari publikasi lain")
    tg.says(sample.title.lower())
    tg.taps(sample.title if len(sample.title) <= 60 else sample.title[:59].rstrip() + "…")
    tg.taps("Unduh softcopy")
    tg.reads()
    documents = [c for c in telegram_api.calls("sendDocument") if c.ok]
    assert len(documents) == 1
    upload = documents[0].params["document"]
    assert upload.filename.endswith(".pdf")
    with pstbot.service.db.transaction() as session:
        download = session.scalars(select(Download)).one()
    pages = _assert_stamped(
        upload.content,
        "Rudi Hartono",
        "rudi.hartono@example.com",
        download.download_id,
        "BPS Kabupaten Ketapang",
        "WIB",
    )
    assert pages >= 2


def test_whatsapp_visitor_downloads_through_a_signed_link_that_expires(pstbot, twilio_api):
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6285245678901", SHARED_NUMBER, "Maya")
    _start(wa, "BPS Kabupaten Ketapang")
    sample = _sample(pstbot, "6106")
    wa.says(sample.title.lower().replace("kabupaten", "kab").replace("dalam", "dlm"))
    results = wa.reads()
    assert sample.title in results
    wa.says(wa.options()[next(k for k in wa.options() if k.startswith(sample.title[:40]))])
    wa.taps("Unduh softcopy")
    _register(wa, "Maya Sari", "maya.sari@example.org", None)
    wa.reads()
    media = [m for m in twilio_api.messages(wa.chat_id) if m.get("MediaUrl")]
    assert len(media) == 1
    url = media[0]["MediaUrl"][0]
    assert url.startswith(f"{pstbot.url}/unduh/") and url.endswith(".pdf")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    _assert_stamped(response.content, "Maya Sari", "maya.sari@example.org", "WIB")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25), tick=False):
        assert httpx.get(url).status_code == 410
    forged = url.replace("/unduh/", "/unduh/x")
    assert httpx.get(forged).status_code == 404


def test_printed_copy_reservation_on_a_working_day(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 4402, "Sinta")
    _start(tg, "BPS Kabupaten Ketapang")
    sample = _sample(pstbot, "6106")
    assert sample.printed_copy
    tg.says(sample.title)
    tg.taps(next(label for label in tg.buttons() if label.startswith(sample.title[:40])))
    tg.taps("Baca versi tercetak di PST")
    _register(tg, "Sinta Dewi", "sinta@example.com", "081255501234")
    days = [label for label in tg.buttons() if label != "Menu utama"]
    assert len(days) == 5 and not any(d.startswith(("Sabtu", "Minggu")) for d in days)
    tg.taps(days[0])
    times = list(tg.buttons())
    assert times and all(t.endswith(".00") for t in times) and "15.00" not in times
    tg.taps(times[-1])
    text = tg.reads()
    assert "Reservasi tercatat, nomor tiket PC-6106-" in text
    assert "Fotocopy KTP/KK untuk perpustakaan tercetak" in text  # walk-in requirement
    assert f"pada {days[0]} {times[-1]} WIB" in text
    with pstbot.service.db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.kind == "PC")).one()
    visit = ticket.due_at.replace(tzinfo=dt.UTC).astimezone(pstbot.service.pst.office("6106").tz)
    assert f"{visit:%H.%M}" == times[-1]
    pstbot.wait_delivered("telegram", str(STAFF_CHATS["6106"]))
    assert "Reservasi baca tercetak" in telegram_api.texts(STAFF_CHATS["6106"])[-1]


@pytest.mark.parametrize("query", ["   ", "📚📚", "a"])
def test_too_short_queries_are_asked_again(pstbot, telegram_api, query):
    tg = TelegramVisitor(pstbot, telegram_api, 4403, "Tono")
    _start(tg, "BPS Kota Tarakan")
    tg.says(query)
    assert "Kata kunci terlalu pendek" in tg.reads()


def test_long_and_unmatched_queries_get_a_polite_answer(pstbot, twilio_api):
    wa = WhatsAppVisitor(pstbot, twilio_api, "+6285245678000", "+6285183106571", "Ani")
    wa.says("halo")
    wa.taps("Perpustakaan")
    wa.says("statistik " * 200)  # 2,000 characters
    answer = wa.reads()
    assert "tidak ada publikasi yang cocok" in answer or "Ditemukan" in answer
    wa.says("menu")
    wa.taps("Perpustakaan")
    wa.says("xqzv wplk jjjj")
    text = wa.reads()
    assert "tidak ada publikasi yang cocok" in text
    for option in ("Cari di semua kantor", "Minta softcopy ke petugas", "Konsultasi statistik"):
        assert option in text
    assert all(len(b) <= 1600 for b in twilio_api.bodies(wa.chat_id))


def test_results_are_paged_five_at_a_time_and_can_span_all_offices(pstbot, telegram_api):
    tg = TelegramVisitor(pstbot, telegram_api, 4404, "Yoga")
    _start(tg, "BPS Kabupaten Kendal")
    tg.says("kecamatan dalam angka 2024")
    first = tg.reads()
    assert "Hasil 1–5" in first and "di BPS Kabupaten Kendal" in first
    page1 = [b for b in tg.buttons() if b.startswith("Kecamatan")]
    assert len(page1) == 5
    tg.taps("Lainnya")
    second = tg.reads()
    assert "Hasil 6–10" in second
    page2 = [b for b in tg.buttons() if b.startswith("Kecamatan")]
    assert len(page2) == 5 and not set(page1) & set(page2)
    tg.says("pinrang dalam angka 2020")
    assert "tidak ada publikasi yang cocok" in tg.reads()  # another regency: not in Kendal
    tg.taps("Cari di semua kantor")
    assert "Kabupaten Pinrang Dalam Angka 2020" in tg.reads()
