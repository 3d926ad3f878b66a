"""Issue 21, keys and sessions: a guest who leaves, double-taps or reloads never costs a key or a task.

Through the kiosk's JSON API (the screen's own channel) against the running KioskService, the virtual
encoder and printer on ptys, the simulated terminal and sim mews.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.kiosk_harness import Rig, ask, wait_for


@pytest.fixture
def kiosk(tmp_path):
    rig = Rig(tmp_path)
    svc = rig.service()
    svc.start()
    yield rig, svc
    svc.stop()
    rig.close()


def act(svc, sid, action, **fields):
    status, screen, _ = ask(svc, "POST", f"/api/sessions/{sid}/input", {"action": action, **fields})
    assert status == 200, screen
    return settle(svc, screen)


def settle(svc, screen, timeout=30):
    end = time.monotonic() + timeout
    while screen.get("busy") and time.monotonic() < end:
        time.sleep(0.05)
        status, screen, _ = ask(svc, "GET", f"/api/sessions/{screen['session']}")
        assert status == 200, screen
    return screen


def checked_in_at_the_key_screen(svc, number="1001", last_name="Walker"):
    status, screen, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in", "language": "en"})
    assert status == 201, screen
    sid = screen["session"]
    act(svc, sid, "find", number=number, last_name=last_name)
    screen = act(svc, sid, "confirm")
    assert screen["screen"] == "keys", screen
    return sid


def tasks_naming(rig, reservation):
    return [t for t in rig.ent.tasks if f"reservation {reservation}" in t["Name"]]




# ---- 4 and 7: keys under way are cut to the end; nobody takes over a busy kiosk -------------------------

def test_start_over_and_a_new_session_while_keys_are_cut_leave_every_key_made(kiosk):
    rig, svc = kiosk
    rig.encoder.card_delay = 0.6  # the guest presents each card
    sid = checked_in_at_the_key_screen(svc)
    status, screen, _ = ask(svc, "POST", f"/api/sessions/{sid}/input", {"action": "keys", "count": 2})
    assert status == 200 and screen["busy"]
    time.sleep(0.3)
    assert ask(svc, "DELETE", f"/api/sessions/{sid}")[0] == 409  # "Start over" while the first card is cut
    status, answer, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-out"})  # another tab, a reload
    assert (status, answer["error"]["id"]) == (409, "error.kiosk_busy")
    status, screen, _ = ask(svc, "GET", f"/api/sessions/{sid}")
    screen = settle(svc, screen)
    assert screen["screen"] == "done" and screen["data"]["keys"] == 2, screen
    assert len(rig.encoder.keys) == 2 and rig.printer.wait_receipts(1)
    assert not [t for t in rig.ent.tasks if "key" in t["Name"]]


def test_a_new_session_while_the_guest_pays_answers_busy_and_the_payment_goes_on(kiosk):
    rig, svc = kiosk
    rig.terminal.mode = "slow"  # the guest takes a while at the terminal, then it approves
    status, screen, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in"})
    sid = screen["session"]
    act(svc, sid, "find", number="1002", last_name="Fernandez")
    assert act(svc, sid, "confirm")["screen"] == "payment"
    status, screen, _ = ask(svc, "POST", f"/api/sessions/{sid}/input", {"action": "pay"})
    assert screen["busy"]
    assert ask(svc, "POST", "/api/sessions", {"flow": "check-in"})[0] == 409
    screen = settle(svc, ask(svc, "GET", f"/api/sessions/{sid}")[1])
    assert screen["screen"] == "keys" and rig.terminal.aborts == 0, screen


# ---- 5: a guest checked in without all keys reaches staff, once ------------------------------------------

def test_a_guest_who_walks_away_at_the_key_count_raises_one_task_naming_reservation_and_room(kiosk):
    rig, svc = kiosk
    sid = checked_in_at_the_key_screen(svc)
    assert rig.reservation("1001")["State"] == "Started"
    session = svc.get(sid)
    session.last_input -= 3600  # the guest walked away; the server's idle clock runs out
    wait_for(lambda: tasks_naming(rig, "1001"), what="the staff task")
    time.sleep(2.5)  # more reaper rounds: still one task
    (task,) = tasks_naming(rig, "1001")
    assert "room 103" in task["Name"] and "Walker" not in task["Name"] + (task["Description"] or "")
    assert ask(svc, "GET", f"/api/sessions/{sid}")[0] == 404


def test_a_new_guest_taking_over_the_key_count_screen_raises_the_task_for_the_first(kiosk):
    rig, svc = kiosk
    checked_in_at_the_key_screen(svc)
    assert ask(svc, "POST", "/api/sessions", {"flow": "check-out"})[0] == 201
    wait_for(lambda: tasks_naming(rig, "1001"), what="the staff task")
    assert "room 103" in tasks_naming(rig, "1001")[0]["Name"]


# ---- 8: the idle clock follows the guest's taps and typing ------------------------------------------------

def test_activity_from_the_screen_keeps_a_slow_typist_s_session(kiosk):
    rig, svc = kiosk
    status, screen, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in"})
    sid = screen["session"]
    session = svc.get(sid)
    session.last_input -= rig.cfg.kiosk.idle_timeout + 5  # no API call for a while: the guest is typing
    assert ask(svc, "POST", f"/api/sessions/{sid}/activity", {})[0] == 204
    session.last_input -= 10
    svc.reap()
    assert ask(svc, "GET", f"/api/sessions/{sid}")[0] == 200


# ---- 6: more keys than allowed are refused before the stay is started -------------------------------------

def test_cli_asking_too_many_keys_is_refused_before_anything_is_started(kiosk):
    import subprocess
    import sys

    rig, svc = kiosk
    text = (rig.tmp / "config.toml").read_text().replace('listen = "127.0.0.1:0"', f'listen = "{svc.url[7:]}"')
    (rig.tmp / "config.toml").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "agent", "kiosk", "check-in", "--number", "1001", "--last-name",
                           "Walker", "--keys", "5", "--config", str(rig.tmp / "config.toml"), "--json"],
                          capture_output=True, text=True, timeout=120)
    result = json.loads(proc.stdout)
    assert proc.returncode == 1 and result["result"] == "refused", proc.stdout + proc.stderr
    assert "2" in result["message"]  # says how many keys are allowed
    assert rig.reservation("1001")["State"] == "Confirmed" and rig.encoder.keys == []


def test_a_double_tap_on_pay_charges_once(kiosk):
    rig, svc = kiosk
    rig.terminal.mode = "slow"  # the first tap is still at the terminal when the second arrives
    status, screen, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in"})
    sid = screen["session"]
    act(svc, sid, "find", number="1002", last_name="Fernandez")
    assert act(svc, sid, "confirm")["screen"] == "payment"
    first = ask(svc, "POST", f"/api/sessions/{sid}/input", {"action": "pay"})[0]
    second = ask(svc, "POST", f"/api/sessions/{sid}/input", {"action": "pay"})[0]
    assert (first, second) == (200, 409)
    settle(svc, ask(svc, "GET", f"/api/sessions/{sid}")[1])
    assert rig.terminal.charge_requests == 1
