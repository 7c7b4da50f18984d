"""Watermarked softcopies: the stamp on every page, sample PDFs, and the remote-PDF cache.

Stamps are checked by extracting the text of every page with pypdf, and the footer's place by
where pypdf's text visitor finds it. The cache is exercised against a real HTTP server on
127.0.0.1 that counts the requests it gets.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject
from reportlab.lib.pagesizes import A4, A5, LETTER, landscape
from reportlab.pdfgen.canvas import Canvas
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from catalogue.filecache import FetchError, FileCache
from catalogue.samples import NOTICE, ensure_sample_files, make_sample_pdf
from catalogue.watermark import BOTTOM, Stamp, WatermarkError, printable, stamp
from core.downloads import Downloads, NotReady
from storage.models import Download, Publication, Visitor

JAKARTA = ZoneInfo("Asia/Jakarta")
STAMP = Stamp(
    name="Dewi Anggraini",
    email="dewi.anggraini@example.com",
    office="BPS Kabupaten Ketapang",
    time=dt.datetime(2026, 11, 21, 14, 5, tzinfo=JAKARTA),
    download_id="7f3a9c2e1b4d",
)


def texts(path: Path) -> list[str]:
    """The extracted text of each page of the PDF at ``path``."""
    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.pdf"
    make_sample_pdf(path, "Kabupaten Ketapang Dalam Angka 2024", 7)
    return path


# --- the stamp -------------------------------------------------------------------------------


def test_every_page_carries_who_where_when_and_which_download(sample: Path, tmp_path: Path):
    dst = tmp_path / "out.pdf"

    assert stamp(sample, dst, STAMP) == 7

    pages = texts(dst)
    assert len(pages) == 7
    for text in pages:
        assert (
            "Diunduh oleh Dewi Anggraini <dewi.anggraini@example.com> dari BPS Kabupaten "
            "Ketapang pada 21-11-2026 14:05 WIB · ID unduhan 7f3a9c2e1b4d"
        ) in text
    assert "Kabupaten Ketapang Dalam Angka 2024" in " ".join(pages[0].split())  # content kept
    assert "Tabel 1." in pages[1]


@pytest.mark.parametrize(
    ("zone", "printed"),
    [
        ("Asia/Jakarta", "21-11-2026 14:05 WIB"),
        ("Asia/Makassar", "21-11-2026 15:05 WITA"),
        ("Asia/Jayapura", "21-11-2026 16:05 WIT"),
    ],
)
def test_the_time_is_printed_in_the_office_zone(zone: str, printed: str, sample, tmp_path):
    at = STAMP.time.astimezone(ZoneInfo(zone))
    dst = tmp_path / "out.pdf"

    stamp(sample, dst, Stamp("Dewi", "d@example.com", "BPS X", at, "id1"))

    assert all(f"pada {printed} · ID unduhan id1" in text for text in texts(dst))


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(2026, 11, 21, 14, 5),
        dt.datetime(2026, 11, 21, 14, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 21, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        dt.datetime(2026, 11, 21, 14, 5, tzinfo=ZoneInfo("Asia/Singapore")),
    ],
)
def test_a_time_outside_the_office_zones_is_refused(at: dt.datetime):
    with pytest.raises(ValueError, match="Asia/Jakarta, Asia/Makassar, Asia/Jayapura"):
        Stamp("Dewi", "d@example.com", "BPS X", at, "id1")


def footer_place(page: PageObject) -> tuple[float, float]:
    """Where the footer starts, in points from the displayed page's left and bottom edges.

    The inverse of PDF 32000-1 §8.3.2.3 / §7.7.3.3: ``/Rotate`` turns the page clockwise."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.startswith("Diunduh oleh"):
            x, y = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((x, y))

    page.extract_text(visitor_text=visit)
    assert len(found) == 1
    (x, y), box = found[0], page.cropbox
    x0, y0, x1, y1 = float(box.left), float(box.bottom), float(box.right), float(box.top)
    return {
        0: (x - x0, y - y0),
        90: (y - y0, x1 - x),
        180: (x1 - x, y1 - y),
        270: (y1 - y, x - x0),
    }[page.rotation % 360]


