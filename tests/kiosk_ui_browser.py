"""Test helpers for the kiosk UI: sim.kiosk_browser, with a missing browser as a pytest skip, plus axe-core."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from sim import kiosk_browser
from sim.kiosk_browser import SCREENS, STATIC, close, serve_static, wait_ready  # noqa: F401

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def chromium(width=720, height=1280):
    """A headless Chromium, or a pytest skip saying what is missing."""
    try:
        return kiosk_browser.chromium(width, height)
    except kiosk_browser.BrowserUnavailable as e:
        pytest.skip(str(e))


def axe_serious(driver):
    """axe-core's serious and critical violations on the current page: [(rule id, targets)]."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => [v.id, v.impact, v.nodes.map(n => n.target.join(' '))])), e => done([['axe-error', 'critical', [String(e)]]]));")
    return [(rule, targets) for rule, impact, targets in result if impact in ("serious", "critical")]


KEY_CHOICES = "#screen [data-id='ui.button.keys']"


def wait_screen(driver, name, timeout=30, busy=None):
    """Until the page shows screen ``name`` (and, when ``busy`` is given, the session is busy or not)."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.getElementById('screen').dataset.screen") == name
        and (busy is None or bool(d.execute_script("return (window.kiosk.state() || {}).busy")) == busy),
        message=f"waiting for {name}: " + str(driver.execute_script("return [window.kiosk.state(), document.getElementById('status').textContent]")))


@contextlib.contextmanager
def at_the_screen(rig, width=720, height=1280):
    """The rig's kiosk served for real and a Chromium showing its page: (service, driver); all closed after."""
    svc = rig.service()
    svc.start()
    try:
        driver = chromium(width, height)
        try:
            driver.get(svc.url + "/")
            wait_ready(driver)
            yield svc, driver
        finally:
            close(driver)
    finally:
        svc.stop()
        rig.close()


def tap(driver, label_id):
    driver.execute_script("document.querySelector(`#screen [data-id='${arguments[0]}']`).click()", label_id)


def fill(driver, name, text):
    from selenium.webdriver.common.by import By
    box = driver.find_element(By.ID, f"f-{name}")
    box.clear()
    box.send_keys(text)


def key_choices(driver, timeout=30):
    """The key-count buttons' labels, once drawn (the keys screen is first busy while the stay starts)."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.querySelectorAll(arguments[0]).length", KEY_CHOICES),
        message=str(driver.execute_script("return window.kiosk.state()")))
    return driver.execute_script("return [...document.querySelectorAll(arguments[0])].map(b => b.textContent)",
                                 KEY_CHOICES)


def screen_text(driver):
    return driver.find_element("id", "screen").text
