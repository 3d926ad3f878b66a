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
    from agent.runtime.store import peek_depth

    live = peek_depth(cfg.state_dir)  # the snapshot is up to 2 s old
    if live is not None:
        health.outbox_depth, health.dead_letters = live
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
        f"storage:      {health.storage}",
        f"last event:   {_ago(health.last_event_at)}",
        f"last command: {health.last_command or '-'}",
    ]
    for name, state in sorted(health.services.items()):
        lines.append(f"{name + ':':13} {state}")
    for dev in health.devices.values():
        text = dev.state + (f": {dev.activity}" if dev.activity else "")
        if dev.fault and dev.fault != dev.activity:
            text += f" ({dev.fault})"
        if dev.paper:
            text += f", paper {dev.paper}"
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
