"""Jobs from every source on one worker per device; the journal per key; stop, lock, reprint, token faults."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import time

import pytest

from agent.runtime.dispatcher import Dispatcher
from agent.runtime.backoff import Backoff
from agent.runtime.health import Health
from agent.runtime.jobs import Job, JobKind, OutcomeState, Source
from agent.runtime.panel import PanelActions
from agent.runtime.journal import Journal
from agent.runtime.store import Store
from hal.errors import DeviceError
from tests.runtime_harness import FakeHandler, cmd, command, config, final_of, history, visi, wait_until
from agent.devices.encoder.handler import from_config as encoder_from_config
from sim.encoder import VirtualEncoder


@contextlib.contextmanager
def printer_dispatcher(tmp_path, **kw):
    """A dispatcher with the real printer handler on a virtual printer: (dispatcher, store, printer)."""
    from agent.devices.printer.config import PrinterConfig
    from agent.devices.printer.handler import PrinterHandler
    from sim.printer.virtual import VirtualPrinter

    with VirtualPrinter() as vp:
        store = Store(tmp_path)
        d = Dispatcher(store, [PrinterHandler(PrinterConfig(port=vp.url, baudrate=921600, row_time_ms=0.0))],
                       Health(), **kw)
        d.start()
        try:
            yield d, store, vp
        finally:
            d.stop(5)


def text_document(text: bytes) -> dict:
    return {"FileType": "text/plain", "FileData": base64.b64encode(text).decode()}


@pytest.fixture
def encoder_sim(tmp_path):
    s = VirtualEncoder(card_delay=0.05).start()
    yield s
    s.stop()


def test_a_local_key_job_and_a_mews_key_command_on_one_encoder_run_in_order(tmp_path, encoder_sim):
    handler = encoder_from_config(config(encoder_sim.url))
    store = Store(tmp_path)
    d = Dispatcher(store, [handler], Health())
    d.start()
    try:
        d.offer([command(visi(KeyCount=3, LockIds=["101"]), cid="mews-1")])
        local = d.submit(Job(kind=JobKind.CUT_KEYS, data=visi(KeyCount=2, LockIds=["202"]), source=Source.KIOSK))
        outcome = local.wait(60)
        wait_until(lambda: final_of(store, "mews-1"), timeout=60)
        assert outcome.ok and outcome.result == {"keys_made": 2, "keys_asked": 2}
        rooms = [(k["command"], tuple(k["rooms"])) for k in encoder_sim.keys]
        # never interleaved: the Mews series first (it was queued first), then the kiosk's
        assert rooms == [("CN", ("101",)), ("CC", ("101",)), ("CC", ("101",)), ("CN", ("202",)), ("CC", ("202",))]
        assert final_of(store, "mews-1") == ["Processed"]
    finally:
        d.stop(5)
        handler.close()


@pytest.mark.parametrize("made, total, state, note", [
    (3, 3, "Processed", "3 keys encoded"),
    (1, 3, "Error", "1 of 3 keys made"),
])
def test_after_a_crash_the_key_journal_decides(tmp_path, made, total, state, note):
    store = Store(tmp_path)
    store.journal.begin("k1", "KeyCutter")
    store.journal.key("k1", made, total)
    keys = FakeHandler(types=("KeyCutter",), name="encoder", retry_after_crash=False)
    d = Dispatcher(store, [keys], Health())
    d.start()  # on today's code: every interrupted key command ends Error, even with all keys made
    try:
        wait_until(lambda: final_of(store, "k1"))
        [(cid, got, notes)] = [h for h in history(store) if h[0] == "k1"]
        assert got == state and note in notes
        d.offer([cmd("k1", dtype="KeyCutter", state="Received")])
        time.sleep(0.2)
        assert keys.executed == []  # no further key
    finally:
        d.stop(2)


def test_a_stop_leaves_a_waiting_command_as_it_is_and_it_resumes_after_the_restart(tmp_path):
    waiting = FakeHandler(script=[DeviceError("paper out")] * 1000)
    store = Store(tmp_path)
    d = Dispatcher(store, [waiting], Health(), retry_backoff=Backoff(0.05, 0.1))
    d.start()
    d.offer([cmd("p1")])
    wait_until(lambda: len(waiting.executed) >= 2)
    d.stop(5)  # on today's code: Error "printer: paper out (gave up after 0 min)"
    assert final_of(store, "p1") == []
    again = FakeHandler()
    d2 = Dispatcher(Store(tmp_path), [again], Health())
    d2.start()
    try:
        wait_until(lambda: final_of(d2.store, "p1"))
        assert again.executed == ["p1"] and final_of(d2.store, "p1") == ["Processed"]
    finally:
        d2.stop(2)


def test_reprint_with_paper_out_shows_the_failure_and_retries_nothing(tmp_path):
    with printer_dispatcher(tmp_path) as (d, store, vp):
        first = d.submit(Job(kind=JobKind.PRINT_DOCUMENT, source=Source.POS, data=text_document(b"Coffee 2.50")))
        assert first.wait(30).ok and vp.wait_receipts(1)
        vp.set_state(paper_out=True)
        seen = []
        outcome = PanelActions(d, store).reprint_last(on_progress=seen.append)
        assert outcome.state is OutcomeState.FAILED and "paper" in outcome.note
        vp.set_state(paper_out=False)
        time.sleep(1.0)
        assert len(vp.receipts) == 1  # nothing reprinted behind the user's back


def test_second_run_on_one_state_folder_exits_2_naming_the_folder_and_the_pid(tmp_path):
    from agent.runtime.statelock import StateLock

    lock = StateLock(tmp_path / "state")
    lock.acquire()
    try:
        (tmp_path / "config.toml").write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\n'
                                              'generation = "seed"\nconnector_token = "t"\nclient_token = "c"\n'
                                              f'[agent]\nstate_dir = "{tmp_path / "state"}"\n')
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "agent", "run", "--config", str(tmp_path / "config.toml")],
                             capture_output=True, text=True, timeout=30)
        assert time.monotonic() - started < 15
        assert run.returncode == 2
        assert "agent.state_dir" in run.stderr and f"pid {os.getpid()}" in run.stderr
    finally:
        lock.release()


def test_a_rejected_token_is_token_rejected_with_its_own_screen():
    from agent.mews import errors as mews_errors
    from agent.runtime.loop import DrainLoop
    from agent.panel.screens import choose

    rejected = getattr(mews_errors, "TokenRejected", None)
    if rejected is None:
        pytest.skip("agent.mews.errors.TokenRejected is not on this branch yet (wt-store provides it)")

    class Refusing:
        def get_all_active_commands(self):
            raise rejected("401: the connector token was refused")

    health = Health()
    loop = DrainLoop(Refusing(), None, health, poll_interval=1.0)
    loop.drain()
    assert loop.connection_state() == "token_rejected"
    assert loop.paused_until - time.monotonic() > 50  # retried once a minute
    health.connection = loop.connection_state()
    assert "check [mews] connector_token" in choose(health, time.time()).text.replace("\n", " ")
    assert "token_rejected" in health.status_line()


def test_a_failed_drain_is_retried_with_backoff_while_the_websocket_stays_up():
    from agent.mews import errors as mews_errors
    from agent.runtime.loop import DrainLoop

    class Flaky:
        calls = 0

        def get_all_active_commands(self):
            self.calls += 1
            if self.calls < 3:
                raise mews_errors.ServerError("503 from the platform") if hasattr(mews_errors, "ServerError") \
                    else OSError("connection reset")
            return []

    class Up:
        connected = True

    class Offers:
        offered = 0

        def offer(self, commands):
            self.offered += 1
            return 0

    client, offers = Flaky(), Offers()
    loop = DrainLoop(client, offers, Health(), poll_interval=2.0, listener=Up())
    end = time.monotonic() + 20
    while offers.offered == 0 and time.monotonic() < end:  # on today's code: no retry until the next event
        loop.tick()
        time.sleep(0.05)
    assert client.calls == 3 and offers.offered == 1
    assert loop.connection_state() == "online"


def test_a_command_named_but_not_parsed_ends_in_error_once(tmp_path):
    import dataclasses

    store = Store(tmp_path)
    d = Dispatcher(store, [FakeHandler()], Health())
    d.start()
    try:
        bad = cmd("bad1")
        if "invalid" in {f.name for f in dataclasses.fields(bad)}:
            bad = dataclasses.replace(bad, invalid="CreatedUtc is not a date and time")
        else:
            object.__setattr__(bad, "invalid", "CreatedUtc is not a date and time")
        d.offer([bad])
        d.offer([bad])
        assert history(store) == [("bad1", "Error", "CreatedUtc is not a date and time")]
    finally:
        d.stop(2)


def test_a_reloaded_paper_roll_is_noticed_within_2_s_while_a_print_waits(tmp_path):
    class Longest:
        def uniform(self, low, high):
            return high

    # a long retry delay: only the status poll can resume the job early (old code: slept the delay)
    with printer_dispatcher(tmp_path, retry_backoff=Backoff(60.0, 60.0, rng=Longest())) as (d, store, vp):
        vp.set_state(paper_out=True)
        d.offer([cmd("p1", data=text_document(b"Registration card"))])
        wait_until(lambda: d.health.devices["printer"].state == "fault", timeout=30)
        time.sleep(1.0)
        vp.set_state(paper_out=False)
        reloaded = time.monotonic()
        wait_until(lambda: final_of(store, "p1"), timeout=30)
        assert time.monotonic() - reloaded < 10  # generous bound; the poll runs every 0.5 s
        assert final_of(store, "p1") == ["Processed"] and vp.wait_receipts(1)


def test_lost_records_never_cause_a_second_key_but_printing_goes_ahead(tmp_path):
    store = Store(tmp_path)
    store.lost_state = True  # what the store reports after a replaced or corrupt agent.db
    keys = FakeHandler(types=("KeyCutter",), name="encoder", retry_after_crash=False)
    printer = FakeHandler()
    d = Dispatcher(store, [keys, printer], Health())
    d.start()
    try:
        d.offer([cmd("k1", dtype="KeyCutter", state="Received"), cmd("p1", state="Received")])
        wait_until(lambda: final_of(store, "k1") and final_of(store, "p1"))
        notes = {c: n for c, s, n in history(store) if s == "Error"}
        assert "lost its records" in notes["k1"] and keys.executed == []
        assert printer.executed == ["p1"]
    finally:
        d.stop(2)


def test_a_key_job_whose_journal_cannot_be_written_waits_and_cuts_nothing(tmp_path):
    import sqlite3

    class FullDisk(Journal):
        full = True

        def begin(self, *a, **kw):
            if self.full:
                raise sqlite3.OperationalError("database or disk is full")
            return super().begin(*a, **kw)

    store = Store(tmp_path)
    store.journal = disk = FullDisk(store)
    keys = FakeHandler(types=("KeyCutter",), name="encoder", retry_after_crash=False)
    d = Dispatcher(store, [keys], Health())
    d.start()
    try:
        d.offer([cmd("k1", dtype="KeyCutter")])
        wait_until(lambda: d.journal_fault)
        time.sleep(0.3)
        assert keys.executed == [] and "disk is full" in d.health.devices["encoder"].fault
        disk.full = False  # the disk has room again
        wait_until(lambda: final_of(store, "k1"), timeout=20)
        assert keys.executed == ["k1"] and final_of(store, "k1") == ["Processed"] and not d.journal_fault
    finally:
        d.stop(2)
