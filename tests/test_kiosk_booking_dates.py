"""A reservation the platform sends without its dates is a bad answer, never a stay dated "now"."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agent.kiosk.booking import Bookings
from agent.mews.errors import InvalidResponse
from agent.mews.models import Customer, Reservation, ReservationV2

CUSTOMER = Customer.from_json({"Id": "c1", "LastName": "Holder"})


def test_a_seed_reservation_without_its_dates_is_an_invalid_response():
    r = Reservation.from_json({"Id": "r1", "Number": "1001", "State": "Confirmed", "EndUtc": "2026-12-07T10:00:00Z",
                               "Customer": {"Id": "c1", "LastName": "Holder"}})
    with pytest.raises(InvalidResponse, match="1001.*StartUtc"):
        Bookings._v1(r)


def test_a_current_reservation_without_its_dates_is_an_invalid_response():
    r = ReservationV2.from_json({"Id": "r1", "Number": "1002", "State": "Confirmed",
                                 "ScheduledStartUtc": "2026-12-06T14:00:00Z"})
    with pytest.raises(InvalidResponse, match="1002.*EndUtc"):
        Bookings._v2(r, CUSTOMER)


def test_a_reservation_with_its_dates_is_a_stay_in_utc():
    r = Reservation.from_json({"Id": "r1", "Number": "1003", "State": "Confirmed", "StartUtc": "2026-12-06T14:00:00",
                               "EndUtc": "2026-12-07T10:00:00Z", "Customer": {"Id": "c1", "LastName": "Holder"}})
    stay = Bookings._v1(r)
    assert stay.start_utc == datetime(2026, 12, 6, 14, tzinfo=timezone.utc)
    assert stay.end_utc == datetime(2026, 12, 7, 10, tzinfo=timezone.utc)
