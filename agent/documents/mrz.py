"""ICAO 9303 machine-readable zones: TD1 (ID cards, 3x30), TD2 (2x36), TD3 (passports, 2x44).

``parse(text)`` takes what a reader sent (lines separated by CR/LF, surrounding
blanks ignored) and answers an ``IdentityDocument`` only when every check digit
agrees; anything else raises ``Unreadable`` with a reason that names the field
but never its value. Written small here because the one PyPI package for it
(``mrz``) has had no release since 2020.

No OCR repair: a letter in a numeric field (``O`` for ``0``) is unreadable, and
a confusion in an alphanumeric field fails its check digit, so the guest
presents the document again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from agent.documents.countries import alpha2

__all__ = ["IdentityDocument", "Unreadable", "check_digit", "parse", "resolve_birth", "resolve_expiry"]

_CHARS = re.compile(r"^[A-Z0-9<]+$")
_WEIGHTS = (7, 3, 1)
# first letter of the document code -> the Mews identity document type
_TYPES = {"P": "Passport", "I": "IdentityCard", "A": "IdentityCard", "C": "IdentityCard", "V": "Visa"}


class Unreadable(ValueError):
    """The zone cannot be trusted (wrong length, a bad character, a check digit that disagrees)."""


def check_digit(field: str) -> int:
    """ICAO 9303 Part 3 check digit: weights 7-3-1, A=10..Z=35, '<'=0."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        elif ch == "<":
            value = 0
        else:
            raise Unreadable("a character outside A-Z, 0-9 and <")
        total += value * _WEIGHTS[i % 3]
    return total % 10


@dataclass(frozen=True)
class IdentityDocument:
    """One document as its zone reads; ``repr`` hides the number and the names (they are personal data)."""

    format: str  # "TD1" | "TD2" | "TD3"
    code: str  # the document code, e.g. "P", "ID", "I"
    type: str  # Mews identity document type: Passport | IdentityCard | Visa
    number: str
    issuing_code: str  # ICAO three-letter code as printed ("D" for Germany)
    nationality_code: str
    surname: str
    given_names: str
    birth_date: dt.date
    sex: str  # "F" | "M" | "" (unspecified)
    expiry: dt.date
    optional: str = ""

    @property
    def issuing_country(self) -> str | None:
        """ISO 3166-1 alpha-2 of the issuing state; None when it has none (UNO, XXA, the specimens' UTO)."""
        return alpha2(self.issuing_code)

    @property
    def nationality(self) -> str | None:
        """ISO 3166-1 alpha-2 of the holder's nationality; None when it has none."""
        return alpha2(self.nationality_code)

    @property
    def masked_number(self) -> str:
        """The last three characters only, for a screen the guest confirms."""
        return "•" * max(len(self.number) - 3, 3) + self.number[-3:]

    def expired(self, today: dt.date) -> bool:
        return self.expiry < today

    def __repr__(self) -> str:
        return f"IdentityDocument({self.format} {self.type}, {self.issuing_code}, expires {self.expiry})"

    __str__ = __repr__


def _lines(text: str) -> list[str]:
    lines = [ln.strip().upper().replace(" ", "") for ln in re.split(r"[\r\n]+", text or "")]
    return [ln for ln in lines if ln]


def _digits(field: str, what: str) -> str:
    if not field.isdigit():
        raise Unreadable(f"{what} is not numeric")
    return field


def _checked(field: str, digit: str, what: str, *, may_be_empty: bool = False) -> str:
    """``field`` when ``digit`` is its check digit ('<' allowed for an unused optional field)."""
    if may_be_empty and digit == "<" and set(field) <= {"<"}:
        return field
    if not digit.isdigit() or int(digit) != check_digit(field):
        raise Unreadable(f"the check digit of the {what} is wrong")
    return field


def _date(yymmdd: str, what: str) -> tuple[int, int, int]:
    _digits(yymmdd, what)
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    try:
        dt.date(2000 + yy, mm, dd)  # validity of month and day (29 Feb checked again per century)
    except ValueError:
        raise Unreadable(f"the {what} is not a date") from None
    return yy, mm, dd


