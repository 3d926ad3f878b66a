"""The outbox rows in agent.db: reports to commands/update, forwards, platform calls, dead letters, depth.

``OutboxRows`` is one part of ``Store`` (``store.outbox``; it uses the store's connection,
lock and transactions, and the store's journal). A report the disk refuses waits in memory (``held``) and is
written by a later write or ``Store.check()``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from agent.mews.models import FINAL_STATES as FINAL
from agent.runtime.dbfile import StorageError
from agent.runtime.journal import DONE, Journal

if TYPE_CHECKING:  # the store holds this part; only its type is needed here
    from agent.runtime.store import Store

log = logging.getLogger("agent.runtime.store")

MAX_PENDING = 10_000
MAX_HELD = 1000  # reports kept in memory while the disk refuses writes
GUEST_DATA = ("call", "document")  # kinds whose payload holds guest data (a card holder's name): wiped once deleted
NEVER_KEPT = ("document",)  # kinds deleted (not kept as dead letters) when the platform refuses them: identity data

SENDING = "sent; the answer was not seen yet"


@dataclass(frozen=True)
class Report:
    """One queued report, as the outbox holds it."""

    id: int
    kind: str
    command_id: str | None
    state: str | None
    payload: dict
    created: float
    attempts: int
    last_error: str | None
    dead: bool
    dead_reason: str | None

    @classmethod
    def from_row(cls, row) -> Report:
        return cls(id=row[0], kind=row[1], command_id=row[2], state=row[3], payload=json.loads(row[4]),
                   created=row[5], attempts=row[6], last_error=row[7], dead=bool(row[8]),
                   dead_reason=row[9])


_REPORT_COLUMNS = "id, kind, command_id, state, payload, created, attempts, last_error, dead, dead_reason"


def _depth(db: sqlite3.Connection) -> tuple[int, int]:
    pending, dead = db.execute("SELECT COALESCE(SUM(dead=0),0), COALESCE(SUM(dead=1),0) FROM outbox").fetchone()
    return int(pending), int(dead)


def insert_call(db: sqlite3.Connection, operation: str, body: dict, created: float,
                recorded: dict | None = None) -> int:
    """Insert a 'call' row inside the caller's transaction (the kiosk's ledger writes it with the approval).

    ``recorded`` ({"AccountId", "Receipt"}) says how to ask the platform whether the call already got
    through, so that a row sent before (an answer lost, a kill -9 before the row was deleted) is never
    recorded twice."""
    payload = {"Operation": operation, "Body": body, **({"Recorded": recorded} if recorded else {})}
    cur = db.execute("INSERT INTO outbox (kind, payload, final, created) VALUES ('call',?,1,?)",
                     (json.dumps(payload), created))
    return inserted_id(cur)


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The id of the row the cursor's INSERT just wrote (sqlite3 leaves lastrowid None only for other statements)."""
    if cur.lastrowid is None:
        raise StorageError("agent.db: an INSERT reported no row id")
    return cur.lastrowid


class _HeldReport(NamedTuple):
    """An ``enqueue_report`` the disk refused, waiting in memory."""

    command_id: str
    state: str
    progress: float | None
    notes: str | None
    journal_done: str | None


def peek_depth(state_dir: Path | str) -> tuple[int, int] | None:
    """(pending, dead) read without opening the store for writing (for `status`, beside a
    running agent, maybe as another user); None when the database cannot be read."""
    try:
        db = sqlite3.connect(f"file:{Path(state_dir) / 'agent.db'}?mode=ro", uri=True, timeout=5)
        try:
            return _depth(db)
        finally:
            db.close()
    except sqlite3.Error:
        return None


