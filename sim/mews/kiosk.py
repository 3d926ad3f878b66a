"""What a self-service kiosk needs of the simulated platform beyond the spec's forms.

``reservations/getAll/2023-06-06`` (filters ``Numbers``, ``AssignedResourceIds``,
``States``, ``ReservationIds``, a required ``Limitation``; answer ``Reservations``
with ``ScheduledStartUtc``/``ScheduledEndUtc``, ``AccountId``, ``PersonCounts``
and a ``Cursor``) and ``customers/getAll`` (``CustomerIds``, ``Limitation``).
The kiosk cases themselves are in seed.json (relative to now; see their ``_note``),
plus two sim-only reservation fields a seed or a test may set:
``StartRefusal`` (reservations/start answers 403 with this text) and
``StartAnswerLost`` (the start goes through, then the connection drops before
the answer, as a network loss would).
"""

from __future__ import annotations

from datetime import datetime, timezone

from typing import TYPE_CHECKING

from sim.mews import fields
from sim.mews.errors import ApiError

if TYPE_CHECKING:
    from sim.mews.state import Enterprise

ADULT_CATEGORY = "a1d0c0de-0000-4000-8000-000000000001"
CHILD_CATEGORY = "c41d0c0d-0000-4000-8000-000000000002"


class AnswerLost(Exception):
    """The operation was done; the simulator drops the connection instead of answering."""


def limit(body: dict) -> int:
    """Limitation.Count (1..1000), a 400 otherwise."""
    return _limit(body)


def _limit(body: dict) -> int:
    limitation = fields.obj(body, "Limitation")
    count = limitation.get("Count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ApiError(400, "Invalid Limitation.Count: expected a whole number from 1 to 1000.")
    return count


def _reservation_v2(r: dict) -> dict:
    counts = [{"AgeCategoryId": ADULT_CATEGORY, "Count": r.get("AdultCount") or 0}]
    if r.get("ChildCount"):
        counts.append({"AgeCategoryId": CHILD_CATEGORY, "Count": r["ChildCount"]})
    start, end = fields.format_utc(r["StartUtc"]), fields.format_utc(r["EndUtc"])
    return {"Id": r["Id"], "Number": r["Number"], "State": r["State"], "ScheduledStartUtc": start,
            "ScheduledEndUtc": end, "StartUtc": start, "EndUtc": end, "AccountId": r["CustomerId"],
            "AccountType": "Customer", "AssignedResourceId": r.get("AssignedSpaceId"),
            "RequestedResourceCategoryId": r.get("RequestedCategoryId"), "PersonCounts": counts,
            "CreatedUtc": fields.format_utc(r["CreatedUtc"]), "UpdatedUtc": fields.format_utc(r["UpdatedUtc"])}


def operations(ent: "Enterprise") -> dict:
    def get_all_reservations_v2(body: dict) -> dict:
        count = _limit(body)
        filters = {name: fields.text_list(body, name, required=False)
                   for name in ("Numbers", "AssignedResourceIds", "States", "ReservationIds")}
        with ent.lock:
            found = [r for r in ent.reservations.values()
                     if (filters["Numbers"] is None or r["Number"] in filters["Numbers"])
                     and (filters["AssignedResourceIds"] is None
                          or r.get("AssignedSpaceId") in filters["AssignedResourceIds"])
                     and (filters["States"] is None or r["State"] in filters["States"])
                     and (filters["ReservationIds"] is None or r["Id"] in filters["ReservationIds"])]
            return {"Reservations": [_reservation_v2(r) for r in found[:count]], "Cursor": None}

    def get_all_customers(body: dict) -> dict:
        count = _limit(body)
        ids = fields.text_list(body, "CustomerIds")
        with ent.lock:
            found = [ent.customer_json(ent.customers[c]) for c in dict.fromkeys(ids) if c in ent.customers]
            return {"Customers": found[:count], "Cursor": None}

    return {"reservations/getAll/2023-06-06": get_all_reservations_v2, "customers/getAll": get_all_customers}


def check_start(r: dict) -> None:
    """The sim-only start faults of a reservation (called by reservations/start before it starts)."""
    if r.get("StartRefusal"):
        raise ApiError(403, str(r["StartRefusal"]))


def midday_zone() -> str:
    """An Etc/GMT zone where it is about 13:00 now: the seed's now-3h .. now+2h fall on today's local date."""
    offset = 13 - datetime.now(timezone.utc).hour  # local = utc + offset
    offset = max(-12, min(14, offset))
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # Etc signs are inverted
