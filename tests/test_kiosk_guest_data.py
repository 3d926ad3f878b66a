"""A card holder's name leaves no trace under state_dir once its payment record was delivered (issue 21 item 15).

A real `kiosk-agent run` with the kiosk, the Mews simulator and the simulated terminal; the terminal names
the holder with a marker no other data holds, and every byte of every file under state_dir is searched.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from agent.commands.kiosk import Api
from sim.encoder import VirtualEncoder
from sim.mews.server import MewsSimulator
from sim.printer.virtual import VirtualPrinter
from sim.serving import free_port
from sim.terminal.server import TerminalSimulator
from tests.agent_harness import start_agent, wait_running, wait_until
from tests.kiosk_process_harness import act, kiosk_config, new_session, settle

WIPED_WITHIN = 60.0  # the README's promise


def files_holding(folder: Path, marker: str) -> list[str]:
    """Every file under ``folder`` (recursively, raw bytes) that holds ``marker``."""
    found = []
    for path in sorted(folder.rglob("*")):
        try:
            if path.is_file() and marker.encode() in path.read_bytes():
                found.append(str(path.relative_to(folder)))
        except OSError:  # a file that went away while we looked holds nothing
            pass
    return found


def wait_wiped(state: Path, marker: str, since: float, what: str = "the delivery") -> float:
    """Seconds after ``since`` until no file holds ``marker``; fails naming the files after WIPED_WITHIN."""
    while True:
        holding = files_holding(state, marker)
        if not holding:
            return time.monotonic() - since
        assert time.monotonic() - since < WIPED_WITHIN, \
            f"the holder's name is still in {holding} {WIPED_WITHIN:.0f} s after {what}"
        time.sleep(0.2)


def pay_at_check_in(api, number: str, last_name: str) -> dict:
    screen = settle(api, act(api, new_session(api), "find", number=number, last_name=last_name))
    assert screen["screen"] == "details", screen
    screen = settle(api, act(api, screen, "confirm"))
    assert screen["screen"] == "payment", screen
    return act(api, screen, "pay")


class Rig:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.stack = [MewsSimulator(rate_limit=False),
                      VirtualEncoder(log_path=str(tmp_path / "keys.jsonl")),
                      VirtualPrinter(out_dir=tmp_path / "receipts"), TerminalSimulator(timeout=1.0)]
        self.sim, encoder, printer, self.terminal = (part.start() for part in self.stack)
        self.config = kiosk_config(tmp_path, self.sim, encoder, printer, self.port)
        with open(self.config, "a") as f:
            f.write(f'[payment]\naddress = "127.0.0.1:{self.terminal.port}"\ntimeout = 5.0\n')
        self.state = tmp_path / "state"
        self.api = Api(f"http://127.0.0.1:{self.port}")

    def close(self):
        for part in reversed(self.stack):
            part.stop()


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


@pytest.mark.timeout(180)
def test_the_holder_name_is_in_no_file_once_the_payment_record_was_delivered(rig):
    marker = "ZZHOLDERQX"
    rig.terminal.next_holder = marker
    proc = start_agent(rig.config)
    try:
        screen = settle(rig.api, pay_at_check_in(rig.api, "1002", "Fernandez"))
        assert screen["screen"] == "keys", screen  # the payment was recorded: the flow went on
        (payment,) = rig.sim.enterprise.payments
        delivered = time.monotonic()
        wiped_after = wait_wiped(rig.state, marker, delivered)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(40)
    assert files_holding(rig.state, marker) == []
    print(f"holder name wiped {wiped_after:.2f} s after the delivery")


@pytest.mark.timeout(180)
def test_the_holder_name_is_in_no_file_after_a_kill_9_right_after_the_delivery(rig):
    marker = "ZZHOLDERKX"
    rig.terminal.next_holder = marker
    walker = rig.sim.enterprise.reservations
    walker = next(r for r in walker.values() if r["Number"] == "1001")["CustomerId"]
    with rig.sim.enterprise.lock:  # a minibar bill makes Walker's check-in take a payment
        rig.sim.enterprise.items.append(rig.sim.enterprise._item(walker, "Minibar", 20.0, "GBP"))
    proc = start_agent(rig.config)
    killed = threading.Event()

    def kill_at_delivery():
        while not rig.sim.enterprise.payments and proc.poll() is None:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        killed.set()

    try:
        watcher = threading.Thread(target=kill_at_delivery, daemon=True)
        watcher.start()
        pay_at_check_in(rig.api, "1001", "Walker")
        assert killed.wait(60), "the payment record never reached the platform"
        proc.wait(20)
        assert proc.returncode == -signal.SIGKILL
        restarted = time.monotonic()
        proc = start_agent(rig.config)
        wait_running(rig.state.parent, time.time() - 1)
        # A record the kill caught before it left the outbox is sent again after the restart: wait for it.
        wait_until(lambda: not _pending_calls(rig.state), timeout=30, what="the outbox delivering the record")
        wiped_after = wait_wiped(rig.state, marker, restarted, "the restart")
        assert proc.poll() is None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(40)
    assert rig.sim.enterprise.payments
    assert files_holding(rig.state, marker) == []
    print(f"holder name wiped {wiped_after:.2f} s after the restart")


def _pending_calls(state: Path) -> int:
    import sqlite3

    db = sqlite3.connect(f"file:{state / 'agent.db'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT COUNT(*) FROM outbox WHERE kind='call' AND dead=0").fetchone()[0]
    finally:
        db.close()
