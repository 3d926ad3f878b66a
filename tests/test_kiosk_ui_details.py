"""Flow details a guest notices (issue 23, items 3-7), in headless Chromium against the real kiosk API.

One browser for the module (Chromium starts once); each test gets a fresh rig and service.
"""

from __future__ import annotations

import pytest

from tests.kiosk_ui_browser import SCREENS, chromium, close, wait_ready

service_mod = pytest.importorskip("agent.kiosk.service", reason="kiosk web layer not merged")
harness = pytest.importorskip("tests.kiosk_harness", reason="kiosk test harness not merged")


@pytest.fixture(scope="module")
def browser():
    driver = chromium(1024, 600)
    yield driver
    close(driver)


@pytest.fixture
def kiosk(tmp_path, request, browser):
    rig = harness.Rig(tmp_path, kiosk_extra=getattr(request, "param", ""))
    svc = rig.service()
    svc.start()
    try:
        browser.get(svc.url + "/")
        wait_ready(browser)
        yield rig, browser
    finally:
        browser.get("about:blank")
        svc.stop()
        rig.close()


def wait_screen(driver, name, timeout=30, busy=None):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.getElementById('screen').dataset.screen") == name
        and (busy is None or bool(d.execute_script("return (window.kiosk.state() || {}).busy")) == busy),
        message=f"waiting for {name}: " + str(driver.execute_script("return window.kiosk.state()")))


def visible_buttons(driver):
    """The labels of every button the guest sees (screen, footer, keyboard excluded)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#screen button, #footer button')]"
        ".filter(b => b.offsetParent !== null).map(b => b.textContent)")


def tap_text(driver, text):
    """Tap the visible button with this label, as a guest does."""
    found = driver.execute_script(
        "const b = [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null"
        " && b.textContent === arguments[0]); if (b.length !== 1) return b.length; b[0].click(); return 1;", text)
    assert found == 1, f"{found} visible buttons {text!r}: {visible_buttons(driver)}"


def fill(driver, name, text):
    box = driver.find_element("id", f"f-{name}")
    box.clear()
    box.send_keys(text)


def screen_text(driver):
    return driver.find_element("id", "screen").text


def test_a_settled_bill_offers_check_out_not_the_terminal(kiosk):
    rig, driver = kiosk
    tap_text(driver, "Check out")
    wait_screen(driver, "find")
    fill(driver, "room", "201")
    fill(driver, "last_name", "O'Neill")
    tap_text(driver, "Find my booking")
    wait_screen(driver, "bill")
    buttons = visible_buttons(driver)
    assert "Pay on the terminal" not in buttons and "Check out" in buttons, buttons
    tap_text(driver, "Check out")
    wait_screen(driver, "goodbye", timeout=60)
    assert rig.reservation("1006")["State"] == "Processed" and rig.terminal.charge_requests == 0
