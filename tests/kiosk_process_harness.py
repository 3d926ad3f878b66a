"""Shared test plumbing for a real `kiosk-agent run` with the kiosk on: its config and the guest API steps."""

from __future__ import annotations

import time

from agent.commands.kiosk import Unreachable
from sim.mews.kiosk import midday_zone
from tests.agent_harness import wait_until, write_config


def kiosk_config(tmp_path, sim, encoder, printer, port):
    extra = f"""timezone = "{midday_zone()}"
[encoder]
port = "{encoder.url}"
reply_timeout = 10.0
[printer]
port = "{printer.url}"
row_time_ms = 0.0
[kiosk]
enabled = true
listen = "127.0.0.1:{port}"
checkin_from = "00:00"
hotel_name = "Kiosk Crash Hotel"
"""
    return write_config(tmp_path, sim, extra=extra)


def ask(api, method, path, body=None):
    try:
        return api.ask(method, path, body)
    except Unreachable:
        return 0, {}


def new_session(api):
    wait_until(lambda: ask(api, "POST", "/api/sessions", {"flow": "check-in", "language": "en"})[0] == 201,
               timeout=60, interval=0.2, what="kiosk API serving")
    status, screen = api.ask("POST", "/api/sessions", {"flow": "check-in", "language": "en"})
    assert status == 201, screen
    return screen


def act(api, screen, action, **fields):
    status, screen = api.ask("POST", f"/api/sessions/{screen['session']}/input", {"action": action, **fields})
    assert status == 200, screen
    return screen


def settle(api, screen):
    end = time.monotonic() + 60
    while screen.get("busy") and time.monotonic() < end:
        time.sleep(0.05)
        screen = api.ask("GET", f"/api/sessions/{screen['session']}")[1]
    return screen
