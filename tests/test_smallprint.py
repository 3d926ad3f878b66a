"""hal/printer/smallprint.py: small PDF text set in bitmap fonts, without losing or covering anything."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from hal.printer import pdf, raster, smallprint
from hal.printer.smallprint import CELLS, Run, SmallPrint
from sim.printer.sample import pdf_file, registration_card_pdf


def page_pdf(ops: str, box=(0, 0, 420, 595), rotate: int = 0) -> bytes:
    content = ops.encode("latin-1")
    font = "<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>"
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [{' '.join(map(str, box))}] /Rotate {rotate} "
         "/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>").encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        font.format("Helvetica").encode(), font.format("Helvetica-Bold").encode()])


def text(x, y, s, size=7, bold=False) -> str:
    return f"BT /{'F2' if bold else 'F1'} {size} Tf {x} {y} Td ({s}) Tj ET\n"


def runs_of(data: bytes) -> list[Run]:
    doc = pdfium.PdfDocument(data)
    try:
        return SmallPrint(doc[0]).runs
    finally:
        doc.close()


def lifted(data: bytes, scale: float) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[0]
        texts = lambda: len(list(page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_TEXT,))))  # noqa: E731
        small, before = SmallPrint(page), texts()
        small.lift(scale, page.get_width())
        assert before - texts() == len({r.obj for r in small.lifted})  # what is drawn is what was removed
        return [r.text for r in small.lifted]
    finally:
        doc.close()


def test_the_card_reads_as_runs_in_page_points_from_the_top_left():
    runs = {r.text: r for r in runs_of(registration_card_pdf())}
    clause = runs["late departures may be charged. The hotel is not responsible for valuables"]
    assert (clause.x, clause.size, clause.bold) == (40, 7, False)
    assert clause.baseline == pytest.approx(595 - 122, abs=0.01)
    label, value = runs["Guest name"], runs["Zoë Müller-Øberg"]
    assert value.bold and not label.bold
    assert label.limit == pytest.approx(value.x)  # the label's line ends where the value starts
    assert value.limit is None


def test_a_media_box_off_the_origin_does_not_move_the_text():
    moved = runs_of(page_pdf(text(140, 300, "late departures"), box=(100, 100, 520, 695)))
    assert [(r.x, round(r.baseline, 2)) for r in moved] == [(40, 395.0)]


def test_only_text_under_the_small_em_is_lifted():
    data = page_pdf(text(40, 500, "late departures may be charged", 7) + text(40, 400, "GUEST CARD", 13, True))
    assert lifted(data, 1.13) == ["late departures may be charged"]  # 7.9 dots of em: small; 14.7: pdfium
    assert lifted(data, 1.7) == ["late departures may be charged"]  # 80 mm paper: 11.9 dots, still small
    assert lifted(data, 1.75) == []  # 12.25


def test_text_too_small_even_for_the_smallest_cell_or_its_line_stays_with_pdfium():
    data = page_pdf(text(40, 500, "tiny", 3) + text(40, 400, "late departures may be charged " * 4, 7))
    assert lifted(data, 1.13) == []  # 3.4 dots of em; 124 characters in 380 dots


def test_a_glyph_the_bitmap_fonts_lack_keeps_its_whole_object_with_pdfium(monkeypatch):
    assert smallprint.has_glyph("é") and smallprint.has_glyph("€") and smallprint.has_glyph("Ø")
    assert not smallprint.has_glyph("一")  # CJK: not in misc-fixed
    assert not smallprint.has_glyph("ש") and not smallprint.has_glyph("م")  # right to left: pdfium's
    monkeypatch.setattr(smallprint, "has_glyph", lambda ch: ch != "q")
    data = page_pdf(text(40, 500, "Quai des Fleurs", 7) + text(40, 480, "quiet hours", 7))
    assert lifted(data, 1.13) == ["Quai des Fleurs"]


def test_a_turned_page_is_left_to_pdfium():
    assert runs_of(page_pdf(text(40, 500, "late departures"), rotate=90)) == []


def run(text_="late departures may be charged", size=7.0, limit=None) -> Run:
    return Run(text_, 0.0, 100.0, size, False, 1, limit)


def test_a_run_with_room_around_it_grows_to_the_largest_cell_within_max_growth():
    cell, space = smallprint._layout(run(size=8.8), 1.0, 380, lambda c, w: True)
    assert cell == (6, 10) and space == 6  # 6x12 would be 12 > 1.25 x 8.8
    assert cell[1] <= smallprint.MAX_GROWTH * 8.8


def test_ink_around_a_run_makes_it_take_a_smaller_cell():
    cell, _ = smallprint._layout(run(size=8.8), 1.0, 380, lambda c, w: c[1] <= 8)
    assert cell == (5, 8)


def test_word_spaces_narrow_before_the_cell_shrinks():
    r = run("left in the room. Personal data is processed as described in our privacy notice.", 7.8)
    cell, space = smallprint._layout(r, 1.0, 380, lambda c, w: True)
    assert cell == (5, 8) and smallprint.MIN_SPACE <= space < cell[0]
    assert smallprint._width(r, cell, space) <= 380


def test_a_run_that_cannot_be_clear_of_ink_still_prints_in_the_smallest_cell_that_fits():
    assert smallprint._layout(run(size=9.0), 1.0, 380, lambda c, w: False) == (CELLS[0], CELLS[0][0])


def rendered(data: bytes, width: int):
    with pdf.Pages(data, 1) as pages:
        return pages.render(0, width, 10_000)


def test_the_lifted_text_is_drawn_where_it_was_and_only_in_black_and_white():
    data = page_pdf(text(40, 500, "late departures may be charged", 7) + "0.6 w 40 470 m 380 470 l S\n")
    img = rendered(data, 384)
    outline = _without_smallprint(lambda: rendered(data, 384))
    ours, theirs = _ink_rows(img), _ink_rows(outline)
    text_rows = img.crop((0, 0, img.width, ours[-1] - 3))  # the rule (pdfium's, antialiased) is below
    assert {v for _, v in text_rows.getcolors()} == {0, 255}  # no grey edges for the threshold to eat
    assert {v for _, v in outline.crop((0, 0, img.width, ours[-1] - 3)).getcolors()} != {0, 255}
    # the text's top stays within a few dots of where pdfium put it, measured from the rule
    assert abs((ours[-1] - ours[0]) - (theirs[-1] - theirs[0])) <= 3


def test_no_text_is_lost_every_lifted_run_is_drawn_whole_inside_the_paper(monkeypatch):
    placements = []
    draw = smallprint.SmallPrint.draw

    def spy(self, img, scale, left, top):
        placed = draw(self, img, scale, left, top)
        placements.append((img.width, placed, list(self.lifted)))
        return placed

    monkeypatch.setattr(smallprint.SmallPrint, "draw", spy)
    raster.render_here("application/pdf", registration_card_pdf(), 384, 20, 2000.0)
    width, placed, lifted_runs = placements[-1]
    assert [p[0] for p in placed] == sorted(lifted_runs, key=lambda r: (r.baseline, r.x))
    texts = [p[0].text for p in placed]
    assert "left in the room. Personal data is processed as described in our privacy notice." in texts
    assert "Passport / ID no." in texts and "Guest signature" in texts
    for r, x, _, cell, space in placed:
        assert x >= 0 and x + smallprint._width(r, cell, space) <= width, r.text
        if r.limit is not None:  # ... and before the next text on its line
            assert x + smallprint._width(r, cell, space) < placed_x(placed, r.limit, r.baseline, x)


def placed_x(placed, limit_pt, baseline, x) -> float:
    """Where the next run on the line starts in dots (drawn by us or, beyond ``placed``, by pdfium)."""
    others = [p[1] for p in placed if p[0].x == limit_pt and abs(p[0].baseline - baseline) < 1]
    return others[0] if others else float("inf")


def _without_smallprint(fn):
    saved = smallprint.SMALL_EM
    smallprint.SMALL_EM = 0.0
    try:
        return fn()
    finally:
        smallprint.SMALL_EM = saved


def _ink_rows(img) -> list[int]:
    return [y for y in range(img.height) if img.crop((0, y, img.width, y + 1)).getextrema()[0] < 128]


def test_on_a_dense_table_page_each_runs_limit_is_the_next_cell_on_its_line():
    """20,000 runs on 400 lines 2 pt apart (sorted by baseline: n log n; a quadratic scan took
    minutes, over the render child's CPU limit)."""
    runs = [Run("x", 10.0 * col, 10.0 + 2.0 * line, 1.0, False, line * 50 + col) for line in range(400)
            for col in range(50)]
    smallprint._set_limits(runs)
    assert runs[0].limit == 10.0 and runs[49].limit is None
    assert all(r.limit == r.x + 10.0 for r in runs if r.x < 490)


def test_invisible_light_and_outlined_text_stays_with_pdfium():
    """A scanned page's OCR layer (render mode 3) must not be printed over the scan, white
    text on a dark banner must not turn black, outlined text keeps its outline."""
    data = page_pdf("q BT 3 Tr /F1 7 Tf 40 500 Td (ocr layer) Tj ET Q\n"  # (Tr and rg outlive ET: q/Q)
                    "q 0 0 0 rg 30 470 200 20 re f 1 1 1 rg BT /F1 7 Tf 40 480 Td (white on black) Tj ET Q\n"
                    "q BT 1 Tr /F1 7 Tf 40 460 Td (outlined) Tj ET Q\n"
                    "q BT 0.2 0.2 0.2 rg /F1 7 Tf 40 440 Td (dark grey) Tj ET Q\n")
    assert [r.text for r in runs_of(data)] == ["dark grey"]
    assert lifted(data, 1.13) == ["dark grey"]


def test_small_text_inside_a_form_xobject_is_lifted_from_the_form_not_printed_twice():
    form = b"BT /F1 7 Tf 40 500 Td (inside a form xobject) Tj ET"
    page = b"/Fm1 Do\nBT /F1 7 Tf 40 400 Td (top level) Tj ET\n0.5 w 40 380 m 380 380 l S"
    data = pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] /Resources << /Font << /F1 5 0 R >> "
        b"/XObject << /Fm1 6 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(page) + page + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 420 595] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Length %d >>\nstream\n" % len(form) + form + b"\nendstream"])
    assert lifted(data, 1.0) == ["inside a form xobject", "top level"]
    img = rendered(data, 384)
    first_line = img.crop((0, 0, img.width, 12))
    assert {v for _, v in first_line.getcolors()} == {0, 255}  # only the bitmap font: pdfium's copy is gone
