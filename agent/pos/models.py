"""ConcertPOS wire models (command, event, error, broadcast) and the records they carry.

Parsed once at the boundary into typed values; every record keeps ``raw`` so
fields the spec does not fix pass through untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from agent.pos.errors import InvalidReply


@dataclass(frozen=True)
class EventMessage:
    """A reply to a request: ``event`` is named after the command (payitems -> payitem)."""

    event: str
    parameters: dict


@dataclass(frozen=True)
class ErrorMessage:
    error: str
    code: Any


@dataclass(frozen=True)
class BroadcastMessage:
    """Sent by admins to every client of the instance, e.g. ``updatepos``."""

    message: str
    parameters: dict


@dataclass(frozen=True)
class CommandMessage:
    """Documented as currently unused; parsed so it is logged, not misread."""

    command: str
    result: Any


Message = EventMessage | ErrorMessage | BroadcastMessage | CommandMessage


def parse_message(text: str | bytes) -> Message:
    """Parse one gateway frame into its model; raises InvalidReply for anything else."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        raise InvalidReply(f"the gateway sent a frame that is not JSON: {_clip(text)}") from None
    if not isinstance(data, dict):
        raise InvalidReply(f"the gateway sent JSON that is not an object: {_clip(text)}")
    kind = data.get("type")
    result = data.get("result")
    if kind == "command":
        return CommandMessage(str(data.get("command") or ""), result)
    if not isinstance(result, dict):
        raise InvalidReply(f"the gateway sent a {kind!r} message without a result object: {_clip(text)}")
    params = result.get("parameters")
    params = params if isinstance(params, dict) else {}
    if kind == "event" and isinstance(result.get("event"), str):
        return EventMessage(result["event"], params)
    if kind == "error" and isinstance(result.get("error"), str):
        return ErrorMessage(result["error"], result.get("code"))
    if kind == "broadcast" and isinstance(result.get("message"), str):
        return BroadcastMessage(result["message"], params)
    raise InvalidReply(f"the gateway sent an unknown message model: {_clip(text)}")


def _clip(text, limit: int = 120) -> str:
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return s if len(s) <= limit else s[:limit] + "…"


def money(value) -> Decimal:
    """A price or amount from the wire as Decimal (0 when missing or malformed)."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _flag(value) -> bool:
    """Booleans arrive as true/false, 1/0 or "1"/"0"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def parse_time(value) -> datetime | None:
    """``2020-05-13T15:27:02.000Z`` -> aware UTC datetime (None when absent or malformed)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    price: Decimal
    deposit: bool  # the deposit price is charged on top, per unit
    crew_blocked: bool = False
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, d: dict) -> Product:
        return cls(_int(d.get("ID")), str(d.get("ProductName") or f"product {d.get('ID')}"),
                   money(d.get("Price")), _flag(d.get("Deposit")), _flag(d.get("CrewBlocked")), dict(d))


@dataclass(frozen=True)
class PaymentMethod:
    id: int
    name: str
    color: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, d: dict) -> PaymentMethod:
        return cls(_int(d.get("ID")), str(d.get("Payment") or f"method {d.get('ID')}"),
                   str(d.get("color") or ""), dict(d))


@dataclass(frozen=True)
class Deposit:
    price: Decimal
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, value) -> Deposit:
        """``Deposit`` is an object with ``Price``; a bare number is accepted too."""
        if isinstance(value, dict):
            return cls(money(value.get("Price")), dict(value))
        return cls(money(value), {"Price": value})


@dataclass(frozen=True)
class License:
    active: bool
    name: str = ""
    type: str = ""
    expires: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, d) -> License:
        d = d if isinstance(d, dict) else {}
        # the reference client treats only Active == "0" as inactive
        active = not (str(d.get("Active")) in ("0", "False", "false") or d.get("Active") is False)
        return cls(active, str(d.get("Name") or ""), str(d.get("Type") or ""), d.get("Expires"), dict(d))

    def public(self) -> dict:
        """The license without its key (for output and logs)."""
        out = dict(self.raw)
        if out.get("LicenseKey"):
            key = str(out["LicenseKey"])
            out["LicenseKey"] = "…" + key[-4:] if len(key) > 8 else "***"
        return out


@dataclass(frozen=True)
class Status:
    status: str
    message: str

    @classmethod
    def from_wire(cls, d: dict) -> Status:
        return cls(str(d.get("status") or ""), str(d.get("message") or ""))


@dataclass(frozen=True)
class PointOfSale:
    id: int
    name: str
    enabled: bool = True
    has_password: bool = False
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, d: dict) -> PointOfSale:
        return cls(_int(d.get("ID")), str(d.get("PointOfSale") or d.get("Name") or f"POS {d.get('ID')}"),
                   _flag(d.get("enabled", True)), _flag(d.get("password")), dict(d))


@dataclass(frozen=True)
class Transaction:
    id: int
    payment_id: int
    pos_id: int
    product_id: int
    amount_product: int
    amount_money: Decimal
    timestamp: datetime | None
    hash: str = ""
    note: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, d: dict) -> Transaction:
        return cls(_int(d.get("ID")), _int(d.get("Payment_ID")), _int(d.get("PointOfSaleID")),
                   _int(d.get("Product_ID")), _int(d.get("AmountProduct")), money(d.get("AmountMoney")),
                   parse_time(d.get("timestamp")), str(d.get("hash") or ""), d.get("Note"), dict(d))


def records(params: dict, key: str, cls) -> list:
    """A list of records under ``key``; entries that are not objects are skipped."""
    items = params.get(key)
    if not isinstance(items, list):
        raise InvalidReply(f"the gateway reply has no {key} list")
    return [cls.from_wire(d) for d in items if isinstance(d, dict)]
