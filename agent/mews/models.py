"""Typed models of the Mews Connector API, parsed once from JSON.

Unknown fields are tolerated; both the older ``Space*`` and the newer
``Resource*`` names are accepted. Parsing raises only ``ModelError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ModelError(ValueError):
    """A JSON object does not have the shape the spec promises."""


def _obj(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ModelError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _str(d: dict, key: str, what: str, required: bool = True) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise ModelError(f"{what}: missing {key}")
        return None
    if not isinstance(value, str):
        raise ModelError(f"{what}: {key} must be a string")
    return value


COMMAND_STATES = ("Pending", "Received", "Processing", "Processed", "Cancelled", "Error")
FINAL_STATES = ("Processed", "Cancelled", "Error")


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    type: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> "Device":
        d = _obj(value, "Device")
        return cls(id=_str(d, "Id", "Device"), name=_str(d, "Name", "Device", required=False) or "",
                   type=_str(d, "Type", "Device", required=False))


@dataclass(frozen=True)
class Command:
    """A device command as returned by ``commands/getAllActive``."""

    id: str
    state: str
    created_utc: str
    device: Device
    data: dict = field(default_factory=dict, repr=False)  # may hold secrets (key cutter passwords)
    creator: dict | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, value: Any) -> "Command":
        d = _obj(value, "Command")
        data = d.get("Data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ModelError("Command: Data must be an object")
        creator = d.get("Creator")
        # Only Id is indispensable: a command we can name but not understand must
        # still end in Error on the platform instead of being skipped forever.
        device = d.get("Device")
        try:
            device = Device.from_json(device)
        except ModelError:
            device = Device(id="", name="", type=None)
        return cls(
            id=_str(d, "Id", "Command"),
            state=_str(d, "State", "Command", required=False) or "Pending",
            created_utc=_str(d, "CreatedUtc", "Command", required=False) or "",
            device=device,
            data=data,
            creator=creator if isinstance(creator, dict) else None,
        )
