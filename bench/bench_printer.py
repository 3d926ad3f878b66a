"""Thermal printing side by side: our rasterizer + ESC/POS encoder vs python-escpos `Dummy().image()`.

Same three documents, generated deterministically: a one-page PDF
registration card, a long text receipt, a photo (JPEG). python-escpos gets each
document as a greyscale image at the paper width (PDF rendered to fit the
width, the text rendered with our font, the photo resized), then its default
`image()` (GS v 0 in 960-row fragments) and a partial cut. Ours goes from the
document's bytes to the bytes on the wire (`ESC @`, bands, feeds, cut).

Bytes on the wire, CPU time to produce them (best of several runs), and time
on the wire at 19200 and 115200 baud (bytes x 10 / baud, 8N1, same model for
both; paper feed and print time are extra for both).
"""

from __future__ import annotations

import contextlib
import io
import time

from bench.report import table

RUNS = 5
WIDTHS = (384, 576)
BAUDS = (19200, 115200)
GOAL_BYTES_WHITESPACE = 0.60
GOAL_BYTES_ANY = 1.01
GOAL_CPU_SHARE = 0.10


def _receipt_text() -> str:
    """A long, realistic till receipt (prices right-aligned in 32 columns)."""
    items = ["Espresso", "Cappuccino", "Croissant", "Club sandwich", "Mineral water 0.5 l",
             "Crème brûlée", "Room service fee", "Minibar: chocolate", "Laundry: shirt", "Parking (day)"]
    lines = ["HOTEL BEAU SÉJOUR", "12 Quai des Fleurs, 75004 Paris", "VAT FR 12 345 678 901", "",
             "Room 204 - Zoë Müller-Øberg", "Folio R-10452   10/05/2024 15:02", "-" * 32]
    total = 0
    for i in range(60):
        name = items[i % len(items)]
        qty = 1 + i % 3
        cents = (350 + 137 * i) % 2400 + 150
        total += qty * cents
        price = f"{qty * cents / 100:.2f}"
        left = f"{qty} x {name}"
        lines.append(left[:32 - len(price) - 1].ljust(32 - len(price)) + price)
        if i % 10 == 9:
            lines.append("")
    lines += ["-" * 32, f"{'TOTAL EUR':<20}{total / 100:>12.2f}", f"{'of which VAT 10%':<20}{total / 1100:>12.2f}",
              "", "Paid by card  **** **** **** 4242", "", "Thank you for your stay!", "Merci et à bientôt."]
    return "\n".join(lines) + "\n"


def _photo_jpeg() -> bytes:
    from PIL import Image

    size = (1200, 900)
    gradient = Image.linear_gradient("L").rotate(30, expand=False).resize(size)
    fractal = Image.effect_mandelbrot(size, (-2.1, -1.2, 0.9, 1.2), 80)
    img = Image.merge("RGB", (Image.blend(gradient, fractal, 0.45), fractal, gradient))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def documents() -> list[tuple[str, str, bytes, bool]]:
    """(name, MIME type, bytes, has white space)."""
    from sim.printer.sample import registration_card_pdf

    return [("registration card (PDF)", "application/pdf", registration_card_pdf(), True),
            ("long text receipt", "text/plain", _receipt_text().encode(), True),
            ("photo (JPEG)", "image/jpeg", _photo_jpeg(), False)]


def ours(mime: str, data: bytes, width: int) -> bytes:
    from hal.printer.escpos import CUTS, INIT, encode_raster
    from hal.printer.raster import rasterize

    job = encode_raster(rasterize(mime, data, width))
    return INIT + job.to_bytes() + CUTS["partial"]


def _as_image(mime: str, data: bytes, width: int):
    """The document as a greyscale image at the paper width, as a python-escpos user would prepare it."""
    from PIL import Image

    if mime == "application/pdf":
        import pypdfium2 as pdfium
        doc = pdfium.PdfDocument(data)
        page = doc[0]
        img = page.render(scale=width / page.get_width(), grayscale=True).to_pil().convert("L")
        page.close()
        doc.close()
        return img
    if mime == "text/plain":
        from hal.printer.text import render_text
        return render_text(data.decode(), width, 10**6).convert("L")
    img = Image.open(io.BytesIO(data)).convert("L")
    return img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)


def theirs(mime: str, data: bytes, width: int) -> bytes:
    from escpos.printer import Dummy

    p = Dummy()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a profile warning on every image()
        p.image(_as_image(mime, data, width))
    p.cut(mode="PART", feed=False)
    return p.output


def _best_cpu(fn, *args) -> tuple[float, bytes]:
    best, out = float("inf"), b""
    for _ in range(RUNS):
        start = time.process_time()
        out = fn(*args)
        best = min(best, time.process_time() - start)
    return best, out


def main() -> None:
    try:
        import escpos.printer  # noqa: F401
    except ImportError:
        print("bench_printer: python-escpos is not installed (pip install 'kiosk-agent[bench]')")
        return
    docs = documents()
    ours(docs[0][1], docs[0][2], 384)  # warm up pdfium and the font
    theirs(docs[0][1], docs[0][2], 384)
    rows, ok_bytes, ok_cpu = [], True, True
    worst_cpu_share = 0.0
    for width in WIDTHS:
        for name, mime, data, whitespace in docs:
            cpu_ours, wire_ours = _best_cpu(ours, mime, data, width)
            cpu_theirs, wire_theirs = _best_cpu(theirs, mime, data, width)
            ratio = len(wire_ours) / len(wire_theirs)
            ok_bytes &= ratio <= (GOAL_BYTES_WHITESPACE if whitespace else GOAL_BYTES_ANY)
            wire = {b: len(wire_ours) * 10 / b for b in BAUDS}
            share = cpu_ours / wire[115200]
            worst_cpu_share = max(worst_cpu_share, share)
            ok_cpu &= share < GOAL_CPU_SHARE
            rows.append([name, width, len(wire_ours), len(wire_theirs), f"{100 * ratio:.1f}%",
                         round(cpu_ours * 1000, 1), round(cpu_theirs * 1000, 1),
                         round(wire[19200], 2), round(len(wire_theirs) * 10 / 19200, 2),
                         round(wire[115200], 3), round(len(wire_theirs) * 10 / 115200, 3),
                         f"{100 * share:.1f}%"])
    table("printer",
          ["document", "dots", "bytes ours", "bytes escpos", "ours/escpos", "cpu ms ours", "cpu ms escpos",
           "wire s 19200 ours", "escpos", "wire s 115200 ours", "escpos", "cpu/wire@115200"],
          rows,
          {"goal bytes": f"<= {GOAL_BYTES_WHITESPACE:.0%} of python-escpos with white space, "
                         f"<= {GOAL_BYTES_ANY:.0%} on any: {'met' if ok_bytes else 'MISSED'}",
           "goal cpu": f"cpu per page < {GOAL_CPU_SHARE:.0%} of wire time at 115200 baud "
                       f"(worst {worst_cpu_share:.1%}): {'met' if ok_cpu else 'MISSED'}",
           "peer": "python-escpos Dummy().image(img) default impl (bitImageRaster) + cut(PART, feed=False)",
           "cpu": f"process time, best of {RUNS}; ours from document bytes, escpos from the same "
                  "document prepared as an image at the paper width"})


if __name__ == "__main__":
    main()
