"""`kiosk-agent status --config F [--json]`: the running agent's health snapshot."""

from __future__ import annotations

import argparse
import json
import sys
import time

from agent.cli import add_config_argument, load_config_or_exit

STALE_AFTER = 30.0  # seconds: an older snapshot means the agent is not running


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the snapshot as JSON")


def _ago(ts: float | None) -> str:
    if not ts:
        return "never"
    s = max(0, int(time.time() - ts))
    return f"{s} s ago" if s < 120 else f"{s // 60} min ago" if s < 7200 else f"{s // 3600} h ago"


def _live_outbox(state_dir, health) -> None:
    """Replace the snapshot's outbox counts (up to 2 s old) with the store's own, when it can be read."""
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{state_dir / 'agent.db'}?mode=ro", uri=True, timeout=5)
        try:
            pending, dead = db.execute(
                "SELECT COALESCE(SUM(dead=0),0), COALESCE(SUM(dead=1),0) FROM outbox").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return  # not readable by this user, or not created yet: the snapshot's numbers stand
    health.outbox_depth, health.dead_letters = int(pending), int(dead)


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent.runtime.health import Health

    path = cfg.state_dir / "health.json"
    try:
        health = Health.read(path)
    except FileNotFoundError:
        print(f"kiosk-agent status: no health snapshot at {path}: is the agent running?", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError) as e:
        print(f"kiosk-agent status: cannot read {path}: {e}", file=sys.stderr)
        return 1
    _live_outbox(cfg.state_dir, health)
    stale = time.time() - health.updated_at > STALE_AFTER
    if args.json:
        out = health.to_json()
        out["stale"] = stale
        print(json.dumps(out, indent=2, sort_keys=True))
        return 1 if stale else 0
    lines = [
        f"connection:   {health.connection}" + (f" since {_ago(health.offline_since)}" if health.offline_since else ""),
        f"enterprise:   {health.enterprise or '-'}",
        f"ip address:   {health.ip_address or '-'}",
        f"outbox:       {health.outbox_depth} pending, {health.dead_letters} dead",
        f"last event:   {_ago(health.last_event_at)}",
        f"last command: {health.last_command or '-'}",
    ]
    for dev in health.devices.values():
        text = dev.state + (f": {dev.activity}" if dev.activity else "") + (f" ({dev.fault})" if dev.fault else "")
        lines.append(f"{dev.name + ':':13} {text}")
    if health.message:
        lines.append(f"message:      {health.message}")
    if not health.clock_ok:
        lines.append("clock:        not set (TLS cannot be checked)")
    if health.counters:
        lines.append("counters:     " + ", ".join(f"{k}={v}" for k, v in sorted(health.counters.items())))
    lines.append(f"updated:      {_ago(health.updated_at)}" + (" (STALE: agent not running?)" if stale else ""))
    print("\n".join(lines))
    return 1 if stale else 0
