"""PDF small print on narrow paper, set in bitmap fonts drawn for the printer's dots.

An A5 card fitted to 58 mm paper prints its 7 pt clause 8 dots tall: whatever the
reduction, an outline font's strokes at that size fall between dots ("Arrwal",
"lafe", "Passpori"). Text that would print under SMALL_EM dots is lifted off the
page before pdfium renders it and drawn instead, at the same place, in the X11
misc-fixed fonts (public domain, hal/printer/fonts/): hand-drawn for 7-14 pixel
cells, every stroke on a dot. A run grows into the white space around it (up to
MAX_GROWTH), never over other ink, and keeps to its line: narrower word spaces
first, then a smaller cell. Text these fonts cannot show (a missing glyph, a
rotated line, a turned page, text not filled dark: a scan's invisible OCR layer,
white on a banner, outlines) stays with pdfium, as does all larger text.
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import gzip
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path(__file__).parent / "fonts"
# (width, height) of each cell, smallest first; the bold faces where misc-fixed has one.
CELLS = ((5, 7), (5, 8), (6, 9), (6, 10), (6, 12), (6, 13), (7, 13), (7, 14))
BOLD = {(6, 13): "6x13B", (7, 13): "7x13B", (7, 14): "7x14B"}
SMALL_EM = 12.0  # dots: text with a smaller em prints in a bitmap font
MAX_GROWTH = 1.25  # a cell may be this much taller than the text's em, where the page has room
MIN_EM = CELLS[0][1] / MAX_GROWTH  # dots: smaller text's lines are closer than the smallest cell; pdfium keeps it
MIN_SPACE = 2  # dots between words, at the narrowest
_PRECISION = 100  # page-to-device conversions work in hundredths of a point
_MISSING = "\U0010ffff"  # no font has it: its glyph is the font's "missing" glyph


@dataclass
class Run:
    """One line of one text object, in page points from the top-left corner."""
    text: str
    x: float
    baseline: float
    size: float
    bold: bool
    obj: int  # the pdfium text object's address
    limit: float | None = None  # where the next text on this line starts

    def words(self) -> list[str]:
        return self.text.split()


@functools.cache
def font(cell: tuple[int, int], bold: bool = False):
    from PIL import ImageFont
    name = BOLD.get(cell) if bold else None
    # unpacked here: FreeType reading the .gz itself unpacks it again for every glyph (7x slower)
    data = gzip.decompress((FONT_DIR / f"{name or f'{cell[0]}x{cell[1]}'}.pcf.gz").read_bytes())
    return ImageFont.truetype(io.BytesIO(data), cell[1])


@functools.lru_cache(maxsize=4096)
def has_glyph(ch: str) -> bool:
    """The bitmap fonts can draw ``ch`` as pdfium would: a glyph (every cell has the same
    repertoire; the smallest stands for them all) in a left-to-right script (Hebrew and
    Arabic runs come in logical order: drawn left to right they would read backwards)."""
    if unicodedata.bidirectional(ch) in ("R", "AL", "AN"):
        return False
    f = font(CELLS[0])
    return bytes(f.getmask(ch)) != bytes(f.getmask(_MISSING)) or ch == " "


class SmallPrint:
    """The small text of one pdfium page: lift it before rendering, draw it after."""

    def __init__(self, page):
        self.page = page
        self.runs = _runs(page) if _supported(page) else []
        self.lifted: list[Run] | None = None

    def lift(self, scale: float, right: float) -> None:
        """Remove from the page every text object all of whose runs print under SMALL_EM at
        ``scale`` and fit their line (up to the next text, or ``right``) in the smallest cell."""
        if self.lifted is not None:
            return
        import pypdfium2.raw as pdfium_c

        drawable: dict[int, bool] = {}
        for run in self.runs:
            ok = (MIN_EM <= run.size * scale < SMALL_EM and all(has_glyph(c) for c in run.text)
                  and _fits(run, scale, right))
            drawable[run.obj] = drawable.get(run.obj, True) and ok
        lift = {obj for obj, ok in drawable.items() if ok}
        self.lifted = [r for r in self.runs if r.obj in lift]
        if not lift:
            return
        for obj in list(self.page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,))):
            if _address(obj.raw) in lift:
                self.page.remove_obj(obj)

    def draw(self, img, scale: float, left: float, top: float) -> list[tuple[Run, int, int, tuple[int, int], int]]:
        """Draw the lifted runs on ``img`` (an "L" render of the box whose top-left corner is
        (left, top) points), top line first so each run sees the ones above it as ink.
        Returns what went where: (run, x, baseline, cell, word space) in dots."""
        placed: list[tuple[Run, int, int, tuple[int, int], int]] = []
        if not self.lifted:
            return placed
        from PIL import ImageDraw

        canvas = ImageDraw.Draw(img)
        canvas.fontmode = "1"
        for run in sorted(self.lifted, key=lambda r: (r.baseline, r.x)):
            x = round((run.x - left) * scale)
            base = round((run.baseline - top) * scale)
            room = (img.width if run.limit is None else round((run.limit - left) * scale) - MIN_SPACE) - x
            cell, space = _layout(run, scale, room, lambda c, w, x=x, base=base, run=run: _clear(img, x, base, c, w, run.bold))
            placed.append((run, x, base, cell, space))
            face = font(cell, run.bold)
            for word in run.words():
                canvas.text((x, base), word, font=face, fill=0, anchor="ls")
                if run.bold and cell not in BOLD:
                    canvas.text((x + 1, base), word, font=face, fill=0, anchor="ls")  # double strike
                x += len(word) * cell[0] + space
        return placed


def _layout(run: Run, scale: float, room: int, clear) -> tuple[tuple[int, int], int]:
    """The largest cell up to MAX_GROWTH x the text's em (with the widest word space) that fits
    ``room`` and is ``clear`` of other ink; else the smallest that fits, ink or not."""
    fitting = [(c, s) for c in reversed(CELLS) if c[1] <= MAX_GROWTH * run.size * scale
               for s in [_space(run, c, room)] if s is not None]
    for cell, space in fitting:
        if clear(cell, _width(run, cell, space)):
            return cell, space
    return fitting[-1] if fitting else (CELLS[0], MIN_SPACE)


def _space(run: Run, cell: tuple[int, int], room: int) -> int | None:
    """The widest word space, from a full cell down to MIN_SPACE, that keeps the run in ``room``."""
    for space in range(cell[0], MIN_SPACE - 1, -1):
        if _width(run, cell, space) <= room:
            return space
    return None


def _width(run: Run, cell: tuple[int, int], space: int) -> int:
    words = run.words()
    return sum(len(w) for w in words) * cell[0] + max(0, len(words) - 1) * space


def _fits(run: Run, scale: float, right: float) -> bool:
    """The run fits its line in the smallest cell (else pdfium keeps it: nothing would be gained)."""
    room = ((run.limit - run.x) * scale - MIN_SPACE) if run.limit is not None else (right - run.x) * scale
    return _width(run, CELLS[0], MIN_SPACE) <= room


def _clear(img, x: int, base: int, cell: tuple[int, int], width: int, bold: bool) -> bool:
    ascent, descent = font(cell, bold).getmetrics()
    box = (x - 1, base - ascent - 1, x + width + (2 if bold else 1), base + descent + 1)
    if box[0] < 0 or box[1] < 0 or box[2] > img.width or box[3] > img.height:
        return False
    return img.crop(box).getextrema()[0] >= 250


def _supported(page) -> bool:
    import pypdfium2.raw as pdfium_c
    return page.get_rotation() == 0 and hasattr(pdfium_c, "FPDFText_GetTextObject")


def _to_top_left(page):
    """Page coordinates (PDF: from the media box's lower left) to points from the top-left corner."""
    import pypdfium2.raw as pdfium_c
    width, height = (round(v * _PRECISION) for v in page.get_size())
    dx, dy = ctypes.c_int(), ctypes.c_int()

    def convert(x: float, y: float) -> tuple[float, float]:
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, dx, dy)
        return dx.value / _PRECISION, dy.value / _PRECISION
    return convert


