"""Reading and checking request fields; every problem becomes a 400 with a clear Message."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sim.mews.errors import bad_request

_MISSING = object()


def _type_name(value: Any) -> str:
    return "null" if value is None else {dict: "object", list: "array", bool: "boolean", str: "string"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__)


def text(body: dict, key: str, *, required: bool = True, empty_ok: bool = False) -> str | None:
    """A string field; None when optional and absent or null."""
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"Missing required field {key}.")
        return None
    if not isinstance(value, str):
        raise bad_request(f"Field {key} must be a string, got {_type_name(value)}.")
    if required and not empty_ok and not value.strip():
        raise bad_request(f"Field {key} must not be empty.")
    return value


def boolean(body: dict, key: str) -> bool:
    value = body.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise bad_request(f"Missing required field {key}.")
    if not isinstance(value, bool):
        raise bad_request(f"Field {key} must be a boolean, got {_type_name(value)}.")
    return value


def number(body: dict, key: str, *, required: bool = True) -> float | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"Missing required field {key}.")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"Field {key} must be a number, got {_type_name(value)}.")
    if value != value or value in (float("inf"), float("-inf")):
        raise bad_request(f"Field {key} must be a finite number.")
    return value


def integer(body: dict, key: str, *, default: int, minimum: int = 1) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"Field {key} must be an integer, got {_type_name(value)}.")
    if value < minimum:
        raise bad_request(f"Field {key} must be at least {minimum}.")
    return value


def obj(body: dict, key: str, *, required: bool = True) -> dict | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"Missing required field {key}.")
        return None
    if not isinstance(value, dict):
        raise bad_request(f"Field {key} must be an object, got {_type_name(value)}.")
    return value


def text_list(body: dict, key: str, *, required: bool = True) -> list[str] | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"Missing required field {key}.")
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"Field {key} must be an array of strings.")
    return value


def utc(body: dict, key: str, *, required: bool = True) -> datetime | None:
    """An ISO 8601 date-time; a time without offset is taken as UTC."""
    value = text(body, key, required=required)
    if value is None:
        return None
    return parse_utc(value, key)


def parse_utc(value: str, key: str = "value") -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request(f"Field {key} must be a date-time in ISO 8601 format (e.g. 2016-01-01T00:00:00Z).") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
