"""Document rows in the outbox (issue 26 item 5): in no file once delivered or refused, also after a kill -9."""

from __future__ import annotations

import datetime as dt

from agent.documents import mrz, platform
from agent.mews import errors as mews_errors
from agent.runtime.outbox import OutboxSender
from agent.runtime.store import Store
from sim.reader import specimens
from tests.store_harness import crash_copy, holding

NUMBER = "ZZ9WIPE77"


def document_row() -> dict:
    doc = mrz.parse(specimens.passport("MUELLER", "ANNA", number=NUMBER, expiry=dt.date(2031, 1, 1)))
    return platform.payload(doc, "c1")


class Platform:
    """Stands in for the Mews client: records calls; ``refuse`` answers 400 like a platform that rejects it."""

    current = True

    def __init__(self, refuse: bool = False):
        self.refuse = refuse
        self.calls = []

    def call(self, operation, body):
        if self.refuse:
            raise mews_errors.BadRequest("Invalid CustomerId", status=400)
        self.calls.append((operation, body))
        return {"IdentityDocuments": []}

    def update_command(self, *a, **k):
        return {}


def test_the_row_holds_only_what_is_sent():
    row = document_row()
    assert set(row) == {"CustomerId", "Type", "Number", "ExpirationDate", "BirthDate", "IssuingCountryCode",
                        "NationalityCode"}
    assert "MUELLER" not in str(row)  # names are never sent: the booking has them


def test_a_delivered_document_is_in_no_file_and_a_kill_9_before_delivery_is_delivered_then_wiped(tmp_path):
    state = tmp_path / "state"
    store = Store(state)
    try:
        store.outbox.enqueue_document(document_row())
        assert holding(state, NUMBER) == ["agent.db-wal"]
        crashed = crash_copy(state, tmp_path / "crashed")  # a kill -9 before delivery
        client = Platform()
        assert OutboxSender(store, client).flush(5.0)
        assert [op for op, _ in client.calls] == ["customers/update", "identityDocuments/getAll",
                                                  "identityDocuments/add"]
        assert holding(state, NUMBER) == []
    finally:
        store.close()
    restarted = Store(crashed)  # the restart delivers what the crash left, then wipes it
    try:
        assert restarted.outbox.depth() == (1, 0)
        assert OutboxSender(restarted, Platform()).flush(5.0)
        assert holding(crashed, NUMBER) == []
    finally:
        restarted.close()


def test_a_refused_document_is_deleted_not_kept_as_a_dead_letter(tmp_path):
    state = tmp_path / "state"
    store = Store(state)
    try:
        store.outbox.enqueue_document(document_row())
        assert OutboxSender(store, Platform(refuse=True)).flush(5.0)
        assert store.outbox.depth() == (0, 0) and store.counters()["dead_letters"] == 1
        assert holding(state, NUMBER) == []
    finally:
        store.close()


def test_queue_list_never_prints_a_waiting_document(tmp_path):
    import subprocess
    import sys

    store = Store(tmp_path / "state")
    try:
        store.outbox.enqueue_document(document_row())
    finally:
        store.close()
    cfg = tmp_path / "c.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "t"\n'
                   f'[agent]\nstate_dir = "{tmp_path / "state"}"\n')
    for extra in ([], ["--json"]):
        r = subprocess.run([sys.executable, "-m", "agent", "queue", "list", "--config", str(cfg), *extra],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "Passport" in r.stdout and NUMBER not in r.stdout + r.stderr
