"""In real Chromium (issue 26 Proof): a guest checks in with a passport, and another with a booking QR code.

The kiosk API (KioskService) over the sim, the virtual encoder/printer and the pty document reader.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sim.reader import specimens
from tests.kiosk_ui_browser import at_the_screen, axe_serious
from tests.reader_harness import NUMBER, ReaderRig
from tests.kiosk_ui_browser import KEY_CHOICES, fill, key_choices, screen_text, tap, wait_screen  # noqa: F401


@pytest.fixture
def kiosk(tmp_path):
    rig = ReaderRig(tmp_path, documents="all")
    with at_the_screen(rig) as (_, driver):
        yield rig, driver


def reader_waits(driver, timeout=15):
    """The screen shows the reader's countdown: the guest may lay the document now."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return !!document.querySelector('.countdown')"),
                                         message="no countdown while the reader waits")


def take_one_key(driver):
    wait_screen(driver, "keys")
    assert key_choices(driver)
    driver.execute_script("document.querySelectorAll(arguments[0])[0].click()", KEY_CHOICES)
    wait_screen(driver, "done", timeout=60)


def test_a_guest_scans_the_booking_code_then_checks_in_with_a_passport(kiosk):
    rig, driver = kiosk
    driver.execute_script("document.getElementById('start-check-in').click()")
    wait_screen(driver, "find")
    tap(driver, "ui.button.scan")  # the confirmation e-mail's QR code: nothing typed
    reader_waits(driver)
    rig.reader.present(specimens.booking_qr(rig.reservation("1001")["Id"]))
    wait_screen(driver, "document")
    assert "passport or ID card" in screen_text(driver)
    tap(driver, "ui.button.scan_document")
    reader_waits(driver)
    rig.reader.present(specimens.passport("MUELLER", "DIETER", number=NUMBER, country="D",
                                          expiry=dt.date(2031, 5, 20)))
    wait_screen(driver, "document_confirm")
    text = screen_text(driver)
    assert "DIETER MUELLER" in text and "DE" in text and "2031-05-20" in text and "K77" in text
    assert NUMBER not in driver.page_source  # only the last characters are ever shown
    assert not axe_serious(driver)
    tap(driver, "ui.button.confirm")
    wait_screen(driver, "details")
    assert "Müller" in screen_text(driver) and "1001" in screen_text(driver)
    tap(driver, "ui.button.confirm")
    take_one_key(driver)
    assert "You are checked in" in screen_text(driver)
    assert rig.reservation("1001")["State"] == "Started"
    docs = rig.customer("1001").get("Documents") or []
    assert [d["Number"] for d in docs if d["Type"] == "Passport"] == [NUMBER]
    assert NUMBER not in driver.execute_script("return document.documentElement.outerHTML")
