"""`kiosk-agent run --config F`: the long-running service."""

from __future__ import annotations

import argparse
import sys

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent.runtime import logs
    from agent.runtime.app import build_agent
    from agent.runtime.schema import SchemaTooNew
    from agent.runtime.statelock import StateFolderBusy, StateLock
    from agent.runtime.store import StateError

    logs.setup(cfg.agent.log_level, cfg.secrets())
    lock = StateLock(cfg.state_dir)
    try:
        lock.acquire()
        agent = build_agent(cfg)
    except SchemaTooNew as e:
        print(f"kiosk-agent: {cfg.path}: {e}", file=sys.stderr)
        lock.release()
        return SchemaTooNew.exit_code
    except (StateError, StateFolderBusy, OSError) as e:
        print(f"kiosk-agent: {cfg.path}: {e}", file=sys.stderr)
        return 2
    try:
        return agent.run()
    finally:
        lock.release()
