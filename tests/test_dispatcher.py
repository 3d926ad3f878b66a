import json
import threading
import time

import pytest

from agent.mews.models import Command
from agent.runtime.backoff import Backoff
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.handler import CommandRejected
from agent.runtime.health import Health
from agent.runtime.store import Store
from hal.errors import DeviceError
from tests.runtime_harness import FakeHandler, cmd, final_of, history, wait_until


@pytest.fixture
def make(tmp_path):
    made = []

    def _make(*handlers, **kw):
        store = Store(tmp_path)
        d = Dispatcher(store, list(handlers), Health(), retry_backoff=Backoff(0.01, 0.02), **kw)
        d.start()
        made.append(d)
        return d, store

    yield _make
    for d in made:
        d.stop(2)


def test_no_handler_ends_in_error_with_clear_note(make):
    d, store = make(FakeHandler())
    d.offer([cmd("x", dtype="PassportScanner")])
    assert history(store) == [("x", "Error", "no device of type PassportScanner is attached to this agent")]


def test_lifecycle_received_then_processed(make):
    h = FakeHandler()
    d, store = make(h)
    d.offer([cmd("a")])
    wait_until(lambda: final_of(store, "a"))
    assert h.executed == ["a"]
    states = [s for c, s, _ in history(store)]
    # Received may already be collapsed into Processed; never anything after the final state
    assert states[-1] == "Processed" and set(states) <= {"Received", "Processed"}


def test_duplicate_offers_execute_once(make):
    h = FakeHandler()
    d, store = make(h)
    for _ in range(5):
        d.offer([cmd("a"), cmd("a")])
    wait_until(lambda: final_of(store, "a"))
    d.offer([cmd("a")])
    time.sleep(0.1)
    assert h.executed == ["a"]


def test_runs_in_creation_order_per_device(make):
    h = FakeHandler()
    h.gate = threading.Event()
    d, store = make(h)
    d.offer([cmd("late", created="2026-01-01T00:00:03Z"), cmd("early", created="2026-01-01T00:00:01Z"),
             cmd("mid", created="2026-01-01T00:00:02Z")])
    h.gate.set()
    wait_until(lambda: len(h.executed) == 3)
    assert h.executed == ["early", "mid", "late"]


def test_retryable_device_error_waits_then_succeeds(make):
    h = FakeHandler(script=[DeviceError("paper out"), DeviceError("paper out"), None])
    d, store = make(h)
    d.offer([cmd("a")])
    wait_until(lambda: final_of(store, "a"))
    assert final_of(store, "a") == ["Processed"] and len(h.executed) == 3


def test_retryable_error_gives_up_after_device_timeout(make):
    h = FakeHandler(script=[DeviceError("paper out")] * 1000)
    d, store = make(h, device_timeout=0.2)
    d.offer([cmd("a")])
    wait_until(lambda: final_of(store, "a"))
    (note,) = [n for c, s, n in history(store) if s == "Error"]
    assert note.startswith("printer: paper out (gave up after")


def test_rejected_and_permanent_errors_end_in_error(make):
    h = FakeHandler(script=[CommandRejected("invalid base64 in FileData"), DeviceError("unknown room 512", retryable=False)])
    d, store = make(h)
    d.offer([cmd("a"), cmd("b", created="2026-01-01T00:00:01Z")])
    wait_until(lambda: final_of(store, "a") and final_of(store, "b"))
    notes = {c: n for c, s, n in history(store) if s == "Error"}
    assert notes == {"a": "invalid base64 in FileData", "b": "printer: unknown room 512"}


def test_unexpected_exception_is_an_error_not_a_crash(make):
    h = FakeHandler(script=[ZeroDivisionError("boom"), None])
    d, store = make(h)
    d.offer([cmd("a"), cmd("b", created="2026-01-01T00:00:01Z")])
    wait_until(lambda: final_of(store, "b"))
    assert final_of(store, "a") == ["Error"] and final_of(store, "b") == ["Processed"]


def second_queued(make):
    """A printer busy with "first" (held at its gate) and "second" waiting in its queue."""
    h = FakeHandler()
    h.gate = threading.Event()
    d, store = make(h)
    d.offer([cmd("first"), cmd("second", created="2026-01-01T00:00:05Z")])
    wait_until(lambda: h.executed == ["first"])
    return h, d, store


def test_cancelled_while_queued_is_not_executed(make):
    h, d, store = second_queued(make)
    d.cancel("second")
    h.gate.set()
    time.sleep(0.3)
    assert h.executed == ["first"]


def test_cancelled_midway_stops_between_steps(make):
    h = FakeHandler(steps=5)
    h.gate = threading.Semaphore(0)
    d, store = make(h)
    d.offer([cmd("a")])
    h.gate.release()  # step 1
    wait_until(lambda: d.health.devices["printer"].done == 1)
    d.cancel("a")
    for _ in range(5):
        h.gate.release()
    wait_until(lambda: d.health.devices["printer"].state == "idle")
    assert d.health.devices["printer"].done == 0 and final_of(store, "a") == []


def _deliver_all(store):
    for r in store.outbox.next_reports("command", 1000):
        store.outbox.sent(r.id)


