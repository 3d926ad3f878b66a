"""Websocket event payloads, in the newer (Resource) or older (Space) naming of the spec."""

from __future__ import annotations

import uuid

from sim.mews.fields import format_utc


def device_command(command_id: str, state: str) -> dict:
    return {"Type": "DeviceCommand", "Id": command_id, "State": state}


def reservation(r: dict, space_events: bool) -> dict:
    key = "AssignedSpaceId" if space_events else "AssignedResourceId"
    return {"Type": "Reservation", "Id": r["Id"], "State": r["State"], "StartUtc": format_utc(r["StartUtc"]),
            "EndUtc": format_utc(r["EndUtc"]), key: r.get("AssignedSpaceId")}


def space(s: dict, space_events: bool) -> dict:
    return {"Type": "Space" if space_events else "Resource", "Id": s["Id"], "State": s["State"]}


def price_update(start_utc: str, end_utc: str, rate_id: str | None, category_id: str | None,
                 space_events: bool) -> dict:
    key = "SpaceCategoryId" if space_events else "ResourceCategoryId"
    return {"Type": "PriceUpdate", "Id": str(uuid.uuid4()), "StartUtc": start_utc, "EndUtc": end_utc,
            "RateId": rate_id, key: category_id}