def test_pages_of_any_size_and_rotation_get_the_footer_along_their_displayed_bottom(tmp_path):
    plain = tmp_path / "plain.pdf"
    canvas = Canvas(str(plain))
    sizes = [A4, landscape(A5), A4, LETTER, A4, (612, 792)]
    for number, size in enumerate(sizes, start=1):
        canvas.setPageSize(size)
        canvas.drawString(40, size[1] - 60, f"Halaman asli {number}")
        canvas.showPage()
    canvas.save()
    writer = PdfWriter(clone_from=plain)
    writer.pages[1].rotate(180)
    writer.pages[2].rotate(90)
    writer.pages[3].rotate(270)
    writer.pages[4].rotate(360)
    writer.pages[5].cropbox = RectangleObject((100, 150, 500, 700))  # away from the origin
    writer.pages[5].rotate(-90)
    src, dst = tmp_path / "mixed.pdf", tmp_path / "out.pdf"
    writer.write(src)

    assert stamp(src, dst, STAMP) == 6

    before, after = PdfReader(src).pages, PdfReader(dst).pages
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        assert new.rotation == old.rotation and new.cropbox == old.cropbox
        text = new.extract_text()
        assert f"Halaman asli {number}" in text
        assert "Dewi Anggraini <dewi.anggraini@example.com>" in text
        assert "ID unduhan 7f3a9c2e1b4d" in text
        across, up = footer_place(new)
        width = new.cropbox.height if new.rotation % 180 else new.cropbox.width
        assert 0 < across < float(width) / 2, (number, across)
        assert up == pytest.approx(BOTTOM), (number, up)


def test_a_narrow_page_gets_the_footer_on_two_lines(tmp_path):
    src, dst = tmp_path / "narrow.pdf", tmp_path / "out.pdf"
    canvas = Canvas(str(src), pagesize=(200, 300))
    canvas.drawString(20, 250, "kecil")
    canvas.save()

    stamp(src, dst, STAMP)

    lines = texts(dst)[0].splitlines()
    assert "Diunduh oleh Dewi Anggraini <dewi.anggraini@example.com>" in lines
    assert (
        "dari BPS Kabupaten Ketapang pada 21-11-2026 14:05 WIB · ID unduhan 7f3a9c2e1b4d" in lines
    )


def font_files(path: Path) -> set[int]:
    """Object numbers of the embedded TrueType font files used by the pages of ``path``."""
    found = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            if "/FontDescriptor" in font.get_object():  # not the unembedded Helvetica
                found.add(font["/FontDescriptor"]["/FontFile2"].indirect_reference.idnum)
    return found


def test_a_long_document_is_stamped_on_every_page_with_one_shared_stamp(tmp_path):
    src, dst = tmp_path / "long.pdf", tmp_path / "out.pdf"
    make_sample_pdf(src, "Statistik Daerah Kabupaten Kendal 2025", 60)

    assert stamp(src, dst, STAMP) == 60

    pages = texts(dst)
    assert len(pages) == 60
    assert all("ID unduhan 7f3a9c2e1b4d" in text for text in pages)
    assert [f"Halaman {n} dari 60" in text for n, text in enumerate(pages, 1)] == [True] * 60
    assert len(font_files(src)) == 1
    assert len(font_files(dst)) == 2  # the sample's font and the stamp's, not one per page
    # the sample's pages share one resource dictionary: the stamp's two fonts join it once
    fonts = [len(page["/Resources"]["/Font"]) for page in PdfReader(dst).pages]
    assert fonts == [len(PdfReader(src).pages[0]["/Resources"]["/Font"]) + 2] * 60


