"""Issue 23 item 10: every character the kiosk screen can show is in the bundled font.

A glyph the font lacks falls back to whatever the kiosk's system has (on the image: nothing, a
blank box; the info icon showed blank). The page's characters are the catalogs' texts and the
non-ASCII literals of its HTML and JavaScript (icons, keyboard keys, language names).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "agent" / "kiosk" / "static"
FONTS = ("DejaVuSans.woff2", "DejaVuSans-Bold.woff2")


def shown_characters() -> dict[str, str]:
    """Each character the page may draw -> where it comes from (first place seen)."""
    found: dict[str, str] = {}
    for path in sorted((STATIC / "i18n").glob("*.json")):
        for key, text in json.loads(path.read_text(encoding="utf-8")).items():
            for ch in re.sub(r"\{\w+\}", "", text):
                found.setdefault(ch, f"{path.name} {key}")
    for path in sorted([*STATIC.glob("*.html"), *(STATIC / "js").glob("*.js"), STATIC / "app.css"]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("//", "/*", "*")):
                continue  # comments are not shown
            for ch in line:
                if ord(ch) > 0x7E:
                    found.setdefault(ch, f"{path.name}:{number}")
    # Shift on the keyboard shows capitals of every letter key.
    for ch in list(found):
        if ch.upper() != ch and len(ch.upper()) == 1:
            found.setdefault(ch.upper(), f"capital of {ch} ({found[ch]})")
    return {ch: where for ch, where in found.items() if not ch.isspace() and unicodedata.category(ch) != "Cf"}


@pytest.mark.parametrize("font", FONTS)
def test_the_bundled_font_has_every_glyph_the_page_shows(font):
    ttlib = pytest.importorskip("fontTools.ttLib", reason="fontTools not installed (pip install -e .[dev])")
    pytest.importorskip("brotli", reason="brotli not installed (woff2 needs it; pip install -e .[dev])")
    cmap = ttlib.TTFont(STATIC / "fonts" / font).getBestCmap()
    shown = shown_characters()
    assert len(shown) > 100  # the catalogs' letters at least
    missing = {f"U+{ord(ch):04X} {ch} {unicodedata.name(ch, '?')}": where for ch, where in shown.items()
               if ord(ch) not in cmap}
    assert not missing, missing
