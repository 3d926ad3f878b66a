"""Durable state in SQLite (``state_dir/agent.db``): the outbox and the execution journal.

WAL with ``synchronous=FULL``: a report or a journal entry that was committed
survives a power cut. Payloads never hold tokens: the client adds them when it
sends. Every method is thread-safe (one connection, one lock). This module holds
the connection, its fault handling and lost-state checks, and the counters; its two
parts share them: ``store.outbox`` (``outbox_rows.OutboxRows``) and ``store.journal``
(``journal.Journal``).

Faults never crash the agent:

* A write error (disk full, read-only remount, I/O error, corrupt page) sets
  ``fault`` to one line ("disk full (agent.db): cannot write"; "" when fine).
  ``outbox.enqueue_report`` never raises: a report it cannot write waits in memory and
  is written by a later write or ``check()``. Journal writes raise
  ``StorageError`` (a ``StateError``) so the caller does not start a job it
  cannot journal. When a write succeeds again, ``fault`` goes back to "".
* ``check()`` (cheap; the loop calls it every few seconds) retries held reports
  and notices agent.db deleted or replaced while running (st_dev/st_ino of the
  open file against the path): it says so loudly, reopens, and copies what the
  old file still holds (pending reports, open journal entries) into the new one.
* ``lost_state`` is True when the database is new or empty although the marker
  file ``agent.db.marker`` says there was one before, when a corrupt database was
  moved aside as ``agent.db.corrupt-<UTC time>`` (a fresh one is started, the unit
  stays in service), or when agent.db was replaced while running. The runtime
  must then refuse to cut keys for commands the platform lists as Received but
  the journal does not know.

Guest data leaves no trace (issue 21): a row holding it (a payment record, 'call')
is zeroed when deleted (``secure_delete``) and the WAL, whose older page versions
still hold it, is checkpointed and cut to 0 bytes right after the delete
(``wipe``). When a reader holds the WAL (``kiosk-agent status`` in another
process) the wipe waits for the next ``check()`` (every 5 s). Opening the store
wipes too, so a kill -9 between the delete and the wipe is wiped at the restart;
and ``check()`` wipes at least every ``wipe_every`` s (60) while anything was written,
so nothing deleted lingers in the WAL either (journal entries, collapsed reports).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from agent.runtime import dbfile
from agent.runtime.dbfile import StateError, StorageError
from agent.runtime.journal import DONE, EXECUTING, JOURNAL_DAYS, PARKED, RETRY, Journal
from agent.runtime.outbox_rows import FINAL, MAX_HELD, MAX_PENDING, OutboxRows, Report, peek_depth

log = logging.getLogger(__name__)

WIPE_EVERY = 60.0  # seconds: the longest that deleted rows of any kind stay in the WAL

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
CREATE TABLE IF NOT EXISTS payments (  -- the kiosk's card charges (agent/kiosk/ledger.py); never a guest's name
    reference TEXT PRIMARY KEY,      -- ours, given to the terminal
    reservation TEXT NOT NULL,       -- the reservation's number
    customer_id TEXT NOT NULL,
    requested TEXT NOT NULL,         -- decimal text
    currency TEXT NOT NULL,
    state TEXT NOT NULL,             -- charging | approved | recorded | refused | not_charged | unknown
    approved TEXT,                   -- decimal text the terminal approved
    approved_currency TEXT,
    terminal_reference TEXT,
    record_id INTEGER,               -- the outbox row that records it on the platform
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_customer ON payments (customer_id, state);
"""


PAYMENT_COLUMNS = ("reference, reservation, customer_id, requested, currency, state, approved, approved_currency, "
                   "terminal_reference, record_id, created, updated")

__all__ = ["PAYMENT_COLUMNS", "DONE", "EXECUTING", "FINAL", "JOURNAL_DAYS", "MAX_HELD", "MAX_PENDING", "PARKED", "RETRY", "Report",
           "StateError", "StorageError", "Store", "peek_depth"]