def resolve_birth(yymmdd: str, today: dt.date) -> dt.date:
    """A birth date is in the past: the latest century that keeps it on or before today."""
    yy, mm, dd = _date(yymmdd, "birth date")
    for century in (today.year // 100 * 100, today.year // 100 * 100 - 100):
        try:
            day = dt.date(century + yy, mm, dd)
        except ValueError:
            continue
        if day <= today:
            return day
    raise Unreadable("the birth date is not a date")


def resolve_expiry(yymmdd: str, today: dt.date) -> dt.date:
    """The century that puts the expiry closest to today (an expired document stays expired)."""
    yy, mm, dd = _date(yymmdd, "expiry date")
    base = today.year // 100 * 100
    days = []
    for century in (base - 100, base, base + 100):
        try:
            days.append(dt.date(century + yy, mm, dd))
        except ValueError:
            continue
    if not days:
        raise Unreadable("the expiry date is not a date")
    return min(days, key=lambda d: abs((d - today).days))


def _names(field: str) -> tuple[str, str]:
    """(surname, given names): '<<' separates them, '<' separates words, trailing fillers dropped."""
    primary, _, secondary = field.rstrip("<").partition("<<")
    def words(part: str) -> str:
        return " ".join(w for w in part.split("<") if w)
    return words(primary), words(secondary)


def _sex(ch: str) -> str:
    if ch not in "FMX<":
        raise Unreadable("the sex field is not F, M, X or <")
    return ch if ch in "FM" else ""


def _document(fmt: str, code: str, issuing: str, number: str, nationality: str, birth: str, sex: str,
              expiry: str, optional: str, names: str, today: dt.date) -> IdentityDocument:
    if not re.match(r"^[A-Z][A-Z<]$", code):
        raise Unreadable("the document code is not letters")
    for value, what in ((issuing, "issuing state"), (nationality, "nationality")):
        if not re.match(r"^[A-Z]{1,3}<{0,2}$", value):
            raise Unreadable(f"the {what} is not a three-letter code")
    surname, given = _names(names)
    if not surname:
        raise Unreadable("the name field is empty")
    return IdentityDocument(format=fmt, code=code.rstrip("<"), type=_TYPES.get(code[0], "IdentityCard"),
                            number=number.replace("<", ""), issuing_code=issuing.rstrip("<"),
                            nationality_code=nationality.rstrip("<"), surname=surname, given_names=given,
                            birth_date=resolve_birth(birth, today), sex=_sex(sex),
                            expiry=resolve_expiry(expiry, today), optional=optional.strip("<"))


def _td3_or_td2(l1: str, l2: str, today: dt.date) -> IdentityDocument:
    fmt = "TD3" if len(l1) == 44 else "TD2"
    number = _checked(l2[0:9], l2[9], "document number")
    _checked(l2[13:19], l2[19], "birth date")
    _checked(l2[21:27], l2[27], "expiry date")
    if fmt == "TD3":
        optional = _checked(l2[28:42], l2[42], "personal number", may_be_empty=True)
        composite, digit = l2[0:10] + l2[13:20] + l2[21:43], l2[43]
    else:
        optional = l2[28:35]
        composite, digit = l2[0:10] + l2[13:20] + l2[21:35], l2[35]
    _checked(composite, digit, "whole zone (composite)")
    if fmt == "TD2" and l2[9] == "<":  # a long number continues in the optional field (ICAO 9303-6 note j)
        number, optional = _long_number(number, optional)
    return _document(fmt, l1[0:2], l1[2:5], number, l2[10:13], l2[13:19], l2[20], l2[21:27], optional,
                     l1[5:], today)


def _long_number(head: str, optional: str) -> tuple[str, str]:
    """A number longer than 9 characters: the rest sits in the optional field, ended by its check digit."""
    tail = optional.split("<", 1)[0]
    if len(tail) < 2:
        raise Unreadable("the document number's continuation is missing")
    number = head + tail[:-1]
    _checked(number, tail[-1], "document number")
    return number, optional[len(tail):]


def _td1(l1: str, l2: str, l3: str, today: dt.date) -> IdentityDocument:
    number, optional = l1[5:14], l1[15:30]
    if l1[14] == "<":
        number, optional = _long_number(number, optional)
    else:
        _checked(number, l1[14], "document number")
    _checked(l2[0:6], l2[6], "birth date")
    _checked(l2[8:14], l2[14], "expiry date")
    _checked(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29], "whole zone (composite)")
    return _document("TD1", l1[0:2], l1[2:5], number, l2[15:18], l2[0:6], l2[7], l2[8:14],
                     optional + l2[18:29], l3, today)


def parse(text: str, today: dt.date | None = None) -> IdentityDocument:
    """The document a zone describes, every check digit verified; ``Unreadable`` otherwise."""
    today = today or dt.date.today()
    lines = _lines(text)
    shape = tuple(len(ln) for ln in lines)
    if shape not in ((44, 44), (36, 36), (30, 30, 30)):
        raise Unreadable(f"not a machine-readable zone ({len(lines)} lines of {'/'.join(map(str, shape)) or 0})")
    if not all(_CHARS.match(ln) for ln in lines):
        raise Unreadable("a character outside A-Z, 0-9 and <")
    if len(lines) == 3:
        return _td1(lines[0], lines[1], lines[2], today)
    return _td3_or_td2(lines[0], lines[1], today)


def looks_like_mrz(text: str) -> bool:
    """True when ``text`` has the shape of a zone (so a failed parse means a bad read, not a QR code)."""
    shape = tuple(len(ln) for ln in _lines(text))
    return shape in ((44, 44), (36, 36), (30, 30, 30)) or (len(shape) in (2, 3) and "<<" in (text or ""))
