"""A Mews key-cutter command's Data -> a validated KeyOrder (rooms, local validity, guest text).

Both payloads are read: ``VisiOnlineKeyCutter`` (spec: ``ValidityStartUtc``,
``Reservation.Customer``) and ``KeyCutter`` (field notes: ``StartUtc``,
``FirstName``/``NormalizedFirstName``). ``ApiUrl``, ``UserName``, ``Password``
and ``KeyCutterData`` are never read: they are secrets of another lock system.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from agent.runtime.handler import CommandRejected
from common.jsonparts import part
from hal.encoder.frame import field_bytes
from hal.encoder.protocol import MAX_ROOMS, TEXT_LIMIT, KeyCard
from hal.errors import InvalidInput

MAX_KEYS = 10

# Letters NFKD cannot take apart into a Latin-1 base letter plus accents.
_SPELLED = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ẞ": "SS", "ı": "i", "Ħ": "H",
            "ħ": "h", "Ŧ": "T", "ŧ": "t", "ĸ": "k", "Ŋ": "N", "ŋ": "n", "‘": "'", "’": "'", "‚": ",",
            "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "..."}


def _latin1_ok(ch: str) -> bool:
    try:
        field_bytes(ch)
    except InvalidInput:
        return False
    return True


def latin1_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` made safe for a frame: Latin-1 letters kept, others transliterated or dropped, trimmed."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch.isspace():
            out.append(" ")
        elif ch in _SPELLED:
            out.append(_SPELLED[ch])
        elif ch == "\xb3":  # superscript three is the separator byte itself
            out.append("3")
        elif _latin1_ok(ch):
            out.append(ch)
        else:
            base = unicodedata.normalize("NFKD", ch)
            out.extend(c for c in base if not unicodedata.combining(c) and _latin1_ok(c))
    return " ".join("".join(out).split())[:limit].rstrip()


@dataclass(frozen=True)
class KeyOrder:
    """What to encode, parsed once from the command's Data."""

    rooms: tuple[str, ...]
    start_utc: datetime
    end_utc: datetime
    valid_from: datetime  # hotel local wall-clock time, naive
    valid_until: datetime
    key_count: int
    text: tuple[str, ...]

    def card(self) -> KeyCard:
        return KeyCard(rooms=self.rooms, valid_from=self.valid_from, valid_until=self.valid_until, text=self.text)

    @property
    def rooms_text(self) -> str:
        return ("room " if len(self.rooms) == 1 else "rooms ") + ", ".join(self.rooms)


def _rooms(data: dict) -> tuple[str, ...]:
    value = data.get("LockIds")
    if value is None:
        raise CommandRejected("LockIds is missing: the command names no room")
    if not isinstance(value, list):
        raise CommandRejected("LockIds must be a list of rooms")
    rooms: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise CommandRejected(f"LockIds: {item!r} is not a room")
        room = str(item).strip()
        if not room:
            raise CommandRejected("LockIds: a room is empty")
        try:
            field_bytes(room)
        except InvalidInput:
            raise CommandRejected(f"LockIds: room {room!r} has characters the encoder cannot take") from None
        if room not in rooms:
            rooms.append(room)
    if not rooms:
        raise CommandRejected("LockIds is empty: the command names no room")
    if len(rooms) > MAX_ROOMS:
        raise CommandRejected(f"a key can open at most four rooms; got {len(rooms)}")
    return tuple(rooms)


def _utc(data: dict, *names: str) -> datetime:
    name = next((n for n in names if data.get(n) is not None), None)
    if name is None:
        raise CommandRejected(f"{' or '.join(names)} is missing: the key's validity is unknown")
    value = data[name]
    if not isinstance(value, str):
        raise CommandRejected(f"{name} must be an ISO 8601 date and time, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandRejected(f"{name} is not an ISO 8601 date and time: {value[:40]!r}") from None
    if moment.tzinfo is None:  # the name says UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _key_count(data: dict) -> int:
    value = data.get("KeyCount", 1)
    if value is None:
        return 1
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_KEYS:
        raise CommandRejected(f"KeyCount must be a whole number from 1 to {MAX_KEYS}; got {value!r}")
    return value


def _name_part(sources: list[dict], plain: str) -> str:
    for src in sources:  # Normalized* (ASCII-folded by Mews) first: safest on a Latin-1 card
        value = src.get("Normalized" + plain)
        if isinstance(value, str) and value.strip():
            return value
    for src in sources:
        value = src.get(plain)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _text(data: dict) -> tuple[str, ...]:
    reservation = part(data, "Reservation")
    customer = part(reservation, "Customer")
    sources = [customer, data]
    name = latin1_text(" ".join(p for p in (_name_part(sources, "FirstName"), _name_part(sources, "LastName")) if p))
    number = data.get("ReservationNumber") or reservation.get("Number")
    lines = [name] if name else []
    if isinstance(number, (str, int)) and not isinstance(number, bool):
        line = latin1_text(f"Res {number}")
        if line != "Res":
            lines.append(line)
    return tuple(lines)


def parse_key_order(data: dict, tz: ZoneInfo) -> KeyOrder:
    """Validate a key-cutter command's Data; CommandRejected with a clear note when unusable."""
    if not isinstance(data, dict):
        raise CommandRejected("the command has no data")
    rooms = _rooms(data)
    start = _utc(data, "ValidityStartUtc", "StartUtc")
    end = _utc(data, "ValidityEndUtc", "EndUtc")
    if end <= start:
        raise CommandRejected(f"the key's validity ends before it starts ({_iso(end)} is not after {_iso(start)})")
    try:
        local_from = start.astimezone(tz).replace(tzinfo=None)
        local_until = end.astimezone(tz).replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise CommandRejected("the key's validity is outside the dates the encoder can take") from None
    if not (2000 <= local_from.year <= 2099 and 2000 <= local_until.year <= 2099):
        raise CommandRejected("the key's validity is outside the years 2000-2099 the encoder can take")
    return KeyOrder(rooms=rooms, start_utc=start, end_utc=end, valid_from=local_from, valid_until=local_until,
                    key_count=_key_count(data), text=_text(data))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
