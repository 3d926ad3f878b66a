"""Text as it may go on a slip: platform strings made printable, names cut, wrapped blocks bounded.

Names and item names come from the platform and may hold anything a guest or a
reservation system typed. Control characters crash the shaper (a ``\\x1d`` makes
raqm fail) or garble the layout, and bidi overrides reorder what the guest reads; a
10 kB name would print a metre of paper. So every string is reduced to printable
text with single spaces, a name is cut at ``NAME_LIMIT`` characters with an
ellipsis (the bundled DejaVu font has it), and a wrapped block keeps a bounded
number of rows.
"""

from __future__ import annotations

import textwrap
import unicodedata

NAME_LIMIT = 64  # characters of a guest, hotel or item name (issue 21)
LINE_LIMIT = 128  # characters of a free-text slip line (the hotel's own words)
ELLIPSIS = "…"

# Cc: C0, DEL and C1 controls (incl. U+0085); Cf: format characters (bidi marks,
# embeddings, overrides and isolates, zero-width and joiner characters, BOM, soft
# hyphen); Cs: lone surrogates (JSON may carry "\ud800"); Zl/Zp: U+2028/U+2029.
_DROPPED = {"Cc", "Cf", "Cs"}


def printable(text) -> str:
    """``text`` without control and format characters, whitespace runs as one space, stripped ("" for None)."""
    if text is None:
        return ""
    out = []
    for ch in str(text):
        if ch.isspace() or unicodedata.category(ch) in ("Zl", "Zp"):
            out.append(" ")  # tabs, newlines, separators (also \x1c-\x1f, \x85) part words
        elif unicodedata.category(ch) not in _DROPPED:
            out.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def cut(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` of at most ``limit`` characters: a longer one keeps ``limit - 1`` and ends with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + ELLIPSIS


def name(text, limit: int = NAME_LIMIT) -> str:
    """A platform name as it prints: printable, cut at ``limit`` characters."""
    return cut(printable(text), limit)


def rows(text: str, columns: int, max_rows: int) -> list[str]:
    """``text`` wrapped at ``columns``, at most ``max_rows`` rows; a cut last row ends with an ellipsis."""
    wrapped = textwrap.wrap(text, columns) or [""]
    if len(wrapped) > max_rows:
        wrapped = wrapped[:max_rows]
        wrapped[-1] = wrapped[-1][:columns - 1].rstrip() + ELLIPSIS
    return wrapped
