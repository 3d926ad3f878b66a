"""kill -9 of a real `kiosk-agent run` between reservations/start and the keys (issue 15), then a restart."""

from __future__ import annotations

import signal
import sqlite3
import time

import pytest

from agent.commands.kiosk import Api
from sim.encoder import VirtualEncoder
from sim.mews.server import MewsSimulator
from sim.printer.virtual import VirtualPrinter
from sim.serving import free_port
from tests.agent_harness import start_agent, wait_until
from tests.kiosk_process_harness import act, kiosk_config, new_session, settle


def unfinished_journal(tmp_path) -> list:
    db = sqlite3.connect(tmp_path / "state" / "agent.db")
    try:
        return db.execute("SELECT command_id, device_type, state FROM journal WHERE state NOT IN ('done')").fetchall()
    finally:
        db.close()


@pytest.mark.timeout(300)
def test_kill_9_while_the_first_key_is_presented_cuts_no_key_twice_and_calls_staff(tmp_path):
    port = free_port()
    with MewsSimulator(rate_limit=False) as sim, \
            VirtualEncoder(card_delay=3.0, log_path=str(tmp_path / "keys.jsonl")) as encoder, \
            VirtualPrinter(out_dir=tmp_path / "receipts") as printer:
        config = kiosk_config(tmp_path, sim, encoder, printer, port)
        api = Api(f"http://127.0.0.1:{port}")
        proc = start_agent(config)
        try:
            screen = settle(api, act(api, new_session(api), "find", number="1001", last_name="Walker"))
            assert screen["screen"] == "details", screen
            screen = settle(api, act(api, screen, "confirm"))
            assert screen["screen"] == "keys" and not screen["busy"], screen
            number = "1001"
            reservation = next(r for r in sim.enterprise.reservations.values() if r["Number"] == number)
            assert reservation["State"] == "Started"
            act(api, screen, "keys", count=2)
            # The first card is on the encoder (CN sent, the guest's card_delay running): kill -9 now.
            wait_until(lambda: api.ask("GET", f"/api/sessions/{screen['session']}")[1]["message"]["id"]
                       == "checkin.keys.present", timeout=30, interval=0.02, what="first key on the encoder")
            time.sleep(1.0)
            assert encoder.keys == [], "the kill must land while the first card is presented"
            proc.send_signal(signal.SIGKILL)
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(20)
        wait_until(lambda: len(encoder.keys) >= 1, timeout=10, what="the encoder finishing the card it had")
        proc = start_agent(config)
        try:
            screen = new_session(api)  # the restarted kiosk serves a new session
            assert screen["screen"] == "find"
            again = settle(api, act(api, screen, "find", number=number, last_name="Walker"))
            assert again["screen"] == "refused", again  # checked in already: no second start, no second series
            with_task = lambda: [t for t in sim.enterprise.tasks if f"reservation {number}" in t["Name"]]  # noqa: E731
            end = time.monotonic() + 10
            while not with_task() and time.monotonic() < end:
                time.sleep(0.2)
            time.sleep(1.0)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(40)
        assert reservation["State"] == "Started"
        cut = [(k["command"], k["copy"], tuple(k["rooms"])) for k in encoder.keys]
        assert len(cut) == len(set(cut)) == 1 and cut[0][0] == "CN", cut  # no key cut twice, no new series
        assert unfinished_journal(tmp_path) == []
        (task,) = with_task()
        assert "Walker" not in task["Name"] + (task["Description"] or "")
