"""Sample PDFs for the demonstration catalogue records, so downloads can be tried end to end.

A sample is a small A4 document made with reportlab: a cover with the publication's title and
the notice ``CONTOH — bukan publikasi resmi BPS; dibuat oleh PST Bot untuk uji coba``, then one
table of invented figures per page. Every page carries the notice in its header, and every
table says *data contoh*, so no page can pass for BPS data. The figures are drawn from a random
generator seeded with the title and page, so a sample's content is the same on every machine.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from catalogue.watermark import FONT, font, printable
from storage.models import Publication

SAMPLES = "samples/"  # local_file prefix of the records that get a generated sample
SAMPLE_PAGES = 7  # a cover and six tables
NOTICE = "CONTOH — bukan publikasi resmi BPS; dibuat oleh PST Bot untuk uji coba"
REGIONS = [f"Wilayah {letter}" for letter in "ABCDEFGHIJ"]
TABLES = (
    ("Luas wilayah dan jumlah desa", ("Luas (km²)", "Desa", "Kelurahan")),
    ("Jumlah penduduk menurut jenis kelamin", ("Laki-laki", "Perempuan", "Jumlah")),
    ("Jumlah sekolah menurut jenjang", ("SD", "SMP", "SMA/SMK")),
    ("Luas panen dan produksi padi", ("Luas panen (ha)", "Produksi (ton)", "Petani")),
    ("Jumlah fasilitas kesehatan", ("Puskesmas", "Posyandu", "Apotek")),
    ("Panjang jalan menurut jenis permukaan", ("Aspal (km)", "Kerikil (km)", "Tanah (km)")),
)


def ensure_sample_files(files_dir: Path, publications: Iterable[Publication]) -> list[Path]:
    """Generate the missing sample PDFs of ``publications`` under ``files_dir``.

    Only publications whose ``local_file`` starts with ``samples/`` get one, at
    ``files_dir / local_file``, of :data:`SAMPLE_PAGES` pages; a file already there is left
    alone, so calling this again creates nothing. Returns the paths created, in order.

    Raises:
        ValueError: a ``local_file`` leads outside ``files_dir / "samples"`` (``..``).
        OSError: the folder cannot be written.
    """
    folder = (files_dir / SAMPLES).resolve()
    created = []
    for publication in publications:
        if not (publication.local_file or "").startswith(SAMPLES):
            continue
        path = files_dir / publication.local_file
        if not path.resolve().is_relative_to(folder):
            raise ValueError(f"sample path {publication.local_file!r} leaves {folder}")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            make_sample_pdf(path, publication.title, SAMPLE_PAGES)
            created.append(path)
    return created


def make_sample_pdf(path: Path, title: str, pages: int = SAMPLE_PAGES) -> None:
    """Write a sample PDF of ``pages`` A4 pages (a cover, then tables) to ``path``.

    The file appears complete or not at all (written beside ``path``, then renamed). Characters
    of ``title`` that the font (Vera) lacks are folded as by
    :func:`catalogue.watermark.printable`. Raises ValueError when ``pages`` < 1, OSError when
    ``path`` cannot be written.
    """
    if pages < 1:
        raise ValueError(f"a sample needs at least one page, not {pages}")
    font()
    title = printable(title)
    story = _cover(title)
    for number in range(1, pages):
        story += [PageBreak(), *_table_page(title, number)]

    def header(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.darkred)
        canvas.drawString(2 * cm, A4[1] - 1.2 * cm, NOTICE)
        canvas.setFillColor(colors.grey)
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"Halaman {doc.page} dari {pages}")
        canvas.restoreState()

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            doc = SimpleDocTemplate(out, pagesize=A4, title=title, author="PST Bot (contoh)")
            doc.build(story, onFirstPage=header, onLaterPages=header)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _cover(title: str) -> list:
    return [
        Spacer(1, 5 * cm),
        Paragraph(escape(title), _style(24, leading=30)),
        Spacer(1, 2 * cm),
        Table(
            [[Paragraph(NOTICE, _style(14, leading=18, color=colors.darkred))]],
            colWidths=[14 * cm],
            style=[("BOX", (0, 0), (-1, -1), 2, colors.darkred), ("PADDING", (0, 0), (-1, -1), 12)],
        ),
        Spacer(1, 1 * cm),
        Paragraph(
            "Berkas ini hanya untuk menguji layanan unduhan softcopy bertanda air. Semua angka "
            "di dalamnya dibuat secara acak dan tidak menggambarkan keadaan wilayah mana pun.",
            _style(11, leading=15),
        ),
    ]


def _table_page(title: str, number: int) -> list:
    caption, columns = TABLES[(number - 1) % len(TABLES)]
    rng = random.Random(f"{title}/{number}")
    rows = [
        [region, *(f"{rng.randint(10, 9_999):,}".replace(",", ".") for _ in columns)]
        for region in REGIONS
    ]
    table = Table(
        [["Wilayah", *columns], *rows],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        ),
    )
    return [
        Paragraph(f"Tabel {number}. {caption} (data contoh)", _style(13, leading=17)),
        Spacer(1, 0.5 * cm),
        table,
        Spacer(1, 0.5 * cm),
        Paragraph(
            f"Sumber: angka acak buatan PST Bot, bukan data BPS. {escape(title)}.", _style(8)
        ),
    ]


def _style(size: float, leading: float | None = None, color: colors.Color = colors.black):
    return ParagraphStyle(
        "sample", fontName=FONT, fontSize=size, leading=leading or size * 1.25, textColor=color
    )
