"""The kiosk UI in a headless Chromium: the static folder over loopback, a driver, sample screens.

Used by the browser tests, the UI benchmark and the demo's screenshots.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "agent" / "kiosk" / "static"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


class _Static(http.server.SimpleHTTPRequestHandler):
    """/ -> index.html, /static/<path> -> the folder, as docs/kiosk-api.md routes them; no API."""

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if path == "/":
            path = "/index.html"
        elif path.startswith("/static/"):
            path = path[len("/static"):]
        return super().translate_path(path)

    def log_message(self, *args):
        pass


def serve_static():
    handler = functools.partial(_Static, directory=str(STATIC))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class BrowserUnavailable(RuntimeError):
    """Selenium or Debian's chromium/chromium-driver is missing; the message says what to install."""


def chromium(width=720, height=1280):
    """A headless Chromium under Selenium; raises BrowserUnavailable saying what is missing."""
    try:
        from selenium import webdriver
    except ImportError:
        raise BrowserUnavailable("selenium not installed (pip install -e .[dev])") from None
    binary = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        raise BrowserUnavailable("Chromium browser tests need Debian's chromium and chromium-driver "
                                 "(apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="kiosk-ui-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(width, height)
    driver.kiosk_profile = profile
    return driver


def close(driver):
    driver.quit()
    shutil.rmtree(driver.kiosk_profile, ignore_errors=True)


def set_viewport(driver, width: int, height: int) -> None:
    """The page's CSS viewport exactly width x height, whatever the window's chrome takes."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def wait_ready(driver, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))


# Screen documents shaped as docs/kiosk-api.md defines them (for rendering every screen).
AMOUNT = {"Currency": "EUR", "Value": 180.5}
SCREENS = {
    "find-checkin": {"session": "s1", "flow": "check-in", "screen": "find", "message": {"id": "checkin.find.prompt", "params": {}},
                     "data": {}, "errors": {}, "busy": False, "progress": None, "actions": ["find", "cancel"]},
    "find-checkout": {"session": "s1", "flow": "check-out", "screen": "find", "message": {"id": "checkout.find.prompt", "params": {}},
                      "data": {}, "errors": {}, "busy": False, "progress": None, "actions": ["find", "read_card", "cancel"]},
    "details": {"session": "s1", "flow": "check-in", "screen": "details", "message": {"id": "checkin.details.prompt", "params": {}},
                "data": {"guest": {"first_name": "Jana", "last_name": "Nováková", "email": "jana@example.com", "phone": "+420 600 100 200",
                                   "address": {"line1": "Dlouhá 5", "city": "Praha", "postal_code": "11000", "country": "CZ"},
                                   "nationality": "CZ"},
                         "stay": {"number": "4821", "arrival": "2026-12-01T14:00", "departure": "2026-12-03T11:00",
                                  "category": "Double", "adults": 2, "children": 0},
                         "editable": ["email", "phone", "address", "nationality"]},
                "errors": {"email": {"id": "field.email", "params": {}}}, "busy": False, "progress": None, "actions": ["confirm", "cancel"]},
    "payment": {"session": "s1", "flow": "check-in", "screen": "payment", "message": {"id": "payment.follow_terminal", "params": {"amount": AMOUNT}},
                "data": {"amount": AMOUNT}, "errors": {}, "busy": True, "progress": None, "actions": ["cancel"]},
    "keys": {"session": "s1", "flow": "check-in", "screen": "keys", "message": {"id": "checkin.keys.prompt", "params": {"max_keys": 2}},
             "data": {"max_keys": 2}, "errors": {}, "busy": False, "progress": None, "actions": ["keys", "cancel"]},
    "keys-busy": {"session": "s1", "flow": "check-in", "screen": "keys", "message": {"id": "checkin.keys.present", "params": {"n": 1, "total": 2}},
                  "data": {"max_keys": 2}, "errors": {}, "busy": True, "actions": ["cancel"],
                  "progress": {"text_id": "checkin.keys.present", "params": {"n": 1, "total": 2}, "done": 0, "total": 2, "deadline": 4102444800}},
    "done": {"session": "s1", "flow": "check-in", "screen": "done", "message": {"id": "checkin.done", "params": {"room": "204", "floor": "2nd floor"}},
             "data": {"room": "204", "floor": "2nd floor", "keys": 2, "printed": True, "departure": "2026-12-03T11:00"},
             "errors": {}, "busy": False, "progress": None, "actions": ["cancel"]},
    "bill": {"session": "s1", "flow": "check-out", "screen": "bill", "message": {"id": "checkout.bill.prompt", "params": {"balance": AMOUNT}},
             "data": {"items": [{"name": "Night 1", "date": "2026-11-30T00:00", "amount": {"Currency": "EUR", "Value": 150}},
                                {"name": "Minibar", "date": "2026-11-30T22:10", "amount": {"Currency": "EUR", "Value": 30.5}}],
                      "balance": AMOUNT, "stay": {}}, "errors": {}, "busy": False, "progress": None, "actions": ["pay", "cancel"]},
    "goodbye": {"session": "s1", "flow": "check-out", "screen": "goodbye", "message": {"id": "checkout.goodbye.drop_cards", "params": {}},
                "data": {"printed": True, "key_voided": True, "drop_cards": True}, "errors": {}, "busy": False, "progress": None, "actions": ["cancel"]},
    "refused": {"session": "s1", "flow": "check-in", "screen": "refused", "message": {"id": "refused.room_not_ready", "params": {}},
                "data": {"staff_called": True}, "errors": {}, "busy": False, "progress": None, "actions": ["staff", "restart", "cancel"]},
    "failed": {"session": "s1", "flow": "check-in", "screen": "failed", "message": {"id": "failed.keys_after_start", "params": {}},
               "data": {"staff_called": False}, "errors": {}, "busy": False, "progress": None, "actions": ["staff", "restart", "cancel"]},
    "document": {"session": "s1", "flow": "check-in", "screen": "document", "message": {"id": "checkin.document.prompt", "params": {}},
                 "data": {}, "errors": {}, "busy": False, "progress": None, "actions": ["scan_document", "cancel"]},
    "document-confirm": {"session": "s1", "flow": "check-in", "screen": "document_confirm",
                         "message": {"id": "checkin.document.confirm", "params": {}},
                         "data": {"document": {"type": "Passport", "name": "JANA NOVAKOVA", "nationality": "CZ",
                                               "expiry": "2031-05-20", "number": "••••••K77"}},
                         "errors": {}, "busy": False, "progress": None, "actions": ["confirm_document", "scan_document", "cancel"]},
}
