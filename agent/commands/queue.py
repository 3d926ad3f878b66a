"""`kiosk-agent queue list|retry|drop --config F`: show and manage the durable outbox."""

from __future__ import annotations

import argparse
import json
import sys
import time

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="pending reports and dead letters")
    add_config_argument(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--dead", action="store_true", help="only dead letters")
    p = sub.add_parser("retry", help="move dead letters back to the queue (all, or the given ids)")
    add_config_argument(p)
    p.add_argument("ids", nargs="*", type=int)
    p = sub.add_parser("drop", help="delete reports (the given ids, or every dead letter)")
    add_config_argument(p)
    p.add_argument("ids", nargs="*", type=int)
    p.add_argument("--all", action="store_true", help="drop every report, pending ones too")


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent.runtime.store import StateError, Store

    if not cfg.state_dir.is_dir():
        # opening a Store would create a new, empty outbox and report it as "outbox empty"
        print(f"kiosk-agent queue: {cfg.path}: agent.state_dir: cannot use the state folder {cfg.state_dir}: "
              "it does not exist (is this the agent's config, and has `run` started once?)", file=sys.stderr)
        return 2
    try:
        store = Store(cfg.state_dir)
    except StateError as e:
        print(f"kiosk-agent queue: {e}", file=sys.stderr)
        return 2
    try:
        if args.action == "list":
            reports = store.outbox.reports(dead=True if args.dead else None)
            if args.json:
                print(json.dumps([{
                    "id": r.id, "kind": r.kind, "command_id": r.command_id, "state": r.state,
                    "payload": _shown(r), "created": r.created, "attempts": r.attempts,
                    "last_error": r.last_error, "dead": r.dead, "dead_reason": r.dead_reason,
                } for r in reports], indent=2))
                return 0
            if not reports:
                print("outbox empty")
                return 0
            for r in reports:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created))
                what = f"{r.command_id} -> {r.state}" if r.kind == "command" else f"event {r.payload.get('Type')}"
                if r.kind == "document":
                    what = f"identity document ({r.payload.get('Type')}) for customer {r.payload.get('CustomerId')}"
                status = f"DEAD ({r.dead_reason})" if r.dead else f"pending, {r.attempts} tries"
                if r.last_error and not r.dead:
                    status += f", last error: {r.last_error}"
                print(f"{r.id:6d}  {when}  {what}  {status}")
            return 0
        unknown = sorted(set(args.ids or ()) - {r.id for r in store.outbox.reports()})
        if unknown:
            print(f"kiosk-agent queue: no report with id {', '.join(map(str, unknown))} in the outbox "
                  "(kiosk-agent queue list shows the ids)", file=sys.stderr)
            return 1
        if args.action == "retry":
            n = store.outbox.retry(args.ids or None)
            print(f"{n} report(s) queued again")
            return 0
        if args.action == "drop":
            if not args.ids and not args.all:
                n = store.outbox.drop(dead_only=True)
            else:
                n = store.outbox.drop(args.ids or None, dead_only=False)
            print(f"{n} report(s) dropped")
            return 0
    finally:
        store.close()
    print(f"unknown action {args.action}", file=sys.stderr)
    return 2


def _shown(report) -> dict:
    """What ``queue list --json`` prints of a row: an identity document shows only its type and customer."""
    if report.kind == "document":
        return {k: report.payload.get(k) for k in ("CustomerId", "Type")}
    return report.payload
