"""`kiosk-agent state version|downgrade --to N --config F`: agent.db's schema version, and the way back.

Before a technician boots an older agent by hand (a rollback RAUC did not do), the
newer agent takes its database back to the version the older one knows: that one
refuses a newer file (agent/runtime/schema.py). Needs the agent stopped.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("action", choices=("version", "downgrade"),
                        help="version: print the schema version; downgrade: run the steps back to --to")
    parser.add_argument("--to", type=int, metavar="N", help="downgrade: the schema version to reach")


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent.runtime import schema
    from agent.runtime.statelock import StateFolderBusy, StateLock
    from agent.runtime.store import StateError

    path = cfg.state_dir / "agent.db"
    if not path.is_file():
        print(f"kiosk-agent state: {cfg.path}: agent.state_dir: no agent.db in {cfg.state_dir}", file=sys.stderr)
        return 2
    if args.action == "version":
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            found = schema.version(db)
        finally:
            db.close()
        print(f"{found} (this agent knows {schema.BASELINE}..{schema.LATEST})")
        return 0
    if args.to is None:
        print("kiosk-agent state downgrade: --to N is required", file=sys.stderr)
        return 2
    lock = StateLock(cfg.state_dir)
    try:
        lock.acquire()
    except (StateError, StateFolderBusy) as e:
        print(f"kiosk-agent state: {e}: stop the agent first", file=sys.stderr)
        return 2
    try:
        db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        try:
            before = schema.version(db)
            if args.to > before:
                print(f"kiosk-agent state: {path} is at version {before}; downgrade goes down only "
                      "(the agent migrates forward when it opens the file)", file=sys.stderr)
                return 2
            reached = schema.migrate(db, args.to, path=path)
        finally:
            db.close()
    except ValueError as e:
        print(f"kiosk-agent state: {e}", file=sys.stderr)
        return 2
    except (schema.SchemaTooNew, sqlite3.Error) as e:
        print(f"kiosk-agent state: {e}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(f"{path}: schema version {before} -> {reached}")
    return 0
