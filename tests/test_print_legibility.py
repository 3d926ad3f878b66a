"""A real reader (Debian's tesseract OCR) reads the sample registration card off the printed PNG.

The card goes the whole way: PDF -> sandboxed render -> ESC/POS -> virtual printer -> PNG.
The reader sees the paper, not the file: a thermal head burns round dots a little wider than
their 0.125 mm pitch, so neighbours (diagonal ones too) run together into strokes. The PNG's
dots are drawn 4x larger, softened by a Gaussian of 0.375 dot and cut at 150, 160 and 170/255,
round dots of about 1.2 pitch; tesseract is told the result is 812 dpi (203 dpi paper) and a
word counts as read when two of the three read it.
The same reader misses ten words of the card when its small print is drawn by pdfium's
outline fonts at 384 dots (`python -m bench bench_legibility`), and none now (hal/printer/smallprint.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image, ImageFilter

from hal.printer import escpos, raster
from sim.printer.sample import registration_card_pdf
from sim.printer.virtual import VirtualPrinter

# The card's labels and the small-print clause the issue names, word by word.
LABELS = ("GUEST REGISTRATION CARD", "Guest name", "Home address", "Arrival", "Departure", "Room",
          "Guests", "Rate", "Passport / ID no.", "Car registration", "Notes", "Guest signature", "Date")
CLAUSE = "late departures may be charged"
UPSCALE = 4
DOT_SPREAD = 1.5  # px of Gaussian at UPSCALE: 0.375 dot
# Where the softened dot ends (of 255: lighter is paper): three dot sizes, as heads and paper
# vary. tesseract's line and word segmentation flips on a pixel, so a word counts as read when
# two of the three prints read it.
INK_CUTS = (150, 160, 170)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def printed_png(tmp_path, width_dots: int):
    card = raster.rasterize("application/pdf", registration_card_pdf(), width_dots)
    with VirtualPrinter(width_dots, out_dir=tmp_path) as vp:
        printer = escpos.EscPosPrinter(vp.url, baudrate=921600, row_time_ms=0.0)
        assert printer.print_job(printer.encode(card), 1) == 1
        assert vp.wait_receipts(1)
    return vp.receipt_paths[0]


def read_back(png_path, cut: int) -> str:
    """What tesseract reads off the printed dots, each drawn as a round dot cut at ``cut``."""
    with Image.open(png_path) as png:
        dots = png.convert("L")
    big = dots.resize((dots.width * UPSCALE, dots.height * UPSCALE), Image.Resampling.NEAREST)
    big = big.filter(ImageFilter.GaussianBlur(DOT_SPREAD)).point(lambda v: 255 if v > cut else 0)
    big_path = png_path.with_name(f"ocr-{cut}-" + png_path.name)
    big.save(big_path)
    done = subprocess.run(["tesseract", str(big_path), "stdout", "--dpi", str(203 * UPSCALE)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def reads(png_path) -> list[str]:
    return [read_back(png_path, cut) for cut in INK_CUTS]


def read_by_most(texts: list[str]) -> set[str]:
    """The words that most of the readings read."""
    counts: dict[str, int] = {}
    for text in texts:
        for w in set(words(text)):
            counts[w] = counts.get(w, 0) + 1
    return {w for w, n in counts.items() if 2 * n > len(texts)}


@pytest.mark.parametrize("width_dots", [384, 576])
def test_ocr_reads_every_label_and_the_clause_off_the_printed_card(tmp_path, width_dots):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed (apt-get install tesseract-ocr)")
    texts = reads(printed_png(tmp_path, width_dots))
    read = read_by_most(texts)
    wanted = [w for phrase in LABELS + (CLAUSE,) for w in words(phrase)]
    missing = sorted({w for w in wanted if w not in read})
    assert not missing, f"OCR at {width_dots} dots missed {missing}; it read:\n" + "\n---\n".join(texts)
    in_order = [" ".join(words(CLAUSE)) in " ".join(words(text)) for text in texts]
    assert 2 * sum(in_order) > len(texts), "\n---\n".join(texts)


def a4_small_print() -> bytes:
    """An A4 page filled margin to margin with 7 pt text: the largest fine render a normal page needs."""
    from sim.printer.sample import pdf_file
    ops = b"".join(b"BT /F1 7 Tf 40 %d Td (%s) Tj ET\n" % (y, b"late departures may be charged " * 5)
                   for y in range(40, 802, 9))
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
                     b"/Contents 4 0 R >>",
                     b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream",
                     b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])


@pytest.mark.parametrize("width_dots", [384, 576])
def test_a_full_a4_page_renders_finely_within_the_sandbox_memory_bound(width_dots):
    from hal.printer import pdf, sandbox
    img = raster.rasterize("application/pdf", a4_small_print(), width_dots)  # the child runs under RLIMIT_AS
    assert img.width == width_dots
    assert pdf.supersample_factor(img.width, img.height) == pdf.SUPERSAMPLE  # really rendered 4x finer
    assert sandbox.MEMORY_LIMIT == 104 * 1024 * 1024
