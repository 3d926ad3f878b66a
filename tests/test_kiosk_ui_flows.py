"""The kiosk UI as a guest in headless Chromium against the real kiosk API (KioskService) and the simulators."""

from __future__ import annotations

import pytest

from tests.kiosk_ui_browser import (  # noqa: F401
    KEY_CHOICES, at_the_screen, axe_serious, fill, key_choices, screen_text, tap, wait_screen,
)

import tests.kiosk_harness as harness


@pytest.fixture
def kiosk(tmp_path, request):
    rig = harness.Rig(tmp_path, kiosk_extra=getattr(request, "param", ""))
    with at_the_screen(rig) as (rig.svc, driver):
        yield rig, driver


def find_booking(driver, number, last_name, axe=False):
    """Welcome -> check in -> find, typed as the guest does, then tap "find"."""
    driver.execute_script("document.getElementById('start-check-in').click()")
    wait_screen(driver, "find")
    if axe:
        assert not axe_serious(driver)
    fill(driver, "number", number)
    fill(driver, "last_name", last_name)
    tap(driver, "ui.button.find")


def test_full_checkin_with_payment_two_keys_and_slip_in_german(kiosk):
    rig, driver = kiosk
    driver.execute_script("return window.kiosk.switchLanguage('de')")
    find_booking(driver, "1002", "Fernández", axe=True)
    wait_screen(driver, "details")
    for part, text in (("line1", "Calle Mayor 1"), ("city", "Madrid"), ("postal_code", "28013"), ("country", "ES")):
        fill(driver, f"address-{part}", text)
    tap(driver, "ui.button.confirm")
    wait_screen(driver, "payment")
    assert "360,00" in driver.find_element("css selector", ".amount").text
    tap(driver, "ui.button.pay")
    wait_screen(driver, "keys")
    offered = len(key_choices(driver))
    driver.execute_script("const b = document.querySelectorAll(arguments[0]); b[b.length - 1].click();",
                          KEY_CHOICES)  # as many keys as offered
    wait_screen(driver, "done", timeout=60)
    text = driver.find_element("id", "screen").text
    assert "Zimmer" in text and "gedruckt" in text
    assert len(rig.ent.payments) == 1 and len(rig.encoder.keys) == offered >= 1


def test_wrong_name_is_a_calm_refusal_without_the_guest_name(kiosk):
    rig, driver = kiosk
    find_booking(driver, "1001", "Nobody")
    wait_screen(driver, "refused")
    assert "Walker" not in driver.page_source and "We could not find a booking" in driver.page_source
    assert not axe_serious(driver)


@pytest.mark.parametrize("kiosk", ["idle_timeout = 5"], indirect=True)
def test_idle_timeout_mid_flow_leaves_no_guest_data(kiosk):
    rig, driver = kiosk
    find_booking(driver, "1002", "Fernández")
    wait_screen(driver, "details")
    assert "Fernández" in driver.page_source and "b•••@e•••.com" in driver.page_source
    wait_screen(driver, "welcome", timeout=60)  # 5 s idle, the countdown overlay, then welcome
    left = driver.execute_script(
        "const html = document.documentElement.outerHTML;"
        "return [html.includes('Fernández'), html.includes('bruno.fernandez'), html.includes('PAB123456'),"
        " localStorage.length, sessionStorage.length, history.state, location.pathname, window.kiosk.state()]")
    assert left == [False, False, False, 0, 0, None, "/", None]


def test_full_checkin_in_english_with_two_keys_and_the_slip(kiosk):
    rig, driver = kiosk
    find_booking(driver, "1001", "walker")
    wait_screen(driver, "details")
    assert "Alice" in screen_text(driver) and "Walker" in screen_text(driver)
    tap(driver, "ui.button.confirm")
    wait_screen(driver, "keys")  # 1001 is paid in advance: no payment screen
    labels = key_choices(driver)
    assert "How many keys would you like? (up to 2)" in screen_text(driver)
    assert len(labels) == 2 and "2" in labels[1], labels
    driver.execute_script("document.querySelectorAll(arguments[0])[1].click()", KEY_CHOICES)
    wait_screen(driver, "done", timeout=60)
    text = screen_text(driver)
    assert "Room 103" in text and "You are checked in" in text
    assert rig.reservation("1001")["State"] == "Started"
    assert [(k["command"], k["rooms"]) for k in rig.encoder.keys] == [("CN", ["103", "GYM"]), ("CC", ["103", "GYM"])]
    assert rig.printer.wait_receipts(1) and rig.ent.payments == []


