"""A real reader (Debian's tesseract OCR) reads the sample registration card off the printed PNG.

The card goes the whole way: PDF -> sandboxed render -> ESC/POS -> virtual printer -> PNG.
The PNG is read as printed (each dot shown as a 2x2 block, tesseract told it is 406 dpi,
i.e. 203 dpi paper): no smoothing, so what reads is what the printer's dots say.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image

from hal.printer import escpos, raster
from sim.printer.sample import registration_card_pdf
from sim.printer.virtual import VirtualPrinter

# The card's labels and the small-print clause the issue names, word by word.
LABELS = ("GUEST REGISTRATION CARD", "Guest name", "Home address", "Arrival", "Departure", "Room",
          "Guests", "Rate", "Passport / ID no.", "Car registration", "Notes", "Guest signature", "Date")
CLAUSE = "late departures may be charged"
UPSCALE = 2


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def printed_png(tmp_path, width_dots: int):
    card = raster.rasterize("application/pdf", registration_card_pdf(), width_dots)
    with VirtualPrinter(width_dots, out_dir=tmp_path) as vp:
        printer = escpos.EscPosPrinter(vp.url, baudrate=921600, row_time_ms=0.0)
        assert printer.print_job(printer.encode(card), 1) == 1
        assert vp.wait_receipts(1)
    return vp.receipt_paths[0]


def read_back(png_path) -> str:
    with Image.open(png_path) as png:
        dots = png.convert("L")
    big = dots.resize((dots.width * UPSCALE, dots.height * UPSCALE), Image.Resampling.NEAREST)
    big_path = png_path.with_name("ocr-" + png_path.name)
    big.save(big_path)
    done = subprocess.run(["tesseract", str(big_path), "stdout", "--dpi", str(203 * UPSCALE)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


# At 384 dots the A5 card shrinks to 48 mm: its 7 pt clause is 1 mm a line, 4 dots of x-height.
# The fine render halves what OCR misses there (9 words -> 5) but does not reach every word.
TOO_SMALL_AT_384 = pytest.mark.xfail(reason="7 pt text at 384 dots is ~4 dots of x-height: tesseract still "
                                            "misses a few words (issue 13 item 15, open)", strict=False)


@pytest.mark.parametrize("width_dots", [pytest.param(384, marks=TOO_SMALL_AT_384), 576])
def test_ocr_reads_every_label_and_the_clause_off_the_printed_card(tmp_path, width_dots):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed (apt-get install tesseract-ocr)")
    text = read_back(printed_png(tmp_path, width_dots))
    read = set(words(text))
    wanted = [w for phrase in LABELS + (CLAUSE,) for w in words(phrase)]
    missing = sorted({w for w in wanted if w not in read})
    assert not missing, f"OCR at {width_dots} dots missed {missing}; it read:\n{text}"
    assert " ".join(words(CLAUSE)) in " ".join(words(text)), text


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
