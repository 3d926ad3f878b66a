"""Last names compared the way a guest types them: case, accents and spacing do not matter."""

from __future__ import annotations

import unicodedata

_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
_SPELLED = {"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "ð": "d"}


def _fold(text: str, german: bool) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text.casefold()):
        if german and ch in _GERMAN:
            out.append(_GERMAN[ch])
        elif ch in _SPELLED:
            out.append(_SPELLED[ch])
        else:
            out.extend(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return "".join(c for c in "".join(out) if c.isalnum())


def same_name(typed: str, booked: str | None) -> bool:
    """True when ``typed`` is ``booked`` ignoring case, accents, spaces and punctuation (Müller = MULLER = Mueller)."""
    if not booked or not typed:
        return False
    t = _fold(typed, False)
    return bool(t) and t in (_fold(booked, False), _fold(booked, True))
