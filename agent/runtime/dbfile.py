"""The agent.db file itself: open (moving a corrupt one aside), the lost-state marker, identity, faults.

``open_db`` returns a connection and whether state was lost: a new or empty
database where the marker file (``agent.db.marker``) says there was one before,
or a corrupt database that was moved aside as ``agent.db.corrupt-<UTC time>``.

Deleted rows leave no bytes behind (guest data: a card holder's name in a payment
record): the connection runs with ``secure_delete`` (SQLite zeroes deleted content
in the pages it writes), and ``truncate_wal`` copies the WAL into agent.db and
cuts it to 0 bytes, so the older page versions in the WAL that still hold a
deleted row go too. The store truncates when it opens (what a kill -9 left in the
WAL is replayed, the delete zeroing the row, and cut) and after it deleted guest data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger("agent.runtime.store")

MARKER = "agent.db.marker"


class StateError(Exception):
    """The state folder or its database cannot be used (missing mount, permissions, corrupt file)."""


class StorageError(StateError):
    """A write to agent.db failed (disk full, read-only, I/O error, corrupt page); nothing was stored."""


def describe(error: BaseException, name: str = "agent.db") -> str:
    """One line for a storage fault: 'disk full (agent.db): cannot write'."""
    text = str(error).lower()
    if "full" in text:
        what = "disk full"
    elif "readonly" in text or "read-only" in text:
        what = "read-only"
    elif "malformed" in text or "not a database" in text or "corrupt" in text:
        what = "corrupt database"
    elif "i/o" in text or isinstance(error, OSError):
        what = "I/O error"
    else:
        what = f"database error ({str(error)[:60]})"
    return f"{what} ({name}): cannot write"


def is_corrupt(error: BaseException) -> bool:
    text = str(error).lower()
    return "malformed" in text or "not a database" in text


def identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def move_aside(path: Path) -> Path:
    """Rename a corrupt database (and its WAL/SHM) to ``agent.db.corrupt-<UTC time>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(target) + suffix))
    log.error("agent.db is corrupt: moved aside as %s; starting a fresh database (LOST STATE)", target.name)
    return target


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA secure_delete=ON")
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({check})")
        from agent.runtime import schema as versions  # imports this module: load it late

        versions.refuse_newer(db, path)  # before anything is written: a newer agent's file stays as it was
        db.executescript(schema)
        versions.migrate(db, path=path)
    except BaseException:
        db.close()
        raise
    return db


def truncate_wal(db: sqlite3.Connection, wait_ms: int = 200) -> bool:
    """Checkpoint the WAL into the database and cut it to 0 bytes; False when a reader held it (try again later).

    A TRUNCATE checkpoint waits for readers through the busy handler: ``wait_ms``
    bounds that wait, so a slow reader (another process) never stalls the agent.
    """
    (restore,) = db.execute("PRAGMA busy_timeout").fetchone()
    db.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout={int(restore)}")
    return not busy


def open_db(path: Path, schema: str, *, had_rows) -> tuple[sqlite3.Connection, bool]:
    """(connection, lost_state). ``had_rows(db)`` tells whether a database holds any state."""
    marker = path.with_name(MARKER)
    existed = path.exists() and path.stat().st_size > 0
    lost = False
    try:
        db = _connect(path, schema)
    except sqlite3.DatabaseError as e:
        if not is_corrupt(e):
            raise
        move_aside(path)
        db, lost = _connect(path, schema), True
    if not lost and marker.exists() and (not existed or not had_rows(db)):
        lost = True
        log.error("agent.db is %s but %s says there was one before (LOST STATE)",
                  "missing" if not existed else "empty", MARKER)
    try:
        marker.write_text("agent.db was created here; its absence or emptiness later means lost state\n")
    except OSError as e:
        log.warning("cannot write %s: %s", marker, e)
    return db, lost
