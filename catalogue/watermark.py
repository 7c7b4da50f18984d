"""Stamping a publication PDF for one visitor: who downloaded it, from which office, when.

Every page gets, drawn over its content:

* a footer line along the bottom edge as the page is displayed (``/Rotate`` honoured)::

      Diunduh oleh {name} <{email}> dari {office} pada 21-11-2026 14:05 WIB · ID unduhan {id}

  in 7 pt grey on a faint white band, shrunk to fit the page width (and split into two lines,
  after the email, on narrow pages);
* the visitor's name written large and light (grey, 12 % opacity) along the page's diagonal.

Both are real text, so ``pypdf``'s ``extract_text()`` of every page returns the footer.
The stamp is a page drawn with reportlab, built once for each displayed page size of the
document and merged onto every page of that size with pypdf's ``merge_transformed_page``.

Font: Bitstream Vera Sans (``reportlab/fonts/Vera.ttf``, shipped with reportlab), embedded as a
subset. It has Basic Latin, Latin-1 (``é``, ``ñ``, ``ü`` …) and a few more letters (``Č č Ć ć Ď
ď Đ đ Ğ ğ İ ı Ł ł Œ œ Ş ş Š š Ÿ Ž ž``), but not the rest of Latin Extended (``ā``, ``ī``,
``ū``, ``ṣ``, ``ḥ`` of transliterated Arabic names), nor Greek, Cyrillic, Arabic, CJK or emoji.
:func:`printable` turns such a character into its base letter (``Ṣāliḥ`` → ``Salih``) or, when
it has none, into ``?``; it never fails.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import reportlab
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import NameObject
from reportlab.lib.colors import Color
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from office.config import OFFICE_ZONES

FONT = "Vera"
FONT_FILE = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
FOOTER_SIZE = 7.0  # pt, the footer's font size when the line fits
FOOTER_MIN_SIZE = 5.0  # pt; below this the footer is split into two lines
MARGIN = 18.0  # pt, the footer's least distance from the left and right edges
BOTTOM = 8.0  # pt, the footer's (last) baseline above the bottom edge
DIAGONAL_MAX_SIZE = 60.0  # pt, the largest font size of the diagonal name

Size = tuple[float, float]


class WatermarkError(Exception):
    """The source is not a PDF that can be stamped (encrypted, damaged, no pages)."""


@dataclass(frozen=True)
class Stamp:
    """What is printed on each page of one visitor's softcopy.

    ``time`` is an aware datetime in the office's time zone (``ZoneInfo("Asia/Jakarta")``,
    ``"Asia/Makassar"`` or ``"Asia/Jayapura"``, the zones of ``office.config.OFFICE_ZONES``); it is
    printed as ``21-11-2026 14:05 WIB``. Raises ValueError for a naive datetime or another zone.
    """

    name: str
    email: str
    office: str
    time: dt.datetime
    download_id: str

    def __post_init__(self) -> None:
        zone = getattr(self.time.tzinfo, "key", None)
        if zone not in OFFICE_ZONES:
            raise ValueError(
                f"time must be aware, in one of {', '.join(OFFICE_ZONES)}; got {self.time!r}"
            )

    @property
    def time_text(self) -> str:
        """``time`` as ``DD-MM-YYYY HH:MM`` plus WIB, WITA or WIT."""
        return f"{self.time:%d-%m-%Y %H:%M} {OFFICE_ZONES[self.time.tzinfo.key]}"

    @property
    def footer_lines(self) -> tuple[str, str]:
        """The footer in two halves (who; from where, when, which download), not yet folded
        by :func:`printable`; on a wide page they are printed on one line."""
        return (
            f"Diunduh oleh {self.name} <{self.email}>",
            f"dari {self.office} pada {self.time_text} · ID unduhan {self.download_id}",
        )


def stamp(src: Path, dst: Path, stamp: Stamp) -> int:
    """Write ``src`` with ``stamp`` on every page to ``dst``; return the number of pages.

    Pages keep their size, boxes, rotation, links, outline and metadata (the whole document is
    cloned). The stamp is placed in each page's crop box (the visible area; the media box when
    there is none) and upright as the page is displayed.

    Memory: ``src`` is read from the open file, object by object (pypdf reads a path given as
    such wholly into memory, a file object on demand). pypdf's writer must hold the document
    until it writes, so every stream's bytes are held once, still compressed (images are never
    decoded; the writer shares the reader's bytes), plus pypdf's Python objects for the PDF's
    dictionaries (about 12 KB a page) and, briefly, the page being merged with its content
    stream inflated. The stamp itself is built once per distinct page size and shared by all
    pages of that size. Measured with ``bench/watermark.py``: 1.1× the file for a 23.5 MB,
    100-page PDF of images; 11× for a 1.5 MB, 1000-page PDF of text only. ``dst`` is written
    straight to the file, and removed again if writing fails.

    Raises:
        WatermarkError: ``src`` is encrypted (even with an empty user password: lifting the
            publisher's restrictions is not ours to do), damaged beyond what pypdf recovers, has
            no pages, or a page has a ``/Rotate`` that is not a multiple of 90.
        OSError: ``src`` cannot be read or ``dst`` cannot be written.
    """
    with open(src, "rb") as fh:
        try:
            writer = _stamped(PdfReader(fh), stamp)
        except PyPdfError as exc:
            raise WatermarkError(f"{src.name}: not a readable PDF ({exc})") from exc
        except WatermarkError as exc:
            raise WatermarkError(f"{src.name}: {exc}") from exc
        try:
            with open(dst, "wb") as out:
                writer.write(out)
        except BaseException:
            dst.unlink(missing_ok=True)
            raise
    return len(writer.pages)


def printable(text: str) -> str:
    """``text`` with each character the stamp font cannot draw replaced by its base letter
    (``ā`` → ``a``, ``Ṣ`` → ``S``, ``ﬀ`` → ``ff``), combining accents dropped, anything else by
    ``?``. Characters of the font are kept as they are."""
    glyphs = font().face.charToGlyph
    out = []
    for char in unicodedata.normalize("NFC", text):
        if ord(char) in glyphs:
            out.append(char)
        elif not unicodedata.combining(char):
            base = [c for c in unicodedata.normalize("NFKD", char) if ord(c) in glyphs]
            out.append("".join(base) or "?")
    return "".join(out)


def _stamped(reader: PdfReader, stamp: Stamp) -> PdfWriter:
    if reader.is_encrypted:
        raise WatermarkError("the PDF is encrypted; an unencrypted copy is needed")
    writer = PdfWriter(clone_from=reader)
    if not writer.pages:
        raise WatermarkError("the PDF has no pages")
    placements = [_placement(page) for page in writer.pages]
    overlays = _overlays({size for size, _ in placements}, stamp, writer)
    for page, (size, matrix) in zip(writer.pages, placements, strict=True):
        page.merge_transformed_page(overlays[size], matrix)
        page.compress_content_streams()
    return writer


def _placement(page: PageObject) -> tuple[Size, tuple[float, ...]]:
    """The displayed size of ``page`` (points) and the matrix that puts an upright overlay of
    that size onto the page's crop box (PDF 32000-1 §8.3.2.3, ``/Rotate`` is clockwise)."""
    box = page.cropbox
    x0, x1 = sorted((float(box.left), float(box.right)))
    y0, y1 = sorted((float(box.bottom), float(box.top)))
    w, h = x1 - x0, y1 - y0
    rotation = page.rotation % 360
    matrices = {
        0: ((w, h), (1, 0, 0, 1, x0, y0)),
        90: ((h, w), (0, 1, -1, 0, x1, y0)),
        180: ((w, h), (-1, 0, 0, -1, x1, y1)),
        270: ((h, w), (0, -1, 1, 0, x0, y1)),
    }
    if rotation not in matrices:
        raise WatermarkError(f"page {page.page_number + 1} has /Rotate {page.rotation}")
    return matrices[rotation]


def _overlays(sizes: Iterable[Size], stamp: Stamp, writer: PdfWriter) -> dict[Size, PageObject]:
    """One stamp page per size, drawn in one reportlab document so the font is embedded once.

    The pages' resources are cloned into ``writer`` first: merging then finds the same font
    already in a page's resources (pages often share one dictionary) and reuses its name,
    where a resource of another document would be added again under a new name for every page.
    """
    font()
    sizes = sorted(sizes)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)
    for size in sizes:
        canvas.setPageSize(size)
        _draw(canvas, size, stamp)
        canvas.showPage()
    canvas.save()
    pages = PdfReader(buffer).pages
    for page in pages:
        page[NameObject("/Resources")] = page["/Resources"].clone(writer)
    return dict(zip(sizes, pages, strict=True))


