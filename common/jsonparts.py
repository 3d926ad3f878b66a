"""Reading nested JSON objects from the wire without trusting their shape."""

from __future__ import annotations

from typing import Any


def part(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """The JSON object under ``key``, or {} when it is absent or not an object."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}
