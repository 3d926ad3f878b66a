"""Plain text to a 1-bit image with the bundled monospace font, and control-byte stripping."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from hal.errors import InvalidInput

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSansMono.ttf"
# 20 px DejaVu Sans Mono advances 12 dots per character: the 12x24 cell of the
# printers' own Font A, so 32 columns on 58 mm paper and 48 on 80 mm.
FONT_SIZE = 20
# Font A's 24-dot cell plus the printers' default line spacing (about 1/6 inch).
LINE_HEIGHT = 30
TAB_SIZE = 8
# Checked before any per-character work: 2000 mm of paper holds ~27,000 characters.
MAX_TEXT_CHARS = 1_000_000
MAX_LINE_CHARS = 100_000  # one line, tabs expanded (a tab costs up to TAB_SIZE)
# Unicode categories that never print: controls (ESC, GS, DLE ...), format
# characters (bidi overrides, zero-width), surrogates, private use, unassigned.
_DROP = {"Cc", "Cf", "Cs", "Co", "Cn"}


def printable(text: str) -> str:
    """``text`` without control or invisible characters; newlines kept, tabs expanded.

    Anything we print from platform data goes through this, so no field can
    smuggle printer commands (cash-drawer kick, cut) onto the wire.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_size(text)
    lines = []
    for line in text.split("\n"):
        line = line.expandtabs(TAB_SIZE)
        lines.append("".join(ch for ch in line if unicodedata.category(ch) not in _DROP))
    return "\n".join(lines)


def check_size(text: str) -> None:
    """InvalidInput when the text, or one line of it with tabs expanded, is over its limit."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(f"the text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) + (TAB_SIZE - 1) * line.count("\t") > MAX_LINE_CHARS:
            raise InvalidInput(f"line {n} of the text is over {MAX_LINE_CHARS:,} characters (tabs expanded)")


def wrap_line(line: str, cols: int, room: int) -> list[str]:
    """Word-wrap one line to ``cols`` in one pass (linear in the line), at most ``room`` lines."""
    out: list[str] = []
    pos, end = 0, len(line)
    while pos < end and len(out) < room:
        while pos < end and line[pos] == " ":
            pos += 1
        if pos >= end:
            break
        cut = pos + cols
        if cut >= end:
            out.append(line[pos:end])
            break
        space = line.rfind(" ", pos, cut + 1)
        if space > pos:
            out.append(line[pos:space].rstrip())
            pos = space + 1
        else:  # a word longer than the line: break it
            out.append(line[pos:cut])
            pos = cut
    return out or [""]


@lru_cache(maxsize=1)
def _font():
    from PIL import ImageFont
    return ImageFont.truetype(str(FONT_PATH), FONT_SIZE)


def columns(width_dots: int) -> int:
    """Characters per line at this paper width."""
    return max(1, width_dots // int(_font().getlength("M")))


def wrap(text: str, width_dots: int, max_lines: int | None = None) -> list[str]:
    """Wrap at word boundaries to the paper width; stops early past ``max_lines``."""
    cols = columns(width_dots)
    out: list[str] = []
    for line in printable(text).split("\n"):
        line = line.rstrip()
        if len(line) <= cols:
            out.append(line)
        else:
            room = (max_lines + 1 - len(out)) if max_lines is not None else len(line)
            out.extend(wrap_line(line, cols, room))
        if max_lines is not None and len(out) > max_lines:
            break
    while out and not out[-1]:
        out.pop()
    return out


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) to str; invalid bytes are an InvalidInput naming the offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput(f"text is not valid UTF-8 (byte 0x{data[e.start]:02X} at offset {e.start})") from None


def render_text(text: str, width_dots: int, max_rows: int):
    """Render wrapped text as a 1-bit image ``width_dots`` wide; InvalidInput when longer than ``max_rows``."""
    from PIL import Image, ImageDraw

    lines = wrap(text, width_dots, max_lines=max_rows // LINE_HEIGHT + 1)
    if not lines:
        raise InvalidInput("the text is empty: nothing to print")
    height = len(lines) * LINE_HEIGHT
    if height > max_rows:
        raise InvalidInput(f"the text is longer than the {max_rows / (203 / 25.4):.0f} mm paper limit")
    img = Image.new("1", (width_dots, height), 1)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"  # hinted, non-antialiased glyphs: crisp dots, no threshold needed
    font = _font()
    for n, line in enumerate(lines):
        if line:
            draw.text((0, n * LINE_HEIGHT), line, font=font, fill=0)
    return img