def test_running_command_missing_from_the_active_list_is_not_cancelled(make):
    """getAllActive lists Pending and Received only: a command we report Processing leaves it."""
    h = FakeHandler(steps=2)
    h.gate = threading.Semaphore(0)
    d, store = make(h)
    d.offer([cmd("a")])
    h.gate.release()
    wait_until(lambda: d.health.devices["printer"].done == 1)
    _deliver_all(store)
    d.offer([])  # the platform now holds it as Processing: not listed
    h.gate.release()
    wait_until(lambda: final_of(store, "a"))
    assert final_of(store, "a") == ["Processed"] and "a" not in d.cancelled


def test_queued_command_missing_from_the_active_list_after_received_was_cancelled(make):
    h, d, store = second_queued(make)
    d.offer([cmd("first", state="Received"), cmd("second", state="Received")])
    assert "second" not in d.cancelled  # Received not delivered yet: still listed
    _deliver_all(store)
    d.offer([])
    h.gate.set()
    wait_until(lambda: final_of(store, "first"))
    time.sleep(0.2)
    assert h.executed == ["first"] and final_of(store, "second") == []


def test_retry_after_a_restart_is_not_taken_for_a_cancel(tmp_path):
    """A print interrupted by a crash is retried; the platform holds it as Processing, so it
    is missing from getAllActive, which must not be read as a cancel."""
    store = Store(tmp_path)
    for cid, created in (("a", "2026-01-01T00:00:00Z"), ("b", "2026-01-01T00:00:05Z")):
        command = cmd(cid, state="Received", created=created)
        store.journal.begin(cid, "Printer", json.dumps(command.to_json()))
    store.close()
    h = FakeHandler()
    h.gate = threading.Event()
    store = Store(tmp_path)
    d = Dispatcher(store, [h], Health(), retry_backoff=Backoff(0.01, 0.02))
    d.start()
    try:
        wait_until(lambda: h.executed == ["a"])  # b waits in the queue
        d.offer([])  # the drain after start: neither is listed (the platform says Processing)
        h.gate.set()
        wait_until(lambda: final_of(store, "a") and final_of(store, "b"))
        assert h.executed == ["a", "b"] and final_of(store, "b") == ["Processed"]
        assert store.journal.state("b") == ("done", 2)
    finally:
        d.stop(2)


def test_the_spool_keeps_a_print_command_whole_for_its_retry_and_the_journal_keeps_no_document(make):
    h = FakeHandler()
    h.gate = threading.Event()
    d, store = make(h)
    command = cmd("a", data={"CopyCount": 2, "FileType": "application/pdf", "FileData": "JVBERi0" * 1000})
    d.offer([command])
    wait_until(lambda: h.executed == ["a"])
    [(cid, device_type, runs, payload)] = store.journal.interrupted()
    assert (cid, device_type, runs, payload) == ("a", "Printer", 1, None)  # agent.db holds no document
    assert Command.from_json(d.spool.load("a")) == command  # device id, name, type and data included
    h.gate.set()
    wait_until(lambda: final_of(store, "a"))
    assert d.spool.load("a") is None


def test_progress_reported_for_multi_step_work(make):
    h = FakeHandler(steps=3)
    d, store = make(h)
    d.offer([cmd("a")])
    wait_until(lambda: final_of(store, "a"))
    # Processing with progress was queued before Processed (collapsed now); the journal is done
    assert store.journal.state("a")[0] == "done"


def test_recover_never_repeats_key_cutting_but_retries_printing_once(tmp_path):
    store = Store(tmp_path)
    store.journal.begin("key1", "KeyCutter")
    import json
    printed = json.dumps({"Id": "p1", "State": "Processing", "CreatedUtc": "2026-01-01T00:00:00Z",
                          "Device": {"Id": "d", "Name": "P", "Type": "Printer"}, "Data": {}})
    store.journal.begin("p1", "Printer", printed)
    store.journal.begin("p2", "Printer", printed.replace("p1", "p2"))
    store.journal.begin("p2", "Printer", printed.replace("p1", "p2"))  # already retried once
    printer, keys = FakeHandler(), FakeHandler(types=("KeyCutter",), name="encoder", retry_after_crash=False)
    d = Dispatcher(store, [printer, keys], Health())
    d.start()
    try:
        wait_until(lambda: final_of(store, "p1"))
        notes = {c: n for c, s, n in history(store) if s == "Error"}
        assert "restarted during encoder work" in notes["key1"]
        assert "twice" in notes["p2"]
        assert printer.executed == ["p1"] and keys.executed == []
        d.offer([cmd("key1", dtype="KeyCutter", state="Received")])
        time.sleep(0.2)
        assert keys.executed == []
    finally:
        d.stop(2)


def test_device_retries_do_not_count_as_restarts(make):
    h = FakeHandler(script=[DeviceError("paper out")] * 3 + [None])
    d, store = make(h)
    d.offer([cmd("a")])
    wait_until(lambda: final_of(store, "a"))
    assert len(h.executed) == 4
    assert store.journal.state("a") == ("done", 1)
