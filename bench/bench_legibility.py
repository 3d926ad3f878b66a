"""Small print on paper: how many words of the sample registration card OCR reads back.

Side by side in one run, at 58 mm (384 dots) and 80 mm (576 dots): the card's small print
drawn by pdfium's outline fonts (4x supersampled, box-filtered: hal/printer/pdf.py alone)
and set in the bitmap fonts of hal/printer/smallprint.py. The reader is the one of
tests/test_print_legibility.py (tesseract on a round-dot model of the paper).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.report import table

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    if shutil.which("tesseract") is None:
        print("bench_legibility skipped: tesseract not installed (apt-get install tesseract-ocr)")
        return
    sys.path.insert(0, str(REPO / "tests"))
    import test_print_legibility as card

    from hal.printer import raster, smallprint
    from sim.printer.sample import registration_card_pdf

    data = registration_card_pdf()
    wanted = sorted({w for phrase in card.LABELS + (card.CLAUSE,) for w in card.words(phrase)})
    rows = []
    small_em = smallprint.SMALL_EM
    with tempfile.TemporaryDirectory() as tmp:
        for width in (384, 576):
            for mode, em in (("outline fonts only", 0.0), ("bitmap small print", small_em)):
                smallprint.SMALL_EM = em
                try:
                    t0 = time.perf_counter()
                    img = raster.render_here("application/pdf", data, width, 20, 2000.0)
                    ms = (time.perf_counter() - t0) * 1000
                finally:
                    smallprint.SMALL_EM = small_em
                png = Path(tmp) / f"card-{width}-{em:g}.png"
                img.convert("L").save(png)
                read = card.read_by_most(card.reads(png))
                missed = [w for w in wanted if w not in read]
                rows.append([width, mode, f"{len(wanted) - len(missed)}/{len(wanted)}", ms, " ".join(missed) or "-"])
    table("legibility", ["dots", "small print drawn by", "words read", "render ms", "missed"], rows,
          {"card": "sim/printer/registration-card.pdf (A5; 7 pt clause, 8 pt labels)",
           "reader": "tesseract, 4x dots, Gaussian 0.375 dot, cut 150/160/170 of 255 (round dots ~1.2 pitch); a word is read when 2 of the 3 read it"})


if __name__ == "__main__":
    main()
