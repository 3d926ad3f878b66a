"""Issue 23, fit: at every kiosk display size, every screen fits, as a guest walks it in real Chromium.

One browser and one kiosk (the real API over the Mews simulator) for the module; each viewport
is one test that walks the flows by tapping (the on-screen keyboard included) and draws the
screens a guest cannot reach without paying or cutting keys, in normal and in large text.
Assertions are geometric (tests/kiosk_ui_geometry.py), not screenshots.
"""

from __future__ import annotations

import pytest

from tests.kiosk_ui_browser import SCREENS, at_the_screen
from tests.kiosk_ui_geometry import VIEWPORTS, problems, set_viewport

import tests.kiosk_harness as harness  # noqa: E402


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    with at_the_screen(harness.Rig(tmp_path_factory.mktemp("fit")), 1024, 768) as (_, driver):
        yield driver


def wait_screen(driver, name, busy=False, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("const s = window.kiosk.state();"
                                   "return document.getElementById('screen').dataset.screen === arguments[0]"
                                   " && (!s || !s.busy === !arguments[1])", name, busy),
        message=f"waiting for {name}: {driver.execute_script('return window.kiosk.state()')}")


def tap(driver, css):
    """Scroll the screen to the control if needed (as a guest would), then tap it."""
    element = driver.find_element("css selector", css)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def type_on_screen(driver, text):
    """Type as a guest does: one on-screen key per character."""
    for ch in text:
        tap(driver, f'#keyboard .key[data-key="{ch}"]')


def walk_as_guest(driver, where):
    """Welcome -> check in (typed on the keyboard) -> details -> Back; check out -> bill -> Back."""
    seen = problems(driver, f"{where} welcome")
    tap(driver, "#start-check-in")
    wait_screen(driver, "find")
    seen += problems(driver, f"{where} find")
    tap(driver, "#f-number")
    seen += problems(driver, f"{where} find, keyboard on the number")
    type_on_screen(driver, "1001")
    tap(driver, "#f-last_name")
    type_on_screen(driver, "walker")
    seen += problems(driver, f"{where} find, keyboard on the name")
    tap(driver, "#screen [data-id='ui.button.find']")
    wait_screen(driver, "details")
    seen += problems(driver, f"{where} details")
    tap(driver, "#f-email")
    seen += problems(driver, f"{where} details, keyboard on the e-mail")
    tap(driver, "#f-address-country")
    seen += problems(driver, f"{where} details, keyboard on the country")
    tap(driver, "#screen [data-id='ui.button.back']")
    wait_screen(driver, "find")
    tap(driver, "#cancel")
    wait_screen(driver, "welcome")
    tap(driver, "#start-check-out")
    wait_screen(driver, "find")
    tap(driver, "#f-number")
    seen += problems(driver, f"{where} check-out find, keyboard on the confirmation number")
    type_on_screen(driver, "1007")
    tap(driver, "#f-last_name")
    type_on_screen(driver, "khan")
    tap(driver, "#screen [data-id='ui.button.find']")
    wait_screen(driver, "bill")
    seen += problems(driver, f"{where} bill")
    driver.execute_script("return window.kiosk.finish()")
    return seen


def drawn_screens(driver, where, large, language="en", names=None):
    """Every screen document of the API (payment, keys, done ... as the server answers them)."""
    seen = []
    driver.execute_script("return window.kiosk.switchLanguage(arguments[0])", language)
    where = f"{where} {language}"
    for name, doc in SCREENS.items():
        if names and name not in names:
            continue
        driver.execute_script("window.kiosk.draw(arguments[0])", doc)
        if large and not driver.execute_script("return document.body.classList.contains('large')"):
            tap(driver, "#large")
        seen += problems(driver, f"{where}{' large' if large else ''} {name}")
        first = driver.execute_script("const f = document.querySelector('#screen input'); if (f) f.click(); return !!f")
        if first:
            seen += problems(driver, f"{where}{' large' if large else ''} {name}, keyboard open")
    driver.execute_script("return window.kiosk.finish()")
    return seen


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_every_screen_fits_the_display(kiosk, width, height):
    driver = kiosk
    set_viewport(driver, width, height)
    driver.execute_script("return window.kiosk.finish()")
    where = f"{width}x{height}"
    seen = walk_as_guest(driver, where)
    seen += drawn_screens(driver, where, large=False)
    seen += drawn_screens(driver, where, large=True, language="de")  # long words, QWERTZ with umlauts
    seen += drawn_screens(driver, where, large=False, language="fr",
                          names=("details",))  # AZERTY, the widest letter row
    tap(driver, "#large")  # large text on welcome too
    seen += problems(driver, f"{where} large welcome")
    driver.execute_script("return window.kiosk.finish()")
    assert not seen, "\n".join(seen)
