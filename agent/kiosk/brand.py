"""The hotel's look on the kiosk screen: its logo and two brand colours, kept readable (WCAG 2.2 AA).

``kiosk.brand_colours = ["#0b4f8a", "#eef3f8"]``: the first fills the primary buttons (white
text on it) and colours the secondary buttons' text on white; the second is the header band
behind dark text. Each must reach 4.5:1 (AA for normal text) against what is drawn on it,
checked at config load so a hotel cannot ship an unreadable screen.
"""

from __future__ import annotations

import re

from agent.config.errors import ConfigError

AA = 4.5
WHITE = "#ffffff"
MUTED_INK = "#4a4a4a"  # the lightest text drawn on the header band (the clock); the rest is darker
LOGO_ROUTE = "/brand/logo"
LOGO_MAX_BYTES = 256 * 1024  # a screen logo, not a photo: the page stays light and the route cheap
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


def parse_hex(text: str) -> tuple[int, int, int] | None:
    """(r, g, b) of "#rrggbb" or "#rgb", None for anything else."""
    m = _HEX.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        return None
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(text: str) -> tuple[int, int, int]:
    rgb = parse_hex(text)
    if rgb is None:
        raise ValueError(f"not a #rrggbb colour: {text!r}")
    return rgb


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two "#rrggbb" colours, 1.0 .. 21.0."""
    la, lb = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def check_brand(kiosk, fname: str) -> None:
    """Refuse brand colours that are malformed or below AA against the text drawn on them."""
    colours = kiosk.brand_colours
    if not colours:
        return
    key = "kiosk.brand_colours"
    if not isinstance(colours, list) or len(colours) != 2 or any(parse_hex(c) is None for c in colours):
        raise ConfigError(fname, key, 'must be two colours "#rrggbb": the buttons\' colour and the header\'s')
    button, header = (c.strip() for c in colours)
    problems = []
    if contrast(button, WHITE) < AA:
        problems.append(f"{button} behind white button text is {contrast(button, WHITE):.2f}:1")
    if contrast(header, MUTED_INK) < AA:
        problems.append(f"{header} behind the header's text ({MUTED_INK}) is {contrast(header, MUTED_INK):.2f}:1")
    if problems:
        raise ConfigError(fname, key, f"contrast below WCAG AA ({AA}:1): " + "; ".join(problems))


def read_logo(path: str) -> bytes | None:
    """The logo's PNG bytes, or None when unset, unreadable, not a PNG or over LOGO_MAX_BYTES."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > LOGO_MAX_BYTES or not data.startswith(PNG_SIGNATURE):
        return None
    return data