class Store:
    """The agent's durable state: ``outbox`` and ``journal`` over one connection and one lock."""

    def __init__(self, state_dir: Path | str, *, max_pending: int = MAX_PENDING, clock: Callable[[], float] = time.time,
                 wipe_every: float = WIPE_EVERY):
        self.path = Path(state_dir) / "agent.db"
        self.wipe_every = wipe_every
        self.clock = clock
        self.lock = threading.RLock()  # the parts' too: a part holds it across several statements
        self._fault = ""
        self.journal = Journal(self)
        self.outbox = OutboxRows(self, self.journal, max_pending=max_pending)
        self.lost_state = False
        self._wipe_due = True
        self._wiped_at = 0.0  # time.monotonic() of the last wipe
        self._wipe_error = ""
        self._open()

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db, lost = dbfile.open_db(self.path, SCHEMA, had_rows=_had_rows)
            self._db.execute("INSERT OR IGNORE INTO counters (name, value) VALUES ('db_created', ?)",
                             (int(self.clock()),))
        except (OSError, sqlite3.Error) as e:
            raise StateError(f"cannot use the state folder {self.path.parent} (agent.state_dir): {e}") from None
        self.lost_state = self.lost_state or lost
        self.journal.opened()
        self._identity = dbfile.identity(self.path)
        self.wipe()

    def wipe(self) -> bool:
        """Cut the WAL (deleted rows' older page versions) to 0 bytes now; False when a reader held it.

        A wipe that could not run stays due: ``check()`` tries again.
        """
        with self.lock:
            self._wipe_due = True
            try:
                done = dbfile.truncate_wal(self._db)
            except sqlite3.Error as e:  # a storage fault shows through the writes; try again at the next check
                if str(e) != self._wipe_error:
                    log.warning("agent.db: cannot checkpoint the WAL (deleted rows stay in it meanwhile): %s", e)
                self._wipe_error, done = str(e), False
            if done:
                self._wipe_due, self._wiped_at, self._wipe_error = False, time.monotonic(), ""
            return done

    def wipe_soon(self) -> None:
        """Rows were deleted inside a transaction: the next ``check()`` wipes the WAL."""
        self._wipe_due = True

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (a new one after a reopen); use it under ``lock``."""
        return self._db

    def _wal_size(self) -> int:
        try:
            return os.stat(f"{self.path}-wal").st_size
        except OSError:
            return 0

    @property
    def fault(self) -> str:
        """"" when the database takes writes, else one line naming the fault."""
        return self._fault

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def transaction(self) -> _Transaction:
        """``with store.transaction() as db:`` one write transaction (StorageError when it cannot be written)."""
        return _Transaction(self)

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one read-only query, under the store's lock."""
        with self.lock:
            return self._db.execute(sql, args).fetchall()

    def _failed_write(self, error: BaseException) -> StorageError:
        text = dbfile.describe(error, self.path.name)
        if text != self._fault:
            log.error("storage fault: %s (%s); keeping what cannot be written in memory", text, error)
        self._fault = text
        return StorageError(text)

    def check(self) -> None:
        """Cheap health check: agent.db still the file we opened, held reports written, corrupt file replaced."""
        with self.lock:
            if dbfile.identity(self.path) != self._identity:
                log.error("agent.db was deleted or replaced while the agent ran (LOST STATE): reopening and "
                          "re-journaling what the old file still holds")
                self._reopen()
            elif self._fault.startswith("corrupt"):
                self._reopen(move_aside=True)
            self.outbox.flush_held()
            if self._wipe_due or (time.monotonic() - self._wiped_at >= self.wipe_every and self._wal_size()):
                self.wipe()

    def _reopen(self, move_aside: bool = False) -> None:
        rows: tuple[list, list, list] = ([], [], [])
        try:
            rows = (self._db.execute("SELECT id, kind, command_id, state, payload, final, created, attempts FROM outbox "
                                     "WHERE dead=0 ORDER BY id").fetchall(),
                    self._db.execute("SELECT command_id, device_type, state, runs, started, finished, command "
                                     "FROM journal WHERE state != ?", (DONE,)).fetchall(),
                    self._db.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments").fetchall())
        except sqlite3.Error as e:
            log.error("agent.db: the old file cannot be read (%s); only reports held in memory are kept", e)
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        try:
            if move_aside:
                dbfile.move_aside(self.path)
            self._open()
        except (OSError, StateError) as e:
            self._fault = dbfile.describe(e, self.path.name)
            return
        self.lost_state = True
        try:
            with self._tx() as db:
                new_id = {}  # old outbox row id -> its id in the new file (the payments ledger names rows)
                for old_id, *row in rows[0]:
                    new_id[old_id] = db.execute("INSERT INTO outbox (kind, command_id, state, payload, final, created, "
                                                "attempts) VALUES (?,?,?,?,?,?,?)", row).lastrowid
                db.executemany("INSERT OR REPLACE INTO journal (command_id, device_type, state, runs, started, "
                               "finished, command) VALUES (?,?,?,?,?,?,?)", rows[1])
                record = PAYMENT_COLUMNS.split(", ").index("record_id")
                db.executemany(f"INSERT OR REPLACE INTO payments ({PAYMENT_COLUMNS}) VALUES "
                               f"({','.join('?' * (PAYMENT_COLUMNS.count(',') + 1))})",
                               [p[:record] + (new_id.get(p[record]),) + p[record + 1:] for p in rows[2]])
        except StorageError:
            pass

    # ---- counters -------------------------------------------------------------

    def count_in(self, db: sqlite3.Connection, name: str, n: int) -> None:
        """Add ``n`` to counter ``name`` inside the caller's transaction."""
        db.execute("INSERT INTO counters (name, value) VALUES (?, ?) "
                   "ON CONFLICT(name) DO UPDATE SET value=value+excluded.value", (name, n))

    def count(self, name: str, n: int = 1) -> None:
        with self._tx() as db:
            self.count_in(db, name, n)

    def counters(self) -> dict[str, int]:
        with self.lock:
            return dict(self._db.execute("SELECT name, value FROM counters").fetchall())


def _had_rows(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM counters WHERE name='db_created'").fetchone() is not None


class _Transaction:
    """BEGIN IMMEDIATE .. COMMIT under the store's lock; a failed write becomes StorageError and sets the fault."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store._db

    def __enter__(self) -> sqlite3.Connection:
        self.store.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            self.store.lock.release()
            raise self.store._failed_write(e) from None
        except BaseException:
            self.store.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                try:
                    self.db.execute("COMMIT")
                except sqlite3.Error as e:
                    exc_type, exc = type(e), e
            if exc_type is not None:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise self.store._failed_write(exc) from None
            elif self.store._fault:
                log.warning("storage fault cleared: agent.db takes writes again")
                self.store._fault = ""
        finally:
            self.store.lock.release()
