"""`kiosk-agent run`."""

from __future__ import annotations

import argparse
import sys

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("rest", nargs="*")


def main(args: argparse.Namespace) -> int:
    load_config_or_exit(args.config)
    print("kiosk-agent run: not implemented yet", file=sys.stderr)
    return 1
