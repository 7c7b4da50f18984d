"""Benchmark of ``catalogue.watermark.stamp``: time per document and peak memory.

    python bench/watermark.py [--runs 7] [--keep DIR]

Two documents are generated: the 100-page sample of ``catalogue.samples`` (text and tables),
and a ~20 MB one of 100 pages that each carry a different 256×256 image of random pixels (which
no filter compresses). Each is stamped ``--runs`` times (at least 7); the median and 95th
percentile of the wall-clock seconds are printed. Memory is measured in a fresh child process
per document, stamping once: the growth of the peak resident set size (``VmHWM``) over the
process after its imports, and the peak of Python allocations (``tracemalloc``) in a second
stamping, both also as a multiple of the document's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from catalogue.samples import make_sample_pdf
from catalogue.watermark import Stamp, stamp

STAMP = Stamp(
    name="Nur Hikmah Ṣāliḥ",
    email="nur.hikmah@example.com",
    office="BPS Kabupaten Ketapang",
    time=dt.datetime(2026, 11, 21, 14, 5, tzinfo=ZoneInfo("Asia/Jakarta")),
    download_id="bench0000001",
)
MB = 2**20


def make_image_pdf(path: Path, pages: int, side: int = 256) -> None:
    """A PDF of ``pages`` A4 pages, each with its own ``side``² image of random RGB pixels."""
    rng = random.Random(20261121)
    canvas = Canvas(str(path), pagesize=A4)
    for number in range(1, pages + 1):
        noise = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        canvas.drawImage(ImageReader(noise), 60, 200, width=470, height=470)
        canvas.drawString(60, 700, f"Halaman {number}: gambar acak (contoh)")
        canvas.showPage()
    canvas.save()


def timings(src: Path, out: Path, runs: int) -> list[float]:
    """Seconds taken by each of ``runs`` stampings of ``src``."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        stamp(src, out, STAMP)
        seconds.append(time.perf_counter() - start)
    return seconds


def peak_rss() -> float:
    """This process's peak resident set size in MB: ``VmHWM`` of ``/proc/self/status`` (Linux).
    Not ``ru_maxrss``, which a child inherits from the parent that forked it."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024  # kB


def memory(src: Path, out: Path) -> dict[str, float]:
    """Run in a child process: peak RSS growth and tracemalloc peak of stamping ``src``, MB."""
    before = peak_rss()
    stamp(src, out, STAMP)
    after = peak_rss()
    tracemalloc.start()
    stamp(src, out, STAMP)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rss_growth": after - before, "traced_peak": peak / MB}


def report(name: str, src: Path, out: Path, runs: int) -> None:
    pages = stamp(src, out, STAMP)  # warm-up: font registration, imports
    seconds = timings(src, out, runs)
    child = subprocess.run(
        [sys.executable, __file__, "--memory", str(src), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    mem = json.loads(child.stdout)
    size = src.stat().st_size / MB
    p95 = statistics.quantiles(seconds, n=20, method="inclusive")[18]
    print(
        f"{name}: {pages} pages, {size:.1f} MB in, {out.stat().st_size / MB:.1f} MB out; "
        f"{runs} runs: median {statistics.median(seconds):.3f} s, p95 {p95:.3f} s "
        f"({statistics.median(seconds) / pages * 1000:.1f} ms/page); "
        f"peak RSS growth {mem['rss_growth']:.1f} MB ({mem['rss_growth'] / size:.2f}× the file), "
        f"tracemalloc peak {mem['traced_peak']:.1f} MB ({mem['traced_peak'] / size:.2f}× the file)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the documents here and keep them")
    parser.add_argument("--memory", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        print(json.dumps(memory(*args.memory)))
        return
    if args.runs < 7:
        parser.error("--runs must be at least 7")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        text_pdf, image_pdf = folder / "sample-100.pdf", folder / "images-100.pdf"
        make_sample_pdf(text_pdf, "Kabupaten Ketapang Dalam Angka 2024 (bench)", 100)
        make_image_pdf(image_pdf, 100)
        report("text and tables", text_pdf, folder / "sample-100-stamped.pdf", args.runs)
        report("random images", image_pdf, folder / "images-100-stamped.pdf", args.runs)


if __name__ == "__main__":
    main()
