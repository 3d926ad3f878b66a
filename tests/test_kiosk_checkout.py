"""Check-out flow: by room + name or by the key card, the bill, payment, process, folio, key void."""

import logging
from datetime import timedelta

import pytest

from agent.kiosk.checkin import CheckIn
from agent.kiosk.checkout import CheckOut
from tests.kiosk_harness import Rig, run


@pytest.fixture(params=["2023-06-06", "2017-04-12"])
def rig(tmp_path, request):
    r = Rig(tmp_path, version=request.param, kiosk_extra="void_key_on_checkout = true")
    yield r
    r.close()


def test_settled_stay_checks_out_and_prints_the_folio(rig):
    s = CheckOut(rig.ctx)
    screen = run(s, "find", number="1006", last_name="o'neill")
    assert screen["screen"] == "bill" and screen["data"]["balance"]["Value"] == 0.0
    assert "checkout" in screen["actions"]
    screen = run(s, "checkout")
    assert screen["screen"] == "goodbye" and screen["data"]["printed"] is True
    assert rig.reservation("1006")["State"] == "Processed"
    assert rig.printer.wait_receipts(1)


def test_balance_due_is_paid_then_checked_out_with_the_payment_on_the_folio(rig):
    s = CheckOut(rig.ctx)
    screen = run(s, "find", number="1007", last_name="KHAN")
    assert screen["data"]["balance"] == {"Currency": "GBP", "Value": 95.5}
    assert [i["name"] for i in screen["data"]["items"]][:2] == ["Night 1", "Night 2"]
    screen = run(s, "pay")
    assert screen["screen"] == "goodbye", screen
    assert rig.reservation("1007")["State"] == "Processed" and len(rig.ent.payments) == 1


def test_by_key_card_reads_the_room_and_voids_the_key(rig):
    ci = CheckIn(rig.ctx)  # cut a real key for room 103 first
    run(ci, "find", number="1001", last_name="Walker")
    run(ci, "confirm")
    run(ci, "keys", count=1)
    r = rig.reservation("1001")
    r["EndUtc"] = r["StartUtc"] + timedelta(hours=3)  # departing today, an hour from now
    s = CheckOut(rig.ctx)
    screen = run(s, "read_card")
    assert screen["data"]["card_room"] == "103", screen
    screen = run(s, "find", last_name="walker")
    assert screen["screen"] == "bill", screen
    screen = run(s, "checkout")
    assert screen["screen"] == "goodbye" and screen["data"]["key_voided"] is True
    assert screen["message"]["id"] == "checkout.goodbye.drop_cards"


def test_not_the_last_day_is_refused(rig):
    screen = run(CheckOut(rig.ctx), "find", number="1013", last_name="Angstrom")
    assert screen["message"]["id"] == "refused.checkout_not_today"


def test_no_terminal_balance_due_is_refused_with_a_task(tmp_path):
    rig = Rig(tmp_path, payment=False)
    try:
        screen = run(CheckOut(rig.ctx), "find", number="1007", last_name="Khan")
        assert screen["message"]["id"] == "refused.balance_due"
        assert any("balance due 95.50 GBP" in t["Name"] and "reservation 1007" in t["Name"] for t in rig.ent.tasks)
    finally:
        rig.close()


def test_privacy_no_guest_name_or_email_in_logs_or_state(tmp_path, caplog):
    """A whole check-in with payment and a check-out at info level: the guests' names and e-mails appear
    in no log line and no file under state_dir."""
    caplog.set_level(logging.INFO)
    rig = Rig(tmp_path)
    svc = rig.service()
    try:
        s = svc.open("check-in")
        run(s, "find", number="1002", last_name="Fernandez")
        run(s, "confirm")
        assert run(s, "pay")["screen"] == "keys"
        assert run(s, "keys", count=1)["screen"] == "done"
        s = svc.open("check-out")
        run(s, "find", number="1007", last_name="Khan")
        assert run(s, "pay")["screen"] == "goodbye"
        assert len(rig.ent.payments) == 2
    finally:
        rig.close()
    secrets = set()
    for cid in (rig.reservation("1002")["CustomerId"], rig.reservation("1007")["CustomerId"]):
        c = rig.ent.customers[cid]
        secrets |= {c["LastName"], c["Email"], c["FirstName"]}
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text, "nothing was logged: the test would prove nothing"
    for secret in secrets:
        assert secret not in text
    for path in rig.cfg.state_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret!r} in {path}"
