"""The kiosk's document step and booking QR lookup (issue 26 item 4), over the sim, the pty reader and the runtime.

Booking 1001 (arriving today) is made Dieter Müller's, German; his passport reads MUELLER (ICAO transliteration)
and the outbox takes the document to the platform.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from agent.kiosk.checkin import CheckIn
from sim.reader import specimens
from tests.agent_harness import wait_until
from tests.kiosk_harness import run
from tests.reader_harness import NUMBER, ReaderRig

@pytest.fixture
def rig(tmp_path):
    r = ReaderRig(tmp_path)
    yield r
    r.close()


def mueller(**kw):
    return specimens.passport("MUELLER", "DIETER", number=NUMBER, country="D", birth=dt.date(1970, 5, 2), **kw)


def test_a_guest_checks_in_with_a_passport_that_matches_the_booking(rig):
    s = CheckIn(rig.ctx)
    screen = run(s, "find", number="1001", last_name="Müller")
    assert screen["screen"] == "document" and "scan_document" in screen["actions"], screen
    s.act("scan_document", {})
    screen = rig.present_when_asked(s, mueller(expiry=dt.date(2031, 5, 20)))
    assert screen["screen"] == "document_confirm", screen
    assert screen["data"]["document"] == {"type": "Passport", "name": "DIETER MUELLER", "nationality": "DE",
                                          "expiry": "2031-05-20", "number": "••••••K77"}
    assert NUMBER not in json.dumps(screen)  # the screen never shows the whole number
    screen = run(s, "confirm_document")
    assert screen["screen"] == "details", screen
    wait_until(lambda: rig.store.outbox.depth() == (0, 0), what="the document is delivered")
    docs = rig.customer("1001")["Documents"]
    assert [(d["Type"], d["Number"], d["ExpirationDate"]) for d in docs if d["Number"] == NUMBER] == [
        ("Passport", NUMBER, "2031-05-20")]
    assert rig.customer("1001")["BirthDate"] == "1970-05-02"


def test_a_document_of_someone_else_is_refused_and_the_guest_may_try_again(rig):
    s = CheckIn(rig.ctx)
    run(s, "find", number="1001", last_name="Muller")
    s.act("scan_document", {})
    screen = rig.present_when_asked(s, specimens.passport("WALKER", "ALICE", number=NUMBER, country="GBR"))
    assert (screen["screen"], screen["message"]["id"]) == ("document", "checkin.document.mismatch")
    assert s.document is None and rig.store.outbox.depth() == (0, 0)
    s.act("scan_document", {})
    assert rig.present_when_asked(s, mueller())["screen"] == "document_confirm"


def test_an_expired_document_is_refused_with_a_staff_task_and_nothing_sent(rig):
    s = CheckIn(rig.ctx)
    run(s, "find", number="1001", last_name="Müller")
    s.act("scan_document", {})
    screen = rig.present_when_asked(s, mueller(expiry=dt.date(2020, 1, 1)))
    assert (screen["screen"], screen["message"]["id"]) == ("refused", "refused.document_expired")
    assert any("expired identity document" in t for t in rig.ctx.tasks.raised)
    assert rig.store.outbox.depth() == (0, 0) and "Documents" not in rig.customer("1001")


def test_a_booking_qr_code_finds_the_booking_without_typing(rig):
    s = CheckIn(rig.ctx)
    assert "scan" in s.screen()["actions"]
    s.act("scan", {})
    screen = rig.present_when_asked(s, specimens.booking_qr(rig.reservation("1001")["Id"]))
    assert screen["screen"] == "document" and s.result["reservation"] == "1001", screen


def test_an_unknown_booking_code_is_refused_like_a_wrong_number(rig):
    s = CheckIn(rig.ctx)
    s.act("scan", {})
    screen = rig.present_when_asked(s, specimens.booking_qr("00000000-0000-4000-8000-000000000000"))
    assert (screen["screen"], screen["message"]["id"]) == ("refused", "refused.not_found")


def test_foreign_only_skips_the_hotel_countrys_guests(tmp_path):
    r = ReaderRig(tmp_path, documents="foreign", hotel_country="DE")
    try:
        assert run(CheckIn(r.ctx), "find", number="1001", last_name="Müller")["screen"] == "details"
        assert run(CheckIn(r.ctx), "find", number="1002", last_name="Fernández")["screen"] == "document"
    finally:
        r.close()


def test_without_a_reader_the_guest_types_the_passport(tmp_path):
    r = ReaderRig(tmp_path, reader=False)
    try:
        s = CheckIn(r.ctx)
        screen = run(s, "find", number="1001", last_name="Müller")
        assert screen["screen"] == "details" and "passport_number" in screen["data"]["editable"], screen
        s = CheckIn(r.ctx)
        assert "scan" not in s.screen()["actions"]  # no button that cannot work
        s.act("scan", {})  # an old screen's button: told, not crashed
        assert s.screen()["message"]["id"] == "checkin.scan.no_reader"
    finally:
        r.close()


def test_the_seed_generation_takes_the_document_as_the_customers_passport(tmp_path):
    r = ReaderRig(tmp_path, version="2017-04-12")
    try:
        s = CheckIn(r.ctx)
        run(s, "find", number="1001", last_name="Müller")
        s.act("scan_document", {})
        r.present_when_asked(s, mueller(expiry=dt.date(2031, 5, 20)))
        assert run(s, "confirm_document")["screen"] == "details"
        wait_until(lambda: r.store.outbox.depth() == (0, 0), what="the document is delivered")
        c = r.customer("1001")
        assert c["Passport"]["Number"] == NUMBER and c["Passport"]["ExpirationUtc"].startswith("2031-05-20")
        assert c["LastName"] == "Müller" and c["Email"] == "alice.walker@example.com"  # nothing cleared
    finally:
        r.close()
