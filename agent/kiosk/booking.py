"""Finding a guest's reservation in either reservations/getAll form, as one ``Stay``.

``mews.reservations_version`` picks the form: ``2023-06-06`` (``Numbers`` /
``AssignedResourceIds``, customers from ``customers/getAll``) or ``2017-04-12``
(the seed's window form with embedded customers, filtered locally). Reservation
group names hold last names: they are never read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from agent.mews.errors import InvalidResponse
from agent.mews.models import Customer, Space


@dataclass(frozen=True)
class Stay:
    id: str
    number: str
    state: str
    start_utc: datetime
    end_utc: datetime
    customer: Customer = field(repr=False)
    space_id: str | None
    adults: int
    children: int


def _utc(text: str | None, number: str | None, key: str) -> datetime:
    """A reservation's date; a reservation without it cannot be stayed in: the platform's answer is wrong."""
    if not text:
        raise InvalidResponse(f"reservation {number or '?'} has no {key}")
    return utc(text)


def utc(text: str) -> datetime:
    """A platform time ("...Z", an offset, or none: UTC) as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Bookings:
    def __init__(self, client, version: str, clock):
        self.client, self.version, self.clock = client, version, clock

    def by_number(self, number: str, states=("Confirmed",)) -> Stay | None:
        if self.version == "2023-06-06":
            return self._first(self.client.get_reservations_v2(numbers=[number], states=list(states), limit=5))
        now = self.clock()
        found = self.client.get_all_reservations(now - timedelta(days=2), now + timedelta(days=2), list(states))
        return next((self._v1(r) for r in found.reservations if r.number == number and r.customer), None)

    def by_space(self, space_id: str, states=("Started",)) -> list[Stay]:
        if self.version == "2023-06-06":
            found = self.client.get_reservations_v2(resource_ids=[space_id], states=list(states), limit=10)
            owners = sorted({r.account_id for r in found if r.account_id})
            customers = {c.id: c for c in self.client.get_customers(owners)} if owners else {}
            return [self._v2(r, customers[r.account_id]) for r in found if r.account_id in customers]
        now = self.clock()
        found = self.client.get_all_reservations(now - timedelta(days=1), now + timedelta(minutes=1), list(states))
        return [self._v1(r) for r in found.reservations if r.assigned_space_id == space_id and r.customer]

    def reread(self, stay: Stay) -> str | None:
        """The reservation's state now (after a lost answer)."""
        if self.version == "2023-06-06":
            found = self.client.get_reservations_v2(numbers=[stay.number], limit=5)
        else:
            found = self.client.get_all_reservations(stay.start_utc, stay.end_utc, ["Confirmed", "Started"]).reservations
        return next((r.state for r in found if r.id == stay.id), None)

    def _first(self, found) -> Stay | None:
        if not found:
            return None
        r = found[0]
        customers = self.client.get_customers([r.account_id]) if r.account_id else []
        return self._v2(r, customers[0]) if customers else None

    @staticmethod
    def _v2(r, customer) -> Stay:
        # Age categories are the enterprise's own ids: every person counts (key limit, guest count).
        adults = r.person_count
        return Stay(id=r.id, number=r.number or "", state=r.state or "",
                    start_utc=_utc(r.scheduled_start_utc, r.number, "ScheduledStartUtc"),
                    end_utc=_utc(r.scheduled_end_utc, r.number, "ScheduledEndUtc"), customer=customer,
                    space_id=r.assigned_resource_id,
                    adults=max(adults, 1), children=0)

    @staticmethod
    def _v1(r) -> Stay:
        return Stay(id=r.id, number=r.number or "", state=r.state or "",
                    start_utc=_utc(r.start_utc, r.number, "StartUtc"), end_utc=_utc(r.end_utc, r.number, "EndUtc"),
                    customer=r.customer, space_id=r.assigned_space_id,
                    adults=max(r.adult_count or 1, 1), children=r.child_count or 0)


def space_named(spaces: list[Space], number: str) -> Space | None:
    wanted = number.strip().casefold()
    return next((s for s in spaces if (s.number or "").casefold() == wanted), None)
