"""Which agent version ran from which root slot, and since when (agent.db's ``versions`` table).

The agent records one row when it starts with a version or slot other than the
last row's; ``history`` turns the rows into what a technician asks: when was the
last update, and was the last change a rollback (an older version than before).
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VersionChange:
    started: float
    version: str
    slot: str


@dataclass(frozen=True)
class History:
    """What the versions table says; ``rollback`` when the newest change went to an older version."""

    current: VersionChange | None
    last_update: VersionChange | None  # the newest row whose version differs from the one before
    rollback: bool
    rollbacks: int  # how many changes went to an older version, ever


def version_key(text: str) -> tuple:
    """Sort key for "1.10.2" > "1.9" (numbers compared as numbers, other parts as text)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+]", text))


def record_start(store, version: str, slot: str, clock=time.time) -> bool:
    """Add a row when this start's (version, slot) differs from the newest; True when one was added."""
    with store.transaction() as db:
        last = db.execute("SELECT version, slot FROM versions ORDER BY rowid DESC LIMIT 1").fetchone()
        if last == (version, slot):
            return False
        db.execute("INSERT INTO versions (started, version, slot) VALUES (?,?,?)", (clock(), version, slot))
        return True


def history_of(rows: list[tuple]) -> History:
    """``rows``: (started, version, slot), oldest first."""
    changes = [VersionChange(*r) for r in rows]
    updates = [(a, b) for a, b in zip(changes, changes[1:], strict=False) if a.version != b.version]
    downs = [b for a, b in updates if version_key(b.version) < version_key(a.version)]
    last = updates[-1][1] if updates else None
    return History(current=changes[-1] if changes else None, last_update=last,
                   rollback=bool(updates) and downs[-1:] == [last], rollbacks=len(downs))


def read_history(state_dir: Path | str) -> History | None:
    """The history read-only from agent.db; None when it cannot be read (no file, older schema)."""
    try:
        db = sqlite3.connect(f"file:{Path(state_dir) / 'agent.db'}?mode=ro", uri=True, timeout=5)
        try:
            return history_of(db.execute("SELECT started, version, slot FROM versions ORDER BY rowid").fetchall())
        finally:
            db.close()
    except sqlite3.Error:
        return None


def note_start(store, cmdline: Path | str | None = None) -> None:
    """``record_start`` for this agent and the booted slot; a storage fault is logged, never raised."""
    import logging

    from agent import __version__
    from agent.fleet.slot import CMDLINE, booted_slot
    from agent.runtime.dbfile import StateError

    try:
        record_start(store, __version__, booted_slot(cmdline or CMDLINE))
    except StateError as e:
        logging.getLogger(__name__).warning("cannot record this start's version and slot: %s", e)
