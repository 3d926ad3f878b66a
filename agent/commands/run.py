"""`kiosk-agent run --config F`: the long-running service."""

from __future__ import annotations

import argparse
import sys

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent import logs
    from agent.runtime.supervisor import Supervisor

    from agent.runtime.store import StateError

    logs.setup(cfg.agent.log_level, cfg.secrets())
    try:
        supervisor = Supervisor(cfg)
    except StateError as e:
        print(f"kiosk-agent: {cfg.path}: {e}", file=sys.stderr)
        return 2
    return supervisor.run()
