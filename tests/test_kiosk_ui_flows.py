"""The kiosk UI as a guest in headless Chromium against the real kiosk API (KioskService) and the simulators."""

from __future__ import annotations

import pytest

from tests.kiosk_ui_browser import axe_serious, chromium, close, wait_ready

service_mod = pytest.importorskip("agent.kiosk.service", reason="kiosk web layer (agent/kiosk/service.py) not merged")
harness = pytest.importorskip("tests.kiosk_harness", reason="kiosk test harness not merged")


@pytest.fixture
def kiosk(tmp_path, request):
    rig = harness.Rig(tmp_path, kiosk_extra=getattr(request, "param", ""))
    svc = service_mod.KioskService(rig.cfg, rig.client, rig.jobs, terminal=rig.ctx.terminal)
    svc.start()
    driver = chromium()
    try:
        driver.get(svc.url + "/")
        wait_ready(driver)
        yield rig, driver
    finally:
        close(driver)
        svc.stop()
        rig.close()


def wait_screen(driver, name, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.getElementById('screen').dataset.screen") == name,
        message=f"waiting for {name}: " + str(driver.execute_script("return [window.kiosk.state(), document.getElementById('status').textContent]")))


def tap(driver, label_id):
    driver.execute_script("document.querySelector(`#screen [data-id='${arguments[0]}']`).click()", label_id)


def fill(driver, name, text):
    from selenium.webdriver.common.by import By
    box = driver.find_element(By.ID, f"f-{name}")
    box.clear()
    box.send_keys(text)


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
    offered = driver.execute_script("const b = document.querySelectorAll(\"#screen [data-id='ui.button.keys']\");"
                                    " b[b.length - 1].click(); return b.length;")  # as many keys as offered
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
    assert "bruno.fernandez@example.com" in driver.page_source
    wait_screen(driver, "welcome", timeout=60)  # 5 s idle, the countdown overlay, then welcome
    left = driver.execute_script(
        "const html = document.documentElement.outerHTML;"
        "return [html.includes('Fernández'), html.includes('bruno.fernandez'), html.includes('PAB123456'),"
        " localStorage.length, sessionStorage.length, history.state, location.pathname, window.kiosk.state()]")
    assert left == [False, False, False, 0, 0, None, "/", None]