def _dark_fill(handle) -> bool:
    """Text painted by filling it with a dark colour: what a bitmap font in black can stand for."""
    import pypdfium2.raw as pdfium_c
    mode = pdfium_c.FPDFTextObj_GetTextRenderMode(handle)
    if mode not in (pdfium_c.FPDF_TEXTRENDERMODE_FILL, pdfium_c.FPDF_TEXTRENDERMODE_FILL_STROKE):
        return False
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetFillColor(handle, r, g, b, a):
        return False
    return a.value >= 128 and 0.299 * r.value + 0.587 * g.value + 0.114 * b.value < 128


def _address(handle) -> int:
    return ctypes.cast(handle, ctypes.c_void_p).value or 0


def _runs(page) -> list[Run]:
    """The page's text as runs: one per line of each text object, horizontal text only."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        runs: list[Run] = []
        inked: dict[int, bool] = {}
        current: Run | None = None
        current_y = 0.0
        name = ctypes.create_string_buffer(128)
        flags = ctypes.c_int()
        ox, oy = ctypes.c_double(), ctypes.c_double()
        top_left = _to_top_left(page)
        char_angle = getattr(pdfium_c, "FPDFText_GetCharAngle", lambda tp, i: 0.0)
        for i in range(pdfium_c.FPDFText_CountChars(tp)):
            ch = chr(pdfium_c.FPDFText_GetUnicode(tp, i) or 0xFFFD)
            if pdfium_c.FPDFText_IsGenerated(tp, i) == 1 or ch in "\r\n\x00\ufffe\ufffd":
                current = None
                continue
            angle = char_angle(tp, i)
            if abs(angle) > 1e-3 and abs(angle - 6.283185) > 1e-3:
                current = None
                continue
            if current is None and ch == " ":
                continue
            pdfium_c.FPDFText_GetCharOrigin(tp, i, ox, oy)
            handle = pdfium_c.FPDFText_GetTextObject(tp, i)
            obj = _address(handle)
            # an unturned page: its y only flips, so the baseline compares in page units
            if current is not None and current.obj == obj and abs(current_y - oy.value) < 0.5:
                current.text += ch
                continue
            if obj not in inked:
                inked[obj] = _dark_fill(handle)
            if not inked[obj]:
                current = None  # invisible (a scan's OCR layer), outlined or light text: pdfium's
                continue
            pdfium_c.FPDFText_GetFontInfo(tp, i, name, len(name), flags)
            face = name.value.decode("latin-1").lower()
            bold = pdfium_c.FPDFText_GetFontWeight(tp, i) >= 600 or any(k in face for k in ("bold", "black", "heavy"))
            x, y = top_left(ox.value, oy.value)
            current, current_y = Run(ch, x, y, pdfium_c.FPDFText_GetFontSize(tp, i), bold, obj), oy.value
            runs.append(current)
    finally:
        textpage.close()
    runs = [r for r in runs if r.text.strip() and r.size > 0]
    for r in runs:
        r.text = " ".join(r.words())
    _set_limits(runs)
    return runs


def _set_limits(runs: list[Run]) -> None:
    """Each run's limit: the nearest start of other text to its right, on its line (a baseline
    within 0.6 of its size). Sorted by baseline, so a page of many runs costs n log n."""
    by_line = sorted(runs, key=lambda r: r.baseline)
    baselines = [r.baseline for r in by_line]
    for r in runs:
        lo = bisect.bisect_left(baselines, r.baseline - 0.6 * r.size)
        hi = bisect.bisect_right(baselines, r.baseline + 0.6 * r.size)
        nexts = [o.x for o in by_line[lo:hi] if o is not r and o.x > r.x + 0.5
                 and abs(o.baseline - r.baseline) < 0.6 * r.size]
        r.limit = min(nexts) if nexts else None
