"""The booking code a guest's confirmation e-mail carries as a QR code (Mews' QrCodeData ids).

Accepted forms, as readers deliver them: a JSON object (``{"ReservationId": ..,
"GroupId": .., "CustomerId": ..}``, key case ignored), ``key=value`` pairs separated
by ``;`` or ``&``, or a URL whose query holds them. Ids must look like ids (no
spaces, at most 64 characters); anything else is not a booking code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

__all__ = ["BookingCode", "parse_booking_code"]

_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_KEYS = {"reservationid": "reservation_id", "groupid": "group_id", "reservationgroupid": "group_id",
         "customerid": "customer_id"}


@dataclass(frozen=True)
class BookingCode:
    reservation_id: str = ""
    group_id: str = ""
    customer_id: str = ""


def _pairs(text: str) -> dict:
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    if "://" in text:
        text = urlsplit(text).query
    return dict(parse_qsl(text.replace(";", "&"), keep_blank_values=False))


def parse_booking_code(text: str) -> BookingCode | None:
    """The ids a scanned code carries; None when it is not a booking code (or names no reservation)."""
    found = {}
    for key, value in _pairs(text or "").items():
        name = _KEYS.get(str(key).replace("_", "").lower())
        if name and isinstance(value, str) and _ID.match(value.strip()):
            found[name] = value.strip()
    if not found.get("reservation_id"):
        return None
    return BookingCode(**found)