@pytest.mark.parametrize("user_password", ["rahasia", ""])
def test_an_encrypted_pdf_is_refused(user_password: str, sample: Path, tmp_path: Path):
    src, dst = tmp_path / "locked.pdf", tmp_path / "out.pdf"
    writer = PdfWriter(clone_from=sample)
    writer.encrypt(user_password, owner_password="pemilik", algorithm="RC4-128")
    writer.write(src)

    with pytest.raises(WatermarkError, match=r"locked\.pdf: the PDF is encrypted"):
        stamp(src, dst, STAMP)
    assert not dst.exists()


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>Halaman tidak ditemukan</body></html>", "first half of a PDF"],
)
def test_a_broken_pdf_is_refused(body, sample: Path, tmp_path: Path):
    src, dst = tmp_path / "broken.pdf", tmp_path / "out.pdf"
    data = sample.read_bytes()
    src.write_bytes(data[: len(data) // 2] if isinstance(body, str) else body)

    with pytest.raises(WatermarkError, match=r"broken\.pdf: not a readable PDF"):
        stamp(src, dst, STAMP)
    assert not dst.exists()


def test_a_pdf_without_pages_is_refused(tmp_path: Path):
    src, dst = tmp_path / "empty.pdf", tmp_path / "out.pdf"
    PdfWriter().write(src)

    with pytest.raises(WatermarkError, match="no pages"):
        stamp(src, dst, STAMP)


def test_a_rotation_off_the_quarter_turns_is_refused(sample: Path, tmp_path: Path):
    src, dst = tmp_path / "tilted.pdf", tmp_path / "out.pdf"
    writer = PdfWriter(clone_from=sample)
    writer.pages[2][NameObject("/Rotate")] = NumberObject(45)
    writer.write(src)

    with pytest.raises(WatermarkError, match=r"tilted\.pdf: page 3 has /Rotate 45"):
        stamp(src, dst, STAMP)


def test_a_failed_write_leaves_no_partial_file(sample, tmp_path, monkeypatch):
    dst = tmp_path / "out.pdf"

    def write_half(writer: PdfWriter, stream) -> None:
        stream.write(b"%PDF-1.4 half a document")
        raise OSError("No space left on device")

    monkeypatch.setattr(PdfWriter, "write", write_half)

    with pytest.raises(OSError, match="No space left"):
        stamp(sample, dst, STAMP)
    assert not dst.exists()


def test_unicode_names_are_folded_to_letters_the_font_has(sample: Path, tmp_path: Path):
    dst = tmp_path / "out.pdf"
    visitor = Stamp("Nur Hikmah Ṣāliḥ", "nur@example.com", "BPS Kota Tarakan", STAMP.time, "u1")

    stamp(sample, dst, visitor)

    assert all("Diunduh oleh Nur Hikmah Salih <nur@example.com>" in t for t in texts(dst))


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        ("Dewi Anggraini", "Dewi Anggraini"),
        ("José Müller Øberg", "José Müller Øberg"),  # Latin-1: the font has these
        ("Łukasz Šimić", "Łukasz Šimić"),  # some Latin Extended-A too
        ("Nur Hikmah Ṣāliḥ", "Nur Hikmah Salih"),
        ("S\u0323a\u0304lih", "Salih"),  # decomposed marks
        ("Jeﬀry", "Jeffry"),  # a compatibility ligature the font lacks (it has ﬁ)
        ("王小明 Wang", "??? Wang"),
        ("Ayu 🌺", "Ayu ?"),
    ],
)
def test_printable(name: str, printed: str):
    assert printable(name) == printed


def test_a_name_the_font_cannot_write_at_all_still_stamps(sample: Path, tmp_path: Path):
    dst = tmp_path / "out.pdf"

    stamp(sample, dst, Stamp("王小明", "wang@example.com", "BPS X", STAMP.time, "cjk1"))

    assert all("Diunduh oleh ??? <wang@example.com>" in text for text in texts(dst))


# --- sample PDFs -----------------------------------------------------------------------------


def publication(title: str, local_file: str | None) -> Publication:
    return Publication(
        domain="6106", pub_id=title, title=title, local_file=local_file, verified=False
    )


def test_samples_are_made_once_and_say_they_are_samples(tmp_path: Path):
    records = [
        publication(
            "Kabupaten Ketapang Dalam Angka 2024",
            "samples/6106-kabupaten-ketapang-dalam-angka-2024.pdf",
        ),
        publication(
            "Statistik Daerah Kabupaten Majene 2024",
            "samples/7601-statistik-daerah-kabupaten-majene-2024.pdf",
        ),
        publication("Publikasi berkas sendiri", "6106/asli.pdf"),
        publication("Publikasi daring", None),
    ]

    created = ensure_sample_files(tmp_path, records)

    assert created == [tmp_path / records[0].local_file, tmp_path / records[1].local_file]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in created
    )
    for path, record in zip(created, records, strict=False):
        pages = texts(path)
        assert len(pages) == 7
        assert all("CONTOH — bukan publikasi resmi BPS" in text for text in pages)
        cover = " ".join(pages[0].split())
        assert record.title in cover
        assert NOTICE in cover
        assert all("(data contoh)" in text for text in pages[1:])
    made_at = [p.stat().st_mtime_ns for p in created]

    assert ensure_sample_files(tmp_path, records) == []
    assert [p.stat().st_mtime_ns for p in created] == made_at