class OutboxRows:
    """The outbox table of one store (its connection, lock, transactions, counters and WAL wipes)."""

    def __init__(self, store: Store, journal: Journal, *, max_pending: int = MAX_PENDING):
        self._store = store
        self._journal = journal
        self.max_pending = max_pending
        self._held: list[_HeldReport] = []

    def flush_held(self) -> None:
        """Write the reports held in memory while the disk refused them (stops at the first that still fails)."""
        while self._held:
            try:
                self._write_report(self._held[0])
            except StorageError:
                return
            self._held.pop(0)

    # ---- outbox ---------------------------------------------------------------

    def enqueue_report(self, command_id: str, state: str, *, progress: float | None = None,
                       notes: str | None = None, journal_done: str | None = None) -> int:
        """Queue a commands/update report; older unsent non-final reports of the command collapse into it.

        With ``journal_done`` (a device type) the journal marks the command done in
        the same transaction, so a crash cannot leave one without the other. Never
        raises: when the disk refuses the write the report waits in memory (0 is
        returned) and is written by a later write or ``check()``.
        """
        report = _HeldReport(command_id, state, progress, notes, journal_done)
        with self._store.lock:
            self.flush_held()
            if not self._held:
                try:
                    return self._write_report(report)
                except StorageError:
                    pass
            if state not in FINAL:  # a newer progress report of the command replaces an older held one
                self._held = [h for h in self._held if not (h.command_id == command_id and h.state not in FINAL)]
            self._held.append(report)
            if len(self._held) > MAX_HELD:
                drop = next((h for h in self._held if h.state not in FINAL), self._held[0])
                self._held.remove(drop)
            return 0

    @property
    def held(self) -> int:
        """Reports waiting in memory for the disk."""
        return len(self._held)

    def _write_report(self, report: _HeldReport) -> int:
        command_id, state, progress, notes, journal_done = report
        payload: dict[str, str | float] = {"CommandId": command_id, "State": state}
        if progress is not None:
            payload["Progress"] = progress
        if notes:
            payload["Notes"] = notes
        with self._store.transaction() as db:
            db.execute("DELETE FROM outbox WHERE kind='command' AND command_id=? AND dead=0 AND final=0",
                       (command_id,))
            cur = db.execute(
                "INSERT INTO outbox (kind, command_id, state, payload, final, created) VALUES ('command',?,?,?,?,?)",
                (command_id, state, json.dumps(payload), int(state in FINAL), self._store.clock()))
            if journal_done is not None:
                self._journal.set_state(db, command_id, journal_done, DONE)
            self._bound(db)
            return inserted_id(cur)

    def enqueue_forward(self, event: dict) -> int:
        """Queue an event for the local forward_url."""
        with self._store.transaction() as db:
            cur = db.execute("INSERT INTO outbox (kind, payload, final, created) VALUES ('forward',?,0,?)",
                             (json.dumps(event), self._store.clock()))
            self._bound(db)
            return inserted_id(cur)

    def enqueue_call(self, operation: str, body: dict) -> int:
        """Queue one platform call (e.g. payments/addCreditCard) for the outbox sender; deleted once delivered."""
        with self._store.transaction() as db:
            return insert_call(db, operation, body, self._store.clock())

    def enqueue_document(self, row: dict) -> int:
        """Queue an identity document for the platform (agent.documents.platform); deleted once delivered."""
        with self._store.transaction() as db:
            cur = db.execute("INSERT INTO outbox (kind, payload, final, created) VALUES ('document',?,1,?)",
                             (json.dumps(row), self._store.clock()))
            return inserted_id(cur)

    def pending(self, report_id: int) -> bool:
        """True while a queued row waits for delivery (not sent, not dead-lettered)."""
        rows = self._store.rows("SELECT dead FROM outbox WHERE id=?", (report_id,))
        return bool(rows) and not rows[0][0]

    def _bound(self, db: sqlite3.Connection) -> None:
        (pending,) = db.execute("SELECT COUNT(*) FROM outbox WHERE dead=0").fetchone()
        excess = pending - self.max_pending
        if excess <= 0:
            return
        # Oldest non-final reports go first: a lost progress update is harmless, a lost final state is not.
        # Platform calls (a guest's card payment) are never dropped: they are money the guest has paid.
        ids = [r[0] for r in db.execute(
            "SELECT id FROM outbox WHERE dead=0 AND final=0 AND kind!='call' ORDER BY id LIMIT ?", (excess,))]
        if len(ids) < excess:
            ids += [r[0] for r in db.execute(
                "SELECT id FROM outbox WHERE dead=0 AND final=1 AND kind!='call' ORDER BY id LIMIT ?",
                (excess - len(ids),))]
        db.executemany("DELETE FROM outbox WHERE id=?", [(i,) for i in ids])
        self._store.wipe_soon()  # within a transaction: the next check() wipes
        self._store.count_in(db, "outbox_dropped", len(ids))
        log.warning("outbox full (%d reports): dropped the %d oldest", self.max_pending, len(ids))

    def next_reports(self, kind: str, limit: int = 50) -> list[Report]:
        """Pending reports of one kind, oldest first."""
        rows = self._store.rows(f"SELECT {_REPORT_COLUMNS} FROM outbox WHERE dead=0 AND kind=? ORDER BY id LIMIT ?",
                                (kind, limit))
        return [Report.from_row(r) for r in rows]

    def sent(self, report_id: int) -> None:
        with self._store.transaction() as db:
            kind = db.execute("SELECT kind FROM outbox WHERE id=?", (report_id,)).fetchone()
            db.execute("DELETE FROM outbox WHERE id=?", (report_id,))
            self._store.count_in(db, "reports_sent", 1)
        if kind and kind[0] in GUEST_DATA:
            self._store.wipe()

    def sending(self, report_id: int) -> None:
        """Note, before the request leaves, that it may reach the platform (see insert_call's ``recorded``)."""
        with self._store.transaction() as db:
            db.execute("UPDATE outbox SET last_error=? WHERE id=? AND last_error IS NULL", (SENDING, report_id))

    def failed(self, report_id: int, error: str) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE outbox SET attempts=attempts+1, last_error=? WHERE id=?", (error[:500], report_id))

    def dead_letter(self, report_id: int, reason: str) -> None:
        with self._store.transaction() as db:
            kind = db.execute("SELECT kind FROM outbox WHERE id=?", (report_id,)).fetchone()
            if kind and kind[0] in NEVER_KEPT:
                db.execute("DELETE FROM outbox WHERE id=?", (report_id,))
            else:
                db.execute("UPDATE outbox SET dead=1, dead_reason=?, attempts=attempts+1 WHERE id=?",
                           (reason[:500], report_id))
            self._store.count_in(db, "dead_letters", 1)
        if kind and kind[0] in NEVER_KEPT:
            self._store.wipe()

    def reports(self, *, dead: bool | None = None) -> list[Report]:
        """All reports (pending and dead), for ``queue list``."""
        where = ""
        args: tuple[int, ...] = ()
        if dead is not None:
            where, args = "WHERE dead=?", (int(dead),)
        rows = self._store.rows(f"SELECT {_REPORT_COLUMNS} FROM outbox {where} ORDER BY id", args)
        return [Report.from_row(r) for r in rows]

    def depth(self) -> tuple[int, int]:
        """(pending, dead) report counts."""
        with self._store.lock:
            return _depth(self._store.connection)

    def retry(self, ids: list[int] | None = None) -> int:
        """Move dead letters (all, or the given ids) back to the queue."""
        with self._store.transaction() as db:
            if ids:
                marks = ",".join("?" * len(ids))
                cur = db.execute(f"UPDATE outbox SET dead=0, dead_reason=NULL, attempts=0 WHERE id IN ({marks})", ids)
            else:
                cur = db.execute("UPDATE outbox SET dead=0, dead_reason=NULL, attempts=0 WHERE dead=1")
            return cur.rowcount

    def drop(self, ids: list[int] | None = None, *, dead_only: bool = True) -> int:
        """Delete reports: the given ids, or every dead letter."""
        with self._store.transaction() as db:
            if ids:
                marks = ",".join("?" * len(ids))
                cur = db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", ids)
            elif dead_only:
                cur = db.execute("DELETE FROM outbox WHERE dead=1")
            else:
                cur = db.execute("DELETE FROM outbox")
            dropped = cur.rowcount
        if dropped:
            self._store.wipe()
        return dropped

    def has_unsent(self, command_id: str) -> bool:
        return bool(self._store.rows("SELECT 1 FROM outbox WHERE kind='command' AND command_id=? AND dead=0 LIMIT 1",
                                     (command_id,)))
