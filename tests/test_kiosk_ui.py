"""The kiosk UI's static files and their rendering in a real Chromium (axe-core, keyboard, wipe)."""

from __future__ import annotations

import json
import re

import pytest

from tests.kiosk_ui_browser import SCREENS, STATIC, axe_serious, chromium, close, serve_static, wait_ready

LANGUAGES = ("en", "de", "fr", "es", "it", "cs", "nl")


def catalog(code):
    return json.loads((STATIC / "i18n" / f"{code}.json").read_text(encoding="utf-8"))


def test_every_flow_message_id_has_a_translation_in_every_catalog():
    from agent.kiosk import messages
    for code in LANGUAGES:
        missing = sorted(set(messages.MESSAGES) - set(catalog(code)))
        assert not missing, f"{code}.json lacks {missing}"


def test_catalogs_have_the_same_ids_and_placeholders():
    english = catalog("en")
    plural = re.compile(r"\.(zero|one|two|few|many)$")  # CLDR plural forms differ by language (cs has "few")
    for code in LANGUAGES[1:]:
        other = catalog(code)
        assert {k for k in other if not plural.search(k)} == {k for k in english if not plural.search(k)}, code
        for key, text in english.items():
            assert set(re.findall(r"\{(\w+)\}", other[key])) == set(re.findall(r"\{(\w+)\}", text)), (code, key)
            assert other[key].strip(), (code, key)


def test_page_weight_and_no_network_assets():
    files = [p for p in STATIC.rglob("*") if p.is_file() and not p.name.startswith("LICENSE")]
    total = sum(p.stat().st_size for p in files if p.parent.name != "i18n") + max(
        (STATIC / "i18n" / f"{c}.json").stat().st_size for c in LANGUAGES) + (STATIC / "i18n" / "en.json").stat().st_size
    assert total <= 300 * 1024, f"page weight {total} bytes"
    for path in files:
        if path.suffix in (".html", ".css", ".js"):
            assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", path.read_text(encoding="utf-8")), path


@pytest.fixture(scope="module")
def page():
    server, base = serve_static()
    driver = chromium()
    try:
        yield driver, base
    finally:
        close(driver)
        server.shutdown()


def load(driver, base):
    driver.get(base + "/")
    wait_ready(driver)


def test_every_screen_has_no_serious_axe_violation(page):
    driver, base = page
    load(driver, base)
    problems = {"welcome": axe_serious(driver)}
    for name, screen in SCREENS.items():
        driver.execute_script("window.kiosk.draw(arguments[0])", screen)
        problems[name] = axe_serious(driver)
    assert not {k: v for k, v in problems.items() if v}, problems


def test_touch_targets_are_at_least_48_px(page):
    driver, base = page
    load(driver, base)
    for name in ("welcome", "find-checkin", "keys", "bill", "refused"):
        if name != "welcome":
            driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS[name])
        small = driver.execute_script(
            "return [...document.querySelectorAll('button, input')].filter(e => e.offsetParent)"
            ".map(e => e.getBoundingClientRect()).filter(r => r.width < 48 || r.height < 48).length")
        assert small == 0, name


def test_numeric_keyboard_for_the_confirmation_number_and_accents_for_the_name(page):
    from selenium.webdriver.common.by import By
    driver, base = page
    load(driver, base)
    driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS["find-checkin"])
    driver.find_element(By.ID, "f-number").click()
    keys = [k.get_attribute("data-key") for k in driver.find_elements(By.CSS_SELECTOR, "#keyboard .key")]
    assert "q" not in keys and "7" in keys
    for digit in "4821":
        driver.find_element(By.CSS_SELECTOR, f'#keyboard .key[data-key="{digit}"]').click()
    assert driver.find_element(By.ID, "f-number").get_attribute("value") == "4821"
    driver.find_element(By.ID, "f-last_name").click()
    driver.find_element(By.CSS_SELECTOR, '#keyboard .key[data-key="áéü"]').click()
    driver.find_element(By.CSS_SELECTOR, '#keyboard .key[data-key="ü"]').click()
    assert driver.find_element(By.ID, "f-last_name").get_attribute("value") == "ü"


def test_language_switch_formats_amounts_for_the_language(page):
    driver, base = page
    load(driver, base)
    driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS["bill"])
    english = driver.execute_script("return document.querySelector('.amount').textContent")
    driver.execute_script("return window.kiosk.switchLanguage('de')")
    german = driver.execute_script("return document.querySelector('.amount').textContent")
    assert "€180.50" in english and "180,50" in german and "Saldo" in german


def test_finish_leaves_no_guest_data(page):
    driver, base = page
    load(driver, base)
    driver.execute_script("sessionStorage.setItem('x', '1'); localStorage.setItem('y', '2');")
    driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS["details"])
    assert "Nováková" in driver.page_source
    driver.execute_script("return window.kiosk.finish()")
    left = driver.execute_script(
        "return [document.documentElement.outerHTML.includes('Nováková'), document.documentElement.outerHTML.includes('jana@example'),"
        " localStorage.length, sessionStorage.length, history.state, location.pathname + location.search, window.kiosk.state()]")
    assert left == [False, False, 0, 0, None, "/", None]



# ---- issue 23 item 8: the keyboard's letters follow the language ------------------------------

def letter_rows(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#keyboard .key-row')].map(r => [...r.querySelectorAll('.key')]"
        ".map(k => k.dataset.key).join(''))")


@pytest.mark.parametrize("code,row,has", [("de", "qwertz", "üöäß"), ("cs", "qwertz", "ůú"), ("fr", "azerty", "éèàç"),
                                          ("en", "qwerty", ""), ("es", "qwerty", "ñ")])
def test_the_letter_layout_follows_the_language(page, code, row, has):
    driver, base = page
    if not driver.current_url.startswith(base):
        load(driver, base)
    driver.execute_script("return window.kiosk.switchLanguage(arguments[0])", code)
    driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS["find-checkin"])
    driver.find_element("id", "f-last_name").click()
    rows = letter_rows(driver)
    assert any(r.startswith(row) for r in rows), rows
    assert all(ch in "".join(rows) for ch in has), rows
    driver.execute_script("return window.kiosk.finish()")


def test_a_long_press_offers_the_languages_accented_letters(page):
    from selenium.webdriver.common.action_chains import ActionChains
    driver, base = page
    load(driver, base)
    driver.execute_script("return window.kiosk.switchLanguage('cs')")
    driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS["find-checkin"])
    driver.find_element("id", "f-last_name").click()
    key = driver.find_element("css selector", '#keyboard .key[data-key="e"]')
    ActionChains(driver).click_and_hold(key).pause(0.8).release().perform()
    variants = driver.execute_script(
        "return [...document.querySelectorAll('#keyboard .key-variants .key')].map(k => k.dataset.key)")
    assert "ě" in variants and "é" in variants, variants
    driver.find_element("css selector", '#keyboard .key-variants .key[data-key="ě"]').click()
    assert driver.find_element("id", "f-last_name").get_attribute("value") == "ě"  # not "eě"
    driver.execute_script("return window.kiosk.finish()")