def test_full_checkout_with_the_balance_paid_on_the_terminal_and_the_folio(kiosk):
    rig, driver = kiosk
    driver.execute_script("document.getElementById('start-check-out').click()")
    wait_screen(driver, "find")
    fill(driver, "number", "1007")
    fill(driver, "last_name", "Khan")
    tap(driver, "ui.button.find")
    wait_screen(driver, "bill")
    text = screen_text(driver)
    assert "Night 1" in text and "95.50" in driver.find_element("css selector", ".amount").text
    assert not axe_serious(driver)
    tap(driver, "ui.button.pay")
    wait_screen(driver, "goodbye", timeout=60)
    assert "You are checked out" in screen_text(driver)
    assert rig.reservation("1007")["State"] == "Processed"
    (payment,) = rig.ent.payments
    reference = payment.get("ExternalIdentifier") or payment.get("ReceiptIdentifier")  # today's or the seed's
    assert reference.startswith("SIM") and rig.terminal.charge_requests == 1
    assert rig.ent.balance(rig.reservation("1007")["CustomerId"]) == 0.0
    assert rig.printer.wait_receipts(1)  # the folio
    tap(driver, "ui.button.finish")
    wait_screen(driver, "welcome")
    assert "Khan" not in driver.page_source


def test_room_not_ready_is_refused_and_staff_get_a_task(kiosk):
    rig, driver = kiosk
    find_booking(driver, "1003", "Dubois")
    wait_screen(driver, "details")
    tap(driver, "ui.button.confirm")
    wait_screen(driver, "refused")
    text = screen_text(driver)
    assert "Your room is being prepared" in text and "A member of staff has been called" in text
    (task,) = rig.ent.tasks
    assert "reservation 1003" in task["Name"] and "room 101" in task["Name"] and "Dubois" not in task["Name"]
    assert rig.reservation("1003")["State"] == "Confirmed" and rig.encoder.keys == []
    assert not axe_serious(driver)


def test_throttle_after_five_failed_lookups_refuses_the_right_booking_too(kiosk):
    rig, driver = kiosk
    for _ in range(5):
        find_booking(driver, "1001", "Nobody")
        wait_screen(driver, "refused")
        assert "We could not find a booking" in screen_text(driver)
        tap(driver, "ui.button.restart")
        wait_screen(driver, "welcome")
    find_booking(driver, "1001", "Walker")  # right this time, refused all the same
    wait_screen(driver, "refused")
    assert "Too many attempts" in screen_text(driver) and "Walker" not in driver.page_source
    assert rig.reservation("1001")["State"] == "Confirmed"
    assert [t for t in rig.ent.tasks if "failed booking lookups" in t["Name"]]
    assert not any("Walker" in t["Name"] + (t["Description"] or "") for t in rig.ent.tasks)


def _until(pred, timeout=20.0, what=""):
    import time
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, f"timed out: {what}"
        time.sleep(0.05)


def test_a_guest_typing_slowly_keeps_the_servers_idle_clock_fresh(kiosk):
    import time
    rig, driver = kiosk
    driver.execute_script("document.getElementById('start-check-in').click()")
    wait_screen(driver, "find")
    session = rig.svc._session
    before = time.monotonic()
    # As if the guest had been typing for a long time, no API call since: 65 s, so the server would end the
    # session within 10 s (idle_timeout + countdown + slack = 75 s) unless the screen's activity reaches it.
    session.last_input = before - 65
    fill(driver, "number", "10")  # keystrokes only: no API call of the flow
    _until(lambda: session.last_input >= before, what="the screen's activity reaching the server")
    assert not session.ended


def test_start_over_while_the_terminal_works_keeps_the_screen_until_it_answers(kiosk):
    rig, driver = kiosk
    rig.terminal.timeout = 15.0
    rig.terminal.mode = "slow"  # the guest is at the terminal
    find_booking(driver, "1002", "Fernández")
    wait_screen(driver, "details")
    tap(driver, "ui.button.confirm")
    wait_screen(driver, "payment")
    tap(driver, "ui.button.pay")
    _until(lambda: rig.terminal.charges, what="the charge reaching the terminal")
    driver.execute_script("document.getElementById('cancel').click()")
    _until(lambda: "Please wait" in driver.find_element("id", "status").text, what="the busy notice")
    assert driver.execute_script("return document.getElementById('screen').dataset.screen") == "payment"
    wait_screen(driver, "welcome")  # the terminal answered the abort: nothing charged, the session ends
    assert rig.terminal.aborts == 1
    assert not [c for c in rig.terminal.charges.values() if c.get("status") == "approved"]
