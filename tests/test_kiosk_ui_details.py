"""Flow details a guest notices (issue 23, items 3-7), in headless Chromium against the real kiosk API.

One browser and one kiosk for the module (each test its own reservation); screens a guest cannot
reach on demand are drawn from API documents on the page alone.
"""

from __future__ import annotations

import pytest

from tests.kiosk_ui_browser import SCREENS, chromium, close, serve_static, wait_ready, wait_screen

import tests.kiosk_harness as harness  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    driver = chromium(1024, 600)
    yield driver
    close(driver)


@pytest.fixture(scope="module")
def page(browser):
    """The page alone (no API) for screens drawn from documents: no rig to start and stop."""
    server, base = serve_static()
    try:
        yield base
    finally:
        server.shutdown()


@pytest.fixture
def drawn(page, browser):
    browser.get(page + "/")
    wait_ready(browser)
    yield None, browser
    browser.get("about:blank")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """One rig and kiosk service for the module: each test uses its own reservation."""
    rig = harness.Rig(tmp_path_factory.mktemp("details"))
    svc = rig.service()
    svc.start()
    try:
        yield rig, svc
    finally:
        svc.stop()
        rig.close()


@pytest.fixture
def kiosk(service, browser):
    rig, svc = service
    browser.get(svc.url + "/")
    wait_ready(browser)
    yield rig, browser
    browser.execute_script("return window.kiosk.finish()")
    browser.get("about:blank")


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
    fill(driver, "number", "1006")
    fill(driver, "last_name", "O'Neill")
    tap_text(driver, "Find my booking")
    wait_screen(driver, "bill")
    buttons = visible_buttons(driver)
    assert "Pay on the terminal" not in buttons and "Check out" in buttons, buttons
    tap_text(driver, "Check out")
    wait_screen(driver, "goodbye", timeout=60)
    assert rig.reservation("1006")["State"] == "Processed" and rig.terminal.charge_requests == 0


def draw(driver, doc, language="en"):
    """Show a Screen document as the API answers it (states a guest cannot reach on demand)."""
    driver.execute_script("return window.kiosk.switchLanguage(arguments[0])", language)
    driver.execute_script("window.kiosk.draw(arguments[0])", doc)


def test_the_key_screen_shows_one_instruction_and_counts_in_the_language(drawn):
    _, driver = drawn
    second = {**SCREENS["keys-busy"], "progress": {**SCREENS["keys-busy"]["progress"], "params": {"n": 2, "total": 2},
                                                   "done": 1}}
    draw(driver, second)  # the message still says card 1 (it was set when the job started)
    text = screen_text(driver)
    assert "Place card 2 of 2" in text and "card 1 of 2" not in text and "1 of 2" not in text, text
    draw(driver, {**SCREENS["keys"], "data": {"max_keys": 2}})
    assert visible_buttons(driver)[:2] == ["1 key", "2 keys"]
    draw(driver, {**SCREENS["keys"], "data": {"max_keys": 5}}, "cs")
    assert visible_buttons(driver)[:5] == ["1 klíč", "2 klíče", "3 klíče", "4 klíče", "5 klíčů"]
    assert "(s)" not in driver.find_element("tag name", "body").text


def test_the_idle_question_hides_the_guests_data(drawn):
    _, driver = drawn
    draw(driver, SCREENS["details"])
    assert "jana@example.com" in driver.execute_script("return document.getElementById('f-email').value")
    driver.find_element("id", "f-email").click()  # the keyboard is open too
    driver.execute_script("document.getElementById('idle').hidden = false")  # what the idle countdown shows
    shown = driver.execute_script(
        "return [...document.querySelectorAll('#screen *, #keyboard *')].some(n => getComputedStyle(n).visibility"
        " === 'visible' && n.getClientRects().length)")
    assert shown is False and driver.find_element("id", "idle-continue").is_displayed()


def test_a_refusal_shows_call_staff_and_start_over_once(drawn):
    _, driver = drawn
    draw(driver, {**SCREENS["failed"], "data": {"staff_called": False}})
    buttons = visible_buttons(driver)
    assert buttons.count("Call staff") == 1 and buttons.count("Start over") == 1, buttons


def find_booking(driver, number, last_name):
    tap_text(driver, "Check in")
    wait_screen(driver, "find")
    fill(driver, "number", number)
    fill(driver, "last_name", last_name)
    tap_text(driver, "Find my booking")


def test_the_done_screen_says_the_room_once_without_a_floor(kiosk):
    rig, driver = kiosk
    find_booking(driver, "1001", "Walker")
    wait_screen(driver, "details")
    tap_text(driver, "Confirm")
    wait_screen(driver, "keys", busy=False)
    driver.execute_script("document.querySelector(\"#screen [data-id='ui.button.keys']\").click()")  # one key
    wait_screen(driver, "done", timeout=60)
    text = screen_text(driver)
    assert text.count("103") == 1 and "Room 103" in text, text


def test_a_wrong_name_offers_try_again_keeping_the_number_and_back_keeps_it_too(kiosk):
    rig, driver = kiosk
    find_booking(driver, "1002", "Nobody")
    wait_screen(driver, "refused")
    tap_text(driver, "Try again")
    wait_screen(driver, "find")
    values = driver.execute_script("return [document.getElementById('f-number').value,"
                                   " document.getElementById('f-last_name').value]")
    assert values == ["1002", ""]
    fill(driver, "last_name", "Fernández")
    tap_text(driver, "Find my booking")
    wait_screen(driver, "details")
    tap_text(driver, "Back")
    wait_screen(driver, "find")
    assert driver.execute_script("return document.getElementById('f-number').value") == "1002"
    assert "Fernández" not in driver.page_source
    assert rig.reservation("1002")["State"] == "Confirmed"


def test_back_from_the_bill_and_never_from_payment_or_keys(kiosk):
    _, driver = kiosk
    tap_text(driver, "Check out")
    wait_screen(driver, "find")
    fill(driver, "number", "1007")
    fill(driver, "last_name", "Khan")
    tap_text(driver, "Find my booking")
    wait_screen(driver, "bill")
    tap_text(driver, "Back")
    wait_screen(driver, "find")
    assert driver.execute_script("return document.getElementById('f-number').value") == "1007"
    for doc in ("payment", "keys", "keys-busy"):
        draw(driver, SCREENS[doc])
        assert "Back" not in visible_buttons(driver)
