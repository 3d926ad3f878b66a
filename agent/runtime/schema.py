"""agent.db's schema version (``PRAGMA user_version``) and its migrations, forward and back.

An A/B update (issue 29) boots a newer agent on the same data partition, and a
rollback boots the older one again. So the database says which schema it holds:

* version 1 is the schema as it was before versioning (``user_version`` 0 on a
  database that already has tables, or a new one built from ``store.SCHEMA``);
* each ``Migration`` moves one version up (``up``) and has its way back
  (``down``), both plain SQL run in one transaction with the version bump, so a
  power cut leaves the old or the new version, never half of one;
* opening runs the missing steps forward; a database newer than this agent knows
  is refused before anything is written to it (``SchemaTooNew``): an older agent
  must not write rows a newer schema would misread. ``kiosk-agent run`` exits
  ``SchemaTooNew.exit_code`` then, which the service unit does not restart.

Steps are additive where they can be (a new table or column), so the way back
loses only what the newer version alone used.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from agent.runtime.dbfile import StateError

BASELINE = 1  # the unversioned schema of store.SCHEMA


@dataclass(frozen=True)
class Migration:
    """One step: ``up`` makes version ``version`` from ``version - 1``; ``down`` undoes it."""

    version: int
    summary: str
    up: str
    down: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        2, "versions: which agent version and root slot started when (doctor's last update and rollback)",
        up="""
CREATE TABLE versions (
    started REAL NOT NULL,          -- time of the first start of this version on this slot
    version TEXT NOT NULL,          -- the agent's version
    slot TEXT NOT NULL DEFAULT ''   -- the root slot it ran from (RAUC's booted slot), '' when unknown
);
""",
        down="DROP TABLE versions;",
    ),
)

LATEST = MIGRATIONS[-1].version if MIGRATIONS else BASELINE


class SchemaTooNew(StateError):
    """The database was written by a newer agent; this one refuses to use it."""

    exit_code = 4  # kiosk-agent run's exit status (RestartPreventExitStatus in the service unit)

    def __init__(self, path: Path | str, found: int, supported: int):
        self.path, self.found, self.supported = Path(path), found, supported
        super().__init__(
            f"{path} holds state schema version {found}, but this agent knows versions up to {supported}: "
            f"it was written by a newer agent (an update that was rolled back?). Refusing to use it rather "
            f"than corrupt it: boot the newer version again, or run the newer agent's "
            f"`kiosk-agent state downgrade --to {supported}` first")


def version(db: sqlite3.Connection) -> int:
    """The database's schema version; 0 for a database without any table yet."""
    (v,) = db.execute("PRAGMA user_version").fetchone()
    if v:
        return int(v)
    (tables,) = db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
    return BASELINE if tables else 0


def refuse_newer(db: sqlite3.Connection, path: Path | str, supported: int = LATEST) -> None:
    """Raise ``SchemaTooNew`` when the database is newer than ``supported``; reads only."""
    found = version(db)
    if found > supported:
        raise SchemaTooNew(path, found, supported)


def migrate(db: sqlite3.Connection, target: int = LATEST, *, path: Path | str = "agent.db",
            steps: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Move a database at version >= BASELINE to ``target`` (up or down), one transaction per step.

    Returns the version reached. A target this code does not know is a ``ValueError``;
    a database newer than the steps known is ``SchemaTooNew``.
    """
    known = steps[-1].version if steps else BASELINE
    if not BASELINE <= target <= known:
        raise ValueError(f"schema version {target} is not one of {BASELINE}..{known}")
    current = version(db) or BASELINE
    if current > known:
        raise SchemaTooNew(path, current, known)
    by_version = {m.version: m for m in steps}
    while current != target:
        step, sql, reached = ((by_version[current + 1], "up", current + 1) if target > current
                              else (by_version[current], "down", current - 1))
        _run_step(db, getattr(step, sql), reached)
        current = reached
    return current


def _run_step(db: sqlite3.Connection, sql: str, reached: int) -> None:
    # executescript would COMMIT first; run the statements one by one inside our transaction instead.
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(sql):
            db.execute(statement)
        db.execute(f"PRAGMA user_version={int(reached)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return [s for s in out if s.strip(" ;\n")]
