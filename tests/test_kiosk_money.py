"""Issue 21, money: one charge per balance, recorded as the terminal approved it, never lost by a guest leaving.

Each test plays a guest or a platform against the real flow, the simulated terminal and sim mews with the
runtime's own outbox delivering the payment records.
"""

from __future__ import annotations

import time

import pytest

from agent.kiosk import pay
from agent.kiosk.checkin import CheckIn
from agent.kiosk.checkout import CheckOut
from tests.kiosk_harness import Rig, run, wait_for

RECORDS = ("payments/addCreditCard", "payments/addExternal")  # the seed's and today's record


@pytest.fixture
def rig(tmp_path, monkeypatch):
    monkeypatch.setattr(pay, "RECORD_WAIT", 0.5)  # the screen gives up waiting for the record quickly
    r = Rig(tmp_path)
    yield r
    r.close()


def approvals(rig) -> list[dict]:
    return [c for c in rig.terminal.charges.values() if c.get("status") == "approved"]


def platform_down_for_records(rig):
    rig.sim.set_faults(failing_operations={op: 503 for op in RECORDS})


def platform_back(rig):
    rig.sim.set_faults(failing_operations={})




# ---- 1. an approval the platform has not recorded yet counts against the balance ----------------------

def test_checkout_start_over_while_the_record_is_slow_never_charges_twice(rig):
    platform_down_for_records(rig)
    first = CheckOut(rig.ctx)
    screen = run(first, "find", number="1007", last_name="Khan")
    assert screen["data"]["balance"] == {"Currency": "GBP", "Value": 95.5}
    screen = run(first, "pay")
    assert screen["screen"] == "failed", screen  # the screen gave up waiting for the record
    first.cancel()  # "Start over"
    again = CheckOut(rig.ctx)
    screen = run(again, "find", number="1007", last_name="Khan")
    assert len(approvals(rig)) == 1
    assert "pay" not in screen["actions"], screen  # nothing left to pay: the approval is on its way
    if screen["screen"] == "bill":
        assert screen["data"]["balance"]["Value"] == 0.0
        run(again, "checkout")
    assert len(approvals(rig)) == 1 and rig.terminal.charge_requests == 1
    platform_back(rig)
    wait_for(lambda: len(rig.ent.payments) == 1, what="the record delivered")
    assert rig.ent.balance(rig.reservation("1007")["CustomerId"]) == 0.0


def test_checkin_start_over_after_a_refused_start_never_charges_twice(rig):
    platform_down_for_records(rig)
    rig.reservation("1002")["StartRefusal"] = "The reservation must be paid before check-in."
    first = CheckIn(rig.ctx)
    run(first, "find", number="1002", last_name="Fernandez")
    screen = run(first, "confirm")
    assert screen["screen"] == "payment"
    screen = run(first, "pay")
    assert screen["screen"] == "refused", screen
    first.cancel()
    again = CheckIn(rig.ctx)
    run(again, "find", number="1002", last_name="Fernandez")
    screen = run(again, "confirm")
    assert screen["screen"] != "payment", screen
    assert rig.terminal.charge_requests == 1 and len(approvals(rig)) == 1
    platform_back(rig)
    wait_for(lambda: len(rig.ent.payments) == 1, what="the record delivered")


def test_an_agent_restart_between_approval_and_record_still_counts_the_payment(rig, tmp_path):
    platform_down_for_records(rig)
    first = CheckOut(rig.ctx)
    run(first, "find", number="1007", last_name="Khan")
    run(first, "pay")
    # The unit restarts: a new store and a new kiosk over the same state folder, the record still queued.
    rig.sender.stop(0.1)
    rig.store.close()
    rig.reopen_store()
    again = CheckOut(rig.ctx)
    screen = run(again, "find", number="1007", last_name="Khan")
    assert "pay" not in screen["actions"], screen
    assert rig.terminal.charge_requests == 1
    platform_back(rig)
    wait_for(lambda: len(rig.ent.payments) == 1, what="the record delivered after the restart")


def test_a_charge_cut_off_by_a_crash_is_settled_with_the_terminal_at_start(rig):
    """The unit dies after the terminal approved and before anything was recorded."""
    stay_customer = rig.reservation("1007")["CustomerId"]
    rig.ctx.ledger.begin("K1007-dead0001", "1007", stay_customer, pay.Decimal("95.50"), "GBP")
    rig.terminal.charges["K1007-dead0001"] = rig.terminal._approval("95.50", "GBP")
    rig.kiosk_restarted()
    wait_for(lambda: len(rig.ent.payments) == 1, what="the approval found at start recorded")
    assert any("1007" in t["Name"] and "95.50 GBP" in t["Name"] for t in rig.ent.tasks), rig.ent.tasks
    screen = run(CheckOut(rig.ctx), "find", number="1007", last_name="Khan")
    assert screen["data"]["balance"]["Value"] == 0.0 and rig.terminal.charge_requests == 0


# ---- 2. what is recorded is what the terminal approved ---------------------------------------------------

