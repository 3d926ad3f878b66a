"""Booking QR codes (issue 26 item 1): the ids a confirmation e-mail's code carries, in the forms readers deliver."""

import pytest

from agent.documents.booking import BookingCode, parse_booking_code

RID, GID, CID = "3b6ad0d2-5d1d-4b3e-9d1f-0c1f5a0f2b11", "9d1f0c1f-5a0f-2b11-3b6a-d0d25d1d4b3e", "c0ffee00-0000-4000-8000-000000000001"


@pytest.mark.parametrize("text", [
    f'{{"ReservationId":"{RID}","GroupId":"{GID}","CustomerId":"{CID}"}}',
    f'{{"reservationId":"{RID}","reservationGroupId":"{GID}","customerId":"{CID}"}}',
    f"ReservationId={RID};GroupId={GID};CustomerId={CID}",
    f"https://hotel.example/checkin?reservationId={RID}&groupId={GID}&customerId={CID}",
])
def test_every_form_gives_the_ids(text):
    assert parse_booking_code(text) == BookingCode(RID, GID, CID)


@pytest.mark.parametrize("text", ["", "hello", "{not json", '{"GroupId": "x"}', '["ReservationId"]',
                                  '{"ReservationId": "a b"}', '{"ReservationId": 5}',
                                  "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "ReservationId=" + "x" * 65])
def test_anything_else_is_not_a_booking_code(text):
    assert parse_booking_code(text) is None
