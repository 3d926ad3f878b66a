"""Durable state in SQLite (``state_dir/agent.db``): the outbox and the execution journal.

WAL with ``synchronous=FULL``: a report or a journal entry that was committed
survives a power cut. Payloads never hold tokens: the client adds them when it
sends. Every method is thread-safe (one connection, one lock).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PENDING = 10_000
JOURNAL_DAYS = 30
FINAL = ("Processed", "Cancelled", "Error")

# journal states
EXECUTING, DONE, RETRY = "executing", "done", "retry"

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,              -- 'command' (commands/update), 'forward' (event to a local system), 'call'
    command_id TEXT,
    state TEXT,
    payload TEXT NOT NULL,           -- JSON, without tokens
    final INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0,
    dead_reason TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (dead, id);
CREATE INDEX IF NOT EXISTS outbox_command ON outbox (command_id);
CREATE TABLE IF NOT EXISTS journal (
    command_id TEXT PRIMARY KEY,
    device_type TEXT,
    state TEXT NOT NULL,             -- executing | done | retry
    runs INTEGER NOT NULL DEFAULT 0, -- how many times the device was touched
    started REAL,
    finished REAL,
    command TEXT                     -- the command's JSON, kept only for handlers retried after a crash
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class StateError(Exception):
    """The state folder or its database cannot be used (missing mount, permissions, corrupt file)."""


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
    def from_row(cls, row) -> "Report":
        return cls(id=row[0], kind=row[1], command_id=row[2], state=row[3], payload=json.loads(row[4]),
                   created=row[5], attempts=row[6], last_error=row[7], dead=bool(row[8]),
                   dead_reason=row[9])


_REPORT_COLUMNS = "id, kind, command_id, state, payload, created, attempts, last_error, dead, dead_reason"


def _depth(db: sqlite3.Connection) -> tuple[int, int]:
    pending, dead = db.execute("SELECT COALESCE(SUM(dead=0),0), COALESCE(SUM(dead=1),0) FROM outbox").fetchone()
    return int(pending), int(dead)


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


class Store:
    """The agent's durable state."""

    def __init__(self, state_dir: Path | str, *, max_pending: int = MAX_PENDING, clock=time.time):
        self.path = Path(state_dir) / "agent.db"
        self.max_pending = max_pending
        self.clock = clock
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise StateError(f"cannot use the state folder {self.path.parent} (agent.state_dir): {e}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self):
        return _Transaction(self._db, self._lock)

    # ---- outbox ---------------------------------------------------------------

    def enqueue_report(self, command_id: str, state: str, *, progress: float | None = None,
                       notes: str | None = None, journal_done: str | None = None) -> int:
        """Queue a commands/update report; older unsent non-final reports of the command collapse into it.

        With ``journal_done`` (a device type) the journal marks the command done in
        the same transaction, so a crash cannot leave one without the other.
        """
        payload = {"CommandId": command_id, "State": state}
        if progress is not None:
            payload["Progress"] = progress
        if notes:
            payload["Notes"] = notes
        with self._tx() as db:
            db.execute("DELETE FROM outbox WHERE kind='command' AND command_id=? AND dead=0 AND final=0",
                       (command_id,))
            cur = db.execute(
                "INSERT INTO outbox (kind, command_id, state, payload, final, created) VALUES ('command',?,?,?,?,?)",
                (command_id, state, json.dumps(payload), int(state in FINAL), self.clock()))
            if journal_done is not None:
                self._journal_set(db, command_id, journal_done, DONE)
            self._bound(db)
            return cur.lastrowid

    def enqueue_forward(self, event: dict) -> int:
        """Queue an event for the local forward_url."""
        with self._tx() as db:
            cur = db.execute("INSERT INTO outbox (kind, payload, final, created) VALUES ('forward',?,0,?)",
                             (json.dumps(event), self.clock()))
            self._bound(db)
            return cur.lastrowid

    def enqueue_call(self, operation: str, body: dict) -> int:
        """Queue one platform call (e.g. payments/addCreditCard) for the outbox sender; deleted once delivered."""
        with self._tx() as db:
            cur = db.execute("INSERT INTO outbox (kind, payload, final, created) VALUES ('call',?,1,?)",
                             (json.dumps({"Operation": operation, "Body": body}), self.clock()))
            return cur.lastrowid

    def pending(self, report_id: int) -> bool:
        """True while a queued row waits for delivery (not sent, not dead-lettered)."""
        with self._lock:
            row = self._db.execute("SELECT dead FROM outbox WHERE id=?", (report_id,)).fetchone()
        return row is not None and not row[0]

    def _bound(self, db) -> None:
        (pending,) = db.execute("SELECT COUNT(*) FROM outbox WHERE dead=0").fetchone()
        excess = pending - self.max_pending
        if excess <= 0:
            return
        # Oldest non-final reports go first: a lost progress update is harmless, a lost final state is not.
        ids = [r[0] for r in db.execute(
            "SELECT id FROM outbox WHERE dead=0 AND final=0 ORDER BY id LIMIT ?", (excess,))]
        if len(ids) < excess:
            ids += [r[0] for r in db.execute(
                "SELECT id FROM outbox WHERE dead=0 AND final=1 ORDER BY id LIMIT ?", (excess - len(ids),))]
        db.executemany("DELETE FROM outbox WHERE id=?", [(i,) for i in ids])
        self._count(db, "outbox_dropped", len(ids))
        log.warning("outbox full (%d reports): dropped the %d oldest", self.max_pending, len(ids))

    def next_reports(self, kind: str, limit: int = 50) -> list[Report]:
        """Pending reports of one kind, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_REPORT_COLUMNS} FROM outbox WHERE dead=0 AND kind=? ORDER BY id LIMIT ?",
                (kind, limit)).fetchall()
        return [Report.from_row(r) for r in rows]

    def sent(self, report_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM outbox WHERE id=?", (report_id,))
            self._count(db, "reports_sent", 1)

    def failed(self, report_id: int, error: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET attempts=attempts+1, last_error=? WHERE id=?", (error[:500], report_id))

    def dead_letter(self, report_id: int, reason: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET dead=1, dead_reason=?, attempts=attempts+1 WHERE id=?",
                       (reason[:500], report_id))
            self._count(db, "dead_letters", 1)

    def reports(self, *, dead: bool | None = None) -> list[Report]:
        """All reports (pending and dead), for ``queue list``."""
        where, args = "", ()
        if dead is not None:
            where, args = "WHERE dead=?", (int(dead),)
        with self._lock:
            rows = self._db.execute(f"SELECT {_REPORT_COLUMNS} FROM outbox {where} ORDER BY id", args).fetchall()
        return [Report.from_row(r) for r in rows]

    def depth(self) -> tuple[int, int]:
        """(pending, dead) report counts."""
        with self._lock:
            return _depth(self._db)

    def retry(self, ids: list[int] | None = None) -> int:
        """Move dead letters (all, or the given ids) back to the queue."""
        with self._tx() as db:
            if ids:
                marks = ",".join("?" * len(ids))
                cur = db.execute(f"UPDATE outbox SET dead=0, dead_reason=NULL, attempts=0 WHERE id IN ({marks})", ids)
            else:
                cur = db.execute("UPDATE outbox SET dead=0, dead_reason=NULL, attempts=0 WHERE dead=1")
            return cur.rowcount

    def drop(self, ids: list[int] | None = None, *, dead_only: bool = True) -> int:
        """Delete reports: the given ids, or every dead letter."""
        with self._tx() as db:
            if ids:
                marks = ",".join("?" * len(ids))
                cur = db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", ids)
            elif dead_only:
                cur = db.execute("DELETE FROM outbox WHERE dead=1")
            else:
                cur = db.execute("DELETE FROM outbox")
            return cur.rowcount

    def has_unsent(self, command_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM outbox WHERE kind='command' AND command_id=? AND dead=0 LIMIT 1",
                                   (command_id,)).fetchone()
        return row is not None

    # ---- journal --------------------------------------------------------------

    def journal_state(self, command_id: str) -> tuple[str, int] | None:
        """(state, runs) of a command, or None when we never touched it."""
        with self._lock:
            row = self._db.execute("SELECT state, runs FROM journal WHERE command_id=?", (command_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def journal_begin(self, command_id: str, device_type: str | None, command_json: str | None = None) -> None:
        """Record that the device is about to be touched; committed (fsync) before returning."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO journal (command_id, device_type, state, runs, started, command) VALUES (?,?,?,1,?,?) "
                "ON CONFLICT(command_id) DO UPDATE SET state=excluded.state, runs=runs+1, "
                "started=excluded.started, command=excluded.command",
                (command_id, device_type, EXECUTING, self.clock(), command_json))

    def journal_finish(self, command_id: str, device_type: str | None) -> None:
        """Close a journal entry without a report (the platform cancelled the command)."""
        with self._tx() as db:
            self._journal_set(db, command_id, device_type, DONE)

    def _journal_set(self, db, command_id: str, device_type: str | None, state: str) -> None:
        db.execute(
            "INSERT INTO journal (command_id, device_type, state, runs, started, finished) VALUES (?,?,?,0,?,?) "
            "ON CONFLICT(command_id) DO UPDATE SET state=excluded.state, finished=excluded.finished, command=NULL",
            (command_id, device_type, state, self.clock(), self.clock()))

    def journal_mark_retry(self, command_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE journal SET state=? WHERE command_id=?", (RETRY, command_id))

    def interrupted(self) -> list[tuple[str, str | None, int, str | None]]:
        """Commands executing (or due a retry) when the agent stopped: (id, device_type, runs, command_json)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT command_id, device_type, runs, command FROM journal WHERE state IN (?, ?) ORDER BY started",
                (EXECUTING, RETRY)).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def prune_journal(self, days: float = JOURNAL_DAYS) -> int:
        with self._tx() as db:
            cur = db.execute("DELETE FROM journal WHERE state=? AND COALESCE(finished, started) < ?",
                             (DONE, self.clock() - days * 86400))
            return cur.rowcount

    # ---- counters -------------------------------------------------------------

    def _count(self, db, name: str, n: int) -> None:
        db.execute("INSERT INTO counters (name, value) VALUES (?, ?) "
                   "ON CONFLICT(name) DO UPDATE SET value=value+excluded.value", (name, n))

    def count(self, name: str, n: int = 1) -> None:
        with self._tx() as db:
            self._count(db, name, n)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT name, value FROM counters").fetchall())


class _Transaction:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock):
        self.db, self.lock = db, lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
        return False
