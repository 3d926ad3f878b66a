"""Typed websocket events: DeviceCommand, Reservation, Resource (older: Space), PriceUpdate.

``parse_message`` takes one websocket frame. Unknown event types and fields are
tolerated and counted; a malformed frame raises ``EventFormatError`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from agent.mews.errors import MewsError


class EventFormatError(MewsError, ValueError):
    """A frame that is not ``{"Events": [...]}``."""


def _opt_str(d: dict, *keys: str) -> str | None:
    for k in keys:
        v = d.get(k)
        if isinstance(v, str):
            return v
    return None


@dataclass(frozen=True)
class DeviceCommandEvent:
    id: str
    state: str


@dataclass(frozen=True)
class ReservationEvent:
    id: str
    state: str | None
    start_utc: str | None
    end_utc: str | None
    assigned_resource_id: str | None  # AssignedResourceId or the older AssignedSpaceId


@dataclass(frozen=True)
class ResourceEvent:
    id: str
    state: str | None
    naming: str = "Resource"  # "Space" when the platform speaks the older spec


@dataclass(frozen=True)
class PriceUpdateEvent:
    id: str
    start_utc: str | None
    end_utc: str | None
    rate_id: str | None
    resource_category_id: str | None  # ResourceCategoryId or the older SpaceCategoryId


@dataclass(frozen=True)
class UnknownEvent:
    type: str
    raw: dict = field(repr=False, default_factory=dict)


Event = DeviceCommandEvent | ReservationEvent | ResourceEvent | PriceUpdateEvent | UnknownEvent


def parse_event(d: dict) -> Event | None:
    """One event object -> typed event; None when it lacks even an Id."""
    if not isinstance(d, dict):
        return None
    etype = d.get("Type")
    eid = d.get("Id")
    if not isinstance(etype, str):
        return None
    if not isinstance(eid, str):
        return UnknownEvent(type=etype, raw=d)
    if etype == "DeviceCommand":
        state = d.get("State")
        return DeviceCommandEvent(id=eid, state=state if isinstance(state, str) else "")
    if etype == "Reservation":
        return ReservationEvent(id=eid, state=_opt_str(d, "State"), start_utc=_opt_str(d, "StartUtc"),
                                end_utc=_opt_str(d, "EndUtc"),
                                assigned_resource_id=_opt_str(d, "AssignedResourceId", "AssignedSpaceId"))
    if etype in ("Resource", "Space"):
        return ResourceEvent(id=eid, state=_opt_str(d, "State"), naming=etype)
    if etype == "PriceUpdate":
        return PriceUpdateEvent(id=eid, start_utc=_opt_str(d, "StartUtc"), end_utc=_opt_str(d, "EndUtc"),
                                rate_id=_opt_str(d, "RateId"),
                                resource_category_id=_opt_str(d, "ResourceCategoryId", "SpaceCategoryId"))
    return UnknownEvent(type=etype, raw=d)


def parse_message(text: str | bytes) -> list[Event]:
    """A websocket frame -> its events (entries that are not objects with a Type are skipped)."""
    return parse_frame(text)[0]


def parse_frame(text: str | bytes) -> tuple[list[Event], int]:
    """A websocket frame -> (its events, how many entries were malformed and skipped).

    A nested entry is malformed when it is not an object with a string Type, or a
    DeviceCommand without a string Id or State (we could not act on it).
    """
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as e:
        raise EventFormatError(f"not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Events"), list):
        raise EventFormatError('expected {"Events": [...]}')
    events, malformed = [], 0
    for raw in data["Events"]:
        ev = parse_event(raw)
        if ev is None or (isinstance(ev, UnknownEvent) and ev.type == "DeviceCommand") or (
                isinstance(ev, DeviceCommandEvent) and not ev.state):
            malformed += 1
        if ev is not None:
            events.append(ev)
    return events, malformed


def to_json(ev: Event) -> dict:
    """An event back to plain JSON (for the event log and forwarding)."""
    if isinstance(ev, UnknownEvent):
        return dict(ev.raw)
    names = {DeviceCommandEvent: "DeviceCommand", ReservationEvent: "Reservation",
             PriceUpdateEvent: "PriceUpdate"}
    out = {"Type": ev.naming if isinstance(ev, ResourceEvent) else names[type(ev)]}
    for k, v in ev.__dict__.items():
        if k == "naming" or v is None:
            continue
        out["".join(p.capitalize() for p in k.split("_"))] = v
    return out
