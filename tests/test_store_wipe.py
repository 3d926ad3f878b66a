"""A delivered payment record leaves no byte of guest data in agent.db, its WAL or its shm (issue 21 item 15).

What a kill -9 leaves is what the files hold at that moment: a copy of them taken while the store is open
stands for the crash, and a Store opened on the copy stands for the restart.
"""

from __future__ import annotations

import sqlite3

from agent.runtime.outbox import OutboxSender
from agent.runtime.store import Store
from tests.store_harness import MARKER, crash_copy, holding  # noqa: F401

BODY = {"CustomerId": "c1", "Amount": {"Currency": "GBP", "Value": 10.0},
        "CreditCard": {"Type": "Visa", "Number": "411111******1111", "Expiration": "12/2030", "Name": MARKER},
        "ReceiptIdentifier": "SIM000001", "Notes": "Kiosk payment, reservation 1002"}


class Client:
    def __init__(self):
        self.calls = []

    def call(self, operation, body):
        self.calls.append((operation, body))
        return {}

    def update_command(self, command_id, state, progress=None, notes=None):
        return {}


def busy_store(tmp_path) -> Store:
    """A store with traffic around the payment record: reports before and after it."""
    store = Store(tmp_path / "state")
    for i in range(20):
        store.outbox.enqueue_report(f"cmd-{i}", "Processing", progress=0.5)
    return store


def test_a_delivered_payment_record_is_in_no_file_while_the_agent_runs(tmp_path):
    store = busy_store(tmp_path)
    try:
        row = store.outbox.enqueue_call("payments/addCreditCard", BODY)
        assert holding(tmp_path / "state") == ["agent.db-wal"]  # the test can see the name where it is
        client = Client()
        assert OutboxSender(store, client).flush(5.0)
        assert client.calls and not store.outbox.pending(row)
        assert holding(tmp_path / "state") == []
        store.outbox.enqueue_report("cmd-x", "Processed")  # the store goes on working after the wipe
        assert store.outbox.depth() == (1, 0)
    finally:
        store.close()


def test_a_reader_delays_the_wipe_to_the_next_check_and_a_kill_9_meanwhile_is_wiped_at_the_restart(tmp_path):
    state = tmp_path / "state"
    store = busy_store(tmp_path)
    reader = sqlite3.connect(state / "agent.db", isolation_level=None)  # e.g. `kiosk-agent status` reading
    try:
        row = store.outbox.enqueue_call("payments/addCreditCard", BODY)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM outbox").fetchone()  # holds a snapshot: the WAL cannot be reset
        store.outbox.sent(row)  # delivered
        assert not store.outbox.pending(row)
        crashed = crash_copy(state, tmp_path / "crashed")  # a kill -9 now
        reader.execute("COMMIT")
        store.check()  # the loop's next check (every 5 s) wipes what the reader held back
        assert holding(state) == []
    finally:
        reader.close()
        store.close()
    assert holding(crashed) == ["agent.db-wal"]  # the crash left the name in the WAL ...
    restarted = Store(crashed)
    try:
        assert holding(crashed) == []  # ... and the restart's open wiped it
        assert restarted.outbox.depth() == (20, 0) and not restarted.outbox.pending(row)
    finally:
        restarted.close()


def test_a_dropped_payment_record_is_in_no_file(tmp_path):
    store = busy_store(tmp_path)
    try:
        row = store.outbox.enqueue_call("payments/addCreditCard", BODY)
        store.outbox.dead_letter(row, "403 refused")
        assert store.outbox.drop([row]) == 1  # staff: `kiosk-agent queue drop`
        assert holding(tmp_path / "state") == []
    finally:
        store.close()


def test_check_also_wipes_other_deleted_rows_from_the_wal_every_wipe_every_seconds(tmp_path):
    state = tmp_path / "state"
    lazy, eager = Store(state / "lazy"), Store(state / "eager", wipe_every=0.0)
    try:
        for store in (lazy, eager):
            store.outbox.enqueue_report("cmd-1", "Processing", notes=MARKER)
            store.outbox.enqueue_report("cmd-1", "Processed")  # the newer report replaces (deletes) the older one
            assert MARKER not in str([r.payload for r in store.outbox.reports()])
            store.check()
        assert holding(state / "lazy") == ["agent.db-wal"]  # within the 60 s: still in the WAL
        assert holding(state / "eager") == []
    finally:
        lazy.close()
        eager.close()