def test_a_sample_path_may_not_leave_the_samples_folder(tmp_path: Path):
    files = tmp_path / "files"
    with pytest.raises(ValueError, match="leaves"):
        ensure_sample_files(files, [publication("x", "samples/../../escape.pdf")])
    assert not (tmp_path / "escape.pdf").exists()


def test_a_sample_needs_a_page(tmp_path: Path):
    with pytest.raises(ValueError, match="at least one page"):
        make_sample_pdf(tmp_path / "x.pdf", "x", 0)
    assert list(tmp_path.iterdir()) == []


# --- the remote-PDF cache --------------------------------------------------------------------


class PdfServer:
    """A WSGI app serving the routes below and counting requests per path."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.requests: collections.Counter[str] = collections.Counter()
        self._count = threading.Lock()
        self.base_url = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._count:
            self.requests[request.path] += 1
            seen = self.requests[request.path]
        return self.respond(request.path, seen)(environ, start_response)

    def respond(self, path: str, seen: int) -> Response:
        pdf = Response(self.pdf, mimetype="application/pdf")
        match path:
            case "/pub.pdf":
                return pdf
            case "/octet.pdf":
                return Response(self.pdf, mimetype="application/octet-stream")
            case "/slow.pdf":
                time.sleep(0.5)
                return pdf
            case "/flaky.pdf":
                return pdf if seen > 1 else Response("sibuk", status=503)
            case "/html.pdf":
                return Response("<html><body>Silakan login</body></html>", mimetype="text/html")
            case "/hang.pdf":
                time.sleep(1.0)
                return pdf
            case "/cut.pdf":
                response = Response(self.pdf[:1000], mimetype="application/pdf")
                response.headers["Content-Length"] = str(len(self.pdf))
                response.automatically_set_content_length = False
                return response
            case "/moved":
                return Response(status=302, headers={"Location": "/pub.pdf"})
            case _:
                return Response("tidak ada", status=404)


@pytest.fixture
def server(sample: Path) -> Iterator[PdfServer]:
    app = PdfServer(sample.read_bytes())
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    app.base_url = f"http://127.0.0.1:{http.server_port}"
    yield app
    http.shutdown()
    http.server_close()
    thread.join(timeout=5)


def cache_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_pdf_is_downloaded_once_and_served_from_the_cache_after(server, sample, tmp_path):
    cache = FileCache(tmp_path / "cache")
    url = f"{server.base_url}/pub.pdf"

    first = cache.fetch(url)
    again = cache.fetch(url)
    other_instance = FileCache(tmp_path / "cache").fetch(url)

    assert first == again == other_instance == cache.path(url)
    assert first.read_bytes() == sample.read_bytes()
    assert server.requests["/pub.pdf"] == 1
    assert cache_files(tmp_path / "cache") == [first.name]


def test_the_body_decides_what_is_a_pdf_and_redirects_are_followed(server, sample, tmp_path):
    cache = FileCache(tmp_path)

    assert cache.fetch(f"{server.base_url}/octet.pdf").read_bytes() == sample.read_bytes()
    assert cache.fetch(f"{server.base_url}/moved").read_bytes() == sample.read_bytes()
    assert server.requests["/pub.pdf"] == 1


def test_an_http_error_is_a_fetch_error_and_not_retried(server, tmp_path):
    cache = FileCache(tmp_path / "cache", retry_wait=0.01)

    with pytest.raises(FetchError, match=r"/missing\.pdf: HTTP 404 NOT FOUND"):
        cache.fetch(f"{server.base_url}/missing.pdf")
    assert server.requests["/missing.pdf"] == 1
    assert cache_files(tmp_path / "cache") == []


def test_an_html_page_is_not_cached_as_a_pdf(server, tmp_path):
    cache = FileCache(tmp_path / "cache")

    with pytest.raises(
        FetchError, match=r"not a PDF \(text/html; charset=utf-8, starts with b'<ht"
    ):
        cache.fetch(f"{server.base_url}/html.pdf")
    assert cache_files(tmp_path / "cache") == []


def test_a_body_over_the_limit_is_refused_and_leaves_nothing(server, tmp_path):
    cache = FileCache(tmp_path / "cache", max_bytes=1000)

    with pytest.raises(FetchError, match="over the 1000 byte limit"):
        cache.fetch(f"{server.base_url}/pub.pdf")
    assert cache_files(tmp_path / "cache") == []


def test_a_transient_error_is_retried(server, sample, tmp_path):
    cache = FileCache(tmp_path / "cache", retry_wait=0.01)

    path = cache.fetch(f"{server.base_url}/flaky.pdf")

    assert path.read_bytes() == sample.read_bytes()
    assert server.requests["/flaky.pdf"] == 2


def test_a_body_cut_short_is_retried_then_refused_and_leaves_nothing(server, tmp_path):
    cache = FileCache(tmp_path / "cache", attempts=3, retry_wait=0.01)

    with pytest.raises(FetchError, match=r"/cut\.pdf: connection failed"):
        cache.fetch(f"{server.base_url}/cut.pdf")
    assert server.requests["/cut.pdf"] == 3
    assert cache_files(tmp_path / "cache") == []


def test_a_server_that_does_not_answer_times_out(server, tmp_path):
    cache = FileCache(tmp_path / "cache", timeout=0.2, attempts=2, retry_wait=0.01)

    with pytest.raises(FetchError, match=r"/hang\.pdf: timed out after 0\.2 s"):
        cache.fetch(f"{server.base_url}/hang.pdf")
    assert server.requests["/hang.pdf"] == 2
    assert cache_files(tmp_path / "cache") == []


def test_two_threads_fetching_one_url_make_one_request(server, sample, tmp_path):
    url = f"{server.base_url}/slow.pdf"
    start = threading.Barrier(2)

    def fetch(cache: FileCache) -> Path:
        start.wait()
        return cache.fetch(url)

    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(fetch, [FileCache(tmp_path), FileCache(tmp_path)]))

    assert paths[0] == paths[1]
    assert paths[0].read_bytes() == sample.read_bytes()
    assert server.requests["/slow.pdf"] == 1
    assert cache_files(tmp_path) == [paths[0].name]


def _remote_download(db, url: str, download_id: str) -> str:
    """A visitor's download of a publication whose PDF is only at ``url``; its attachment key."""
    with db.transaction() as session:
        visitor = Visitor(channel="telegram", user_id=download_id, chat_id="1", nama="Rina")
        pub = Publication(
            domain="6106", pub_id=download_id, title="Ketapang Dalam Angka", pdf_url=url
        )
        session.add_all([visitor, pub])
        session.flush()
        session.add(
            Download(
                download_id=download_id,
                visitor_id=visitor.id,
                publication_id=pub.id,
                office_code="6106",
            )
        )
    return f"unduh/{download_id}"


def test_the_send_path_never_waits_for_a_remote_pdf(db, pst, server, tmp_path):
    downloads = Downloads(db, pst, tmp_path, "secret-key-0123456789", "https://pst.example")
    try:
        ready = _remote_download(db, f"{server.base_url}/hang.pdf", "lambat01")
        missing = _remote_download(db, f"{server.base_url}/tidak-ada.pdf", "hilang01")
        for key, path in ((ready, "/hang.pdf"), (missing, "/tidak-ada.pdf")):
            with pytest.raises(NotReady):
                downloads.path(key, fetch=False)
            # answered before the server (1 s for /hang.pdf) was: nothing cached yet
            assert not downloads.cache.path(f"{server.base_url}{path}").exists()
        deadline = time.monotonic() + 10
        while True:
            try:
                path = downloads.path(ready, fetch=False)
                break
            except NotReady:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert "lambat01" in "".join(p.extract_text() for p in PdfReader(path).pages)
        while True:  # a PDF the server does not have fails for good, not "being prepared"
            try:
                downloads.path(missing, fetch=False)
            except NotReady:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            except LookupError:
                break
    finally:
        downloads.close()
