"""`kiosk-agent metrics --config F [--once | --print]`: write the unit's Prometheus metrics (issue 29).

Runs as its own service beside the agent (kiosk-metrics.service) and writes
``fleet.metrics_textfile`` every ``fleet.metrics_interval`` seconds for
node_exporter's textfile collector. Off unless ``fleet.metrics = true``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--once", action="store_true", help="write the file once and exit")
    what.add_argument("--print", action="store_true", help="print the metrics to stdout, write nothing")


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent.fleet import metrics
    from agent.runtime import logs

    logs.setup(cfg.agent.log_level, cfg.secrets())
    if args.print:
        from agent import __version__
        from agent.fleet.slot import booted_slot

        snap = metrics.read_snapshot(cfg.state_dir, version=__version__, slot=booted_slot())
        sys.stdout.write(metrics.render(snap).decode())
        return 0
    if not cfg.fleet.metrics:
        print(f"kiosk-agent metrics: off (fleet.metrics = false in {cfg.path})", file=sys.stderr)
        return 0
    if args.once:
        try:
            metrics.write_once(cfg)
        except OSError as e:
            print(f"kiosk-agent metrics: cannot write {cfg.fleet.metrics_textfile} (fleet.metrics_textfile): {e}",
                  file=sys.stderr)
            return 1
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    metrics.run(cfg, stop)
    return 0
