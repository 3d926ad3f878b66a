"""The execution journal in agent.db: which command touched which device, keys made, parked jobs.

``Journal`` is one part of ``Store`` (``store.journal``; it uses the store's connection,
lock and transactions). ``begin`` is committed (fsync) before the device is
touched: the at-most-once rule of every job that touches a card rests on it.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store holds this part; only its type is needed here
    from agent.runtime.store import Store

JOURNAL_DAYS = 30

# journal states
EXECUTING, DONE, RETRY, PARKED = "executing", "done", "retry", "parked"


class Journal:
    """The journal tables of one store (its connection, lock, transactions and clock)."""

    def __init__(self, store: Store):
        self._store = store
        self._extra_ready = False

    def state(self, command_id: str) -> tuple[str, int] | None:
        """(state, runs) of a command, or None when we never touched it."""
        rows = self._store.rows("SELECT state, runs FROM journal WHERE command_id=?", (command_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def begin(self, command_id: str, device_type: str | None, command_json: str | None = None) -> None:
        """Record that the device is about to be touched; committed (fsync) before returning."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO journal (command_id, device_type, state, runs, started, command) VALUES (?,?,?,1,?,?) "
                "ON CONFLICT(command_id) DO UPDATE SET state=excluded.state, runs=runs+1, "
                "started=excluded.started, command=excluded.command",
                (command_id, device_type, EXECUTING, self._store.clock(), command_json))

    def finish(self, command_id: str, device_type: str | None) -> None:
        """Close a journal entry without a report (the platform cancelled the command)."""
        with self._store.transaction() as db:
            self.set_state(db, command_id, device_type, DONE)

    def set_state(self, db: sqlite3.Connection, command_id: str, device_type: str | None, state: str) -> None:
        db.execute(
            "INSERT INTO journal (command_id, device_type, state, runs, started, finished) VALUES (?,?,?,0,?,?) "
            "ON CONFLICT(command_id) DO UPDATE SET state=excluded.state, finished=excluded.finished, command=NULL",
            (command_id, device_type, state, self._store.clock(), self._store.clock()))

    def mark_retry(self, command_id: str) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE journal SET state=? WHERE command_id=?", (RETRY, command_id))

    def interrupted(self) -> list[tuple[str, str | None, int, str | None]]:
        """Commands executing (or due a retry) when the agent stopped: (id, device_type, runs, command_json)."""
        rows = self._store.rows(
            "SELECT command_id, device_type, runs, command FROM journal WHERE state IN (?, ?) ORDER BY started",
            (EXECUTING, RETRY))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def prune(self, days: float = JOURNAL_DAYS) -> int:
        with self._store.transaction() as db:
            cur = db.execute("DELETE FROM journal WHERE state=? AND COALESCE(finished, started) < ?",
                             (DONE, self._store.clock() - days * 86400))
            return cur.rowcount

    # ---- journal: keys made, parked jobs (the runtime's block) ------------------

    def opened(self) -> None:
        """The store opened a file (again, or a new one after agent.db was replaced): make the tables anew."""
        self._extra_ready = False

    def _extra(self, db: sqlite3.Connection) -> None:
        if not self._extra_ready:
            db.execute("CREATE TABLE IF NOT EXISTS journal_keys (command_id TEXT PRIMARY KEY, "
                       "made INTEGER NOT NULL, total INTEGER NOT NULL)")
            self._extra_ready = True

    def key(self, command_id: str, made: int, total: int) -> None:
        """Record that key ``made`` of ``total`` is on a card (the series' CN, then each CC); fsynced."""
        with self._store.transaction() as db:
            self._extra(db)
            db.execute("INSERT INTO journal_keys (command_id, made, total) VALUES (?,?,?) "
                       "ON CONFLICT(command_id) DO UPDATE SET made=excluded.made, total=excluded.total",
                       (command_id, made, total))

    def keys(self, command_id: str) -> tuple[int, int] | None:
        """(made, total) keys of a key job, or None when no key was recorded."""
        with self._store.transaction() as db:
            self._extra(db)
            row = db.execute("SELECT made, total FROM journal_keys WHERE command_id=?", (command_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def park(self, command_id: str) -> None:
        """A job stopped (agent stopping) before it touched anything lasting: resume it after the restart."""
        with self._store.transaction() as db:
            db.execute("UPDATE journal SET state=?, runs=0 WHERE command_id=?", (PARKED, command_id))

    def parked(self) -> list[tuple[str, str | None]]:
        """(id, device_type) of the jobs parked by a stop, oldest first."""
        rows = self._store.rows("SELECT command_id, device_type FROM journal WHERE state=? ORDER BY started",
                                (PARKED,))
        return [(r[0], r[1]) for r in rows]

    def prune_keys(self) -> int:
        """Drop key records whose journal entry is gone (pruned after 30 days)."""
        with self._store.transaction() as db:
            self._extra(db)
            cur = db.execute("DELETE FROM journal_keys WHERE command_id NOT IN (SELECT command_id FROM journal)")
            return cur.rowcount