def test_a_part_approval_is_recorded_as_approved_and_the_rest_is_asked_for(rig):
    rig.terminal.mode = "partial"
    s = CheckIn(rig.ctx)
    run(s, "find", number="1002", last_name="Fernandez")
    run(s, "confirm")
    screen = run(s, "pay")
    assert screen["screen"] == "payment", screen
    assert screen["data"]["amount"] == {"Currency": "GBP", "Value": 350.0}
    assert screen["message"]["id"] == "payment.partial"
    assert rig.reservation("1002")["State"] == "Confirmed"  # no keys for an unpaid balance
    wait_for(lambda: len(rig.ent.payments) == 1, what="the part payment recorded")
    customer = rig.reservation("1002")["CustomerId"]
    assert rig.ent.balance(customer) == 350.0  # 10.00 recorded, not 360.00
    screen = run(s, "pay")  # the guest pays the rest with another card
    assert screen["screen"] == "keys", screen
    wait_for(lambda: rig.ent.balance(customer) == 0.0, what="the rest recorded")


def test_a_part_approval_then_start_over_tells_staff_the_reservation_and_the_amount(rig):
    rig.terminal.mode = "partial"
    s = CheckIn(rig.ctx)
    run(s, "find", number="1002", last_name="Fernandez")
    run(s, "confirm")
    run(s, "pay")
    s.cancel()
    assert any("1002" in t["Name"] and "350.00 GBP" in t["Name"] for t in rig.ent.tasks), rig.ent.tasks
    assert rig.reservation("1002")["State"] == "Confirmed"


def test_an_approval_in_another_currency_is_recorded_as_such_and_ends_calmly(rig):
    rig.terminal.mode = "currency"
    s = CheckOut(rig.ctx)
    run(s, "find", number="1007", last_name="Khan")
    screen = run(s, "pay")
    assert screen["screen"] in ("refused", "failed"), screen
    assert rig.reservation("1007")["State"] == "Started"
    wait_for(lambda: len(rig.ent.payments) == 1, what="the payment recorded")
    item = next(i for i in rig.ent.items if i["Id"] == rig.ent.payments[0]["ItemId"])
    assert item["Amount"] == {"Currency": "EUR", "Tax": None, "TaxRate": None, "Value": -95.5}
    assert any("1007" in t["Name"] and "EUR" in t["Name"] for t in rig.ent.tasks), rig.ent.tasks


# ---- 3. leaving while the terminal is busy never loses a payment -----------------------------------------

def test_start_over_while_the_card_is_already_tapped_records_it_and_carries_on(rig):
    rig.terminal.mode = "late"  # approves even after an abort
    s = CheckIn(rig.ctx)
    run(s, "find", number="1002", last_name="Fernandez")
    run(s, "confirm")
    s.act("pay", {})
    time.sleep(0.2)
    assert s.cancel() is False  # the session cannot end before the terminal's final answer
    screen = s.wait_idle(30)
    assert rig.terminal.aborts == 1
    assert screen["screen"] == "keys", screen  # paid: the check-in goes on
    wait_for(lambda: len(rig.ent.payments) == 1, what="the late approval recorded")


def test_start_over_while_the_guest_is_at_the_terminal_aborts_and_ends(rig):
    rig.terminal.mode = "slow"
    s = CheckIn(rig.ctx)
    run(s, "find", number="1002", last_name="Fernandez")
    run(s, "confirm")
    s.act("pay", {})
    time.sleep(0.2)
    s.cancel()
    screen = s.wait_idle(30)
    assert screen["screen"] in ("refused", "ended"), screen
    assert approvals(rig) == [] and rig.ent.payments == []
    assert rig.reservation("1002")["State"] == "Confirmed"


# ---- a record that got through is never sent again (its answer lost, or the agent killed before the row went)


def test_a_payment_record_whose_answer_was_lost_is_recorded_once(rig):
    rig.sim.set_faults(losing_operations={op: 1 for op in RECORDS})  # carried out, then the connection drops
    s = CheckOut(rig.ctx)
    run(s, "find", number="1007", last_name="Khan")
    run(s, "pay")
    wait_for(lambda: not rig.store.outbox.next_reports("call"), what="the record row gone from the outbox")
    time.sleep(0.5)  # a second send would land now
    assert len(rig.ent.payments) == 1, rig.ent.payments
    assert rig.ent.balance(rig.reservation("1007")["CustomerId"]) == 0.0


def test_a_record_delivered_just_before_a_kill_is_not_sent_again_after_the_restart(rig):
    rig.sender.stop(0.1)  # the agent is killed the moment the platform has taken the record
    s = CheckOut(rig.ctx)
    run(s, "find", number="1007", last_name="Khan")
    s.act("pay", {})
    wait_for(lambda: rig.store.outbox.next_reports("call"), what="the record queued")
    (row,) = rig.store.outbox.next_reports("call")
    rig.store.outbox.sending(row.id)  # what the sender notes before its request leaves
    rig.client.call(row.payload["Operation"], row.payload["Body"])  # ... and the platform took it
    assert len(rig.ent.payments) == 1
    rig.store.close()
    rig.reopen_store()  # restart: the row is still there
    wait_for(lambda: not rig.store.outbox.next_reports("call"), what="the row settled after the restart")
    time.sleep(0.3)
    assert len(rig.ent.payments) == 1, rig.ent.payments
