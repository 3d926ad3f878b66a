"""Issue 23 item 9: confirming the guest's details writes to Mews only what the guest changed.

Against the Mews simulator's request log (record=True): no customers/update for unchanged details,
and an update never clears a field the screen does not show or the guest did not touch.
"""

from __future__ import annotations

import pytest

from agent.kiosk.checkin import CheckIn
from tests.kiosk_harness import Rig, run


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def walker(rig):
    return rig.ent.customers[rig.reservation("1001")["CustomerId"]]


def updates(rig):
    return [e["request"] for e in rig.sim.exchanges if e["operation"] == "customers/update"]


def as_the_screen_sends(guest):
    """The details form as the UI posts it: every shown field, empty where the profile has none."""
    a = guest["address"]
    return {"email": guest["email"] or "", "phone": guest["phone"] or "", "nationality": guest["nationality"] or "",
            "address": {k: a[k] or "" for k in ("line1", "city", "postal_code", "country")}}


def details(rig, number, name):
    s = CheckIn(rig.ctx)
    screen = run(s, "find", number=number, last_name=name)
    assert screen["screen"] == "details", screen
    return s, screen["data"]["guest"]


def test_unchanged_details_send_no_update(rig):
    walker(rig)["Address"]["Line2"] = "Flat 2"
    s, guest = details(rig, "1001", "Walker")
    screen = run(s, "confirm", **as_the_screen_sends(guest))
    assert screen["screen"] == "keys", screen
    assert updates(rig) == []


def test_a_guest_without_an_address_who_adds_none_sends_no_update(rig):
    s, guest = details(rig, "1002", "Fernández")
    run(s, "confirm", **as_the_screen_sends(guest))
    assert updates(rig) == []


def test_a_change_keeps_the_fields_the_guest_did_not_touch(rig):
    walker(rig)["Address"]["Line2"] = "Flat 2"
    s, guest = details(rig, "1001", "Walker")
    sent = as_the_screen_sends(guest)
    sent["phone"] = "+44 1904 000000"
    sent["address"]["city"] = ""  # left empty on the screen: keep what Mews has
    run(s, "confirm", **sent)
    (update,) = updates(rig)
    assert update["Phone"] == "+44 1904 000000"
    stored = walker(rig)
    assert stored["Phone"] == "+44 1904 000000" and stored["Email"] == "alice.walker@example.com"
    assert stored["Address"]["Line2"] == "Flat 2" and stored["Address"]["City"] == "York", stored["Address"]