def _draw(canvas: Canvas, size: Size, stamp: Stamp) -> None:
    width, height = size
    name = printable(stamp.name)
    canvas.saveState()
    canvas.setFillColor(Color(0.3, 0.3, 0.3, alpha=0.12))
    diagonal_size = _fit(name, math.hypot(width, height) * 0.6, DIAGONAL_MAX_SIZE)
    canvas.setFont(FONT, diagonal_size)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(math.degrees(math.atan2(height, width)))
    canvas.drawCentredString(0, -diagonal_size / 3, name)
    canvas.restoreState()

    halves = [printable(line) for line in stamp.footer_lines]
    lines = [" ".join(halves)]
    font_size = _fit(lines[0], width - 2 * MARGIN, FOOTER_SIZE)
    if font_size < FOOTER_MIN_SIZE:
        lines = halves
        font_size = min(_fit(line, width - 2 * MARGIN, FOOTER_SIZE) for line in halves)
    leading = font_size * 1.25
    band = max(pdfmetrics.stringWidth(line, FONT, font_size) for line in lines) + font_size
    canvas.setFillColor(Color(1, 1, 1, alpha=0.75))
    band_height = leading * (len(lines) - 1) + font_size * 1.3
    canvas.rect((width - band) / 2, BOTTOM - font_size * 0.3, band, band_height, 0, 1)
    canvas.setFillColor(Color(0.25, 0.25, 0.25))
    canvas.setFont(FONT, font_size)
    for above, line in enumerate(lines, start=1 - len(lines)):
        canvas.drawCentredString(width / 2, BOTTOM - leading * above, line)


def _fit(text: str, width: float, largest: float) -> float:
    """The font size (pt, at most ``largest``) at which ``text`` is ``width`` points wide."""
    return min(largest, width / max(pdfmetrics.stringWidth(text, FONT, 1), 1))


@functools.cache
def font() -> TTFont:
    font = TTFont(FONT, os.fspath(FONT_FILE))
    pdfmetrics.registerFont(font)
    return font
