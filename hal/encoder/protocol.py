"""Request fields for CN/CC/LT/CO and parsing of the encoder's replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hal.encoder.errors import ERRORS, UnexpectedReply, error_for
from hal.encoder.frame import field_bytes
from hal.errors import InvalidInput

MAX_ROOMS = 4
MAX_TEXT_LINES = 3
TEXT_LIMIT = 24  # operator and text lines
TIME_FORMAT = "%H%M%d%m%y"  # hhmmDDMMYY, hotel local time
EJECT_MODES = ("E", "R", "T")  # eject, retain, rear

# CN/CC field positions (field notes)
F_COMMAND, F_ENCODER, F_EJECT = 0, 1, 2
F_ROOMS = slice(3, 7)
F_GRANTED, F_DENIED, F_FROM, F_UNTIL, F_OPERATOR = 7, 8, 9, 10, 11
F_TEXT = slice(12, 15)
F_SERIAL = 15
KEY_FIELDS = 16


def format_local(moment: datetime) -> str:
    """``hhmmDDMMYY`` of a local (wall-clock) time."""
    return moment.strftime(TIME_FORMAT)


def parse_local(text: str) -> datetime:
    """The naive local datetime of an ``hhmmDDMMYY`` field; ValueError if malformed."""
    if len(text) != 10 or not text.isdigit():
        raise ValueError(f"not an hhmmDDMMYY time: {text!r}")
    return datetime.strptime(text, TIME_FORMAT)


@dataclass(frozen=True)
class KeyCard:
    """What a guest key opens and when: up to four rooms, local validity, up to three text lines."""

    rooms: tuple[str, ...]
    valid_from: datetime  # hotel local wall-clock time
    valid_until: datetime
    text: tuple[str, ...] = ()
    granted: str = ""  # authorisations granted / denied (lock-system codes)
    denied: str = ""

    def __post_init__(self):
        if not 1 <= len(self.rooms) <= MAX_ROOMS:
            raise InvalidInput(f"a key opens 1 to {MAX_ROOMS} rooms; got {len(self.rooms)}")
        if any(not r for r in self.rooms):
            raise InvalidInput("a room number is empty")
        if len(self.text) > MAX_TEXT_LINES:
            raise InvalidInput(f"a key holds at most {MAX_TEXT_LINES} text lines; got {len(self.text)}")
        # No local ordering check: in the autumn DST hour a valid UTC interval can
        # read "backwards" in wall-clock time; callers check order in UTC.


@dataclass(frozen=True)
class CardInfo:
    """What ``LT`` read from a card (fields the encoder left empty are empty/None)."""

    rooms: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None
    text: tuple[str, ...] = ()
    fields: list[str] = field(default_factory=list, repr=False)


def _limited(value: str, what: str, limit: int = TEXT_LIMIT) -> str:
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    field_bytes(value)
    return value


def key_request(command: str, card: KeyCard, *, encoder_id: str, eject: str, operator: str,
                serial_return: str = "0") -> list[str]:
    """The 16 fields of a CN or CC request."""
    if command not in ("CN", "CC"):
        raise InvalidInput(f"not a key command: {command}")
    if eject not in EJECT_MODES:
        raise InvalidInput(f"eject must be one of {', '.join(EJECT_MODES)}; got {eject!r}")
    fields = [""] * KEY_FIELDS
    fields[F_COMMAND], fields[F_ENCODER], fields[F_EJECT] = command, encoder_id, eject
    fields[F_ROOMS] = list(card.rooms) + [""] * (MAX_ROOMS - len(card.rooms))
    fields[F_GRANTED], fields[F_DENIED] = card.granted, card.denied
    fields[F_FROM], fields[F_UNTIL] = format_local(card.valid_from), format_local(card.valid_until)
    fields[F_OPERATOR] = _limited(operator, "operator")
    fields[F_TEXT] = [_limited(t, "a text line") for t in card.text] + [""] * (MAX_TEXT_LINES - len(card.text))
    fields[F_SERIAL] = serial_return
    for f in fields:
        field_bytes(f)
    return fields


def read_request(encoder_id: str) -> list[str]:
    """The fields of an LT (read card) request."""
    return ["LT", encoder_id]


def checkout_request(room: str) -> list[str]:
    """The fields of a CO (check-out) request: ``CO``, ``0``, room."""
    if not room:
        raise InvalidInput("check-out needs a room")
    return ["CO", "0", room]


def check_reply(command: str, fields: list[str], rooms: tuple[str, ...] = ()) -> list[str]:
    """Return the reply fields when they echo ``command``; else raise its typed error."""
    code = fields[0] if fields else ""
    if code == command:
        return fields
    if code in ERRORS:
        raise error_for(code, fields, rooms)
    raise UnexpectedReply(f"unexpected reply from the key encoder to {command}: {code[:8]!r}")


def parse_card(fields: list[str]) -> CardInfo:
    """CardInfo from an LT reply laid out like a CN request (rooms 3-6, validity 9-10, text 12-14)."""
    def get(i: int) -> str:
        return fields[i] if i < len(fields) else ""

    def when(i: int) -> datetime | None:
        try:
            return parse_local(get(i))
        except ValueError:
            return None

    rooms = tuple(r for r in (get(i) for i in range(3, 7)) if r)
    text = tuple(t for t in (get(i) for i in range(12, 15)) if t)
    return CardInfo(rooms=rooms, valid_from=when(F_FROM), valid_until=when(F_UNTIL), text=text, fields=fields)
