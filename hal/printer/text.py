"""Plain text to a 1-bit image with the bundled monospace font, and control-byte stripping."""

from __future__ import annotations

import textwrap
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
# Unicode categories that never print: controls (ESC, GS, DLE ...), format
# characters (bidi overrides, zero-width), surrogates, private use, unassigned.
_DROP = {"Cc", "Cf", "Cs", "Co", "Cn"}


def printable(text: str) -> str:
    """``text`` without control or invisible characters; newlines kept, tabs expanded.

    Anything we print from platform data goes through this, so no field can
    smuggle printer commands (cash-drawer kick, cut) onto the wire.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for line in text.split("\n"):
        line = line.expandtabs(TAB_SIZE)
        lines.append("".join(ch for ch in line if unicodedata.category(ch) not in _DROP))
    return "\n".join(lines)


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
            out.extend(textwrap.wrap(line, cols, replace_whitespace=False, drop_whitespace=True,
                                     break_long_words=True, break_on_hyphens=True) or [""])
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
