"""`kiosk-agent demo`."""

from __future__ import annotations

import argparse
import sys

from agent.cli import add_config_argument


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def main(args: argparse.Namespace) -> int:
    print("kiosk-agent demo: not implemented yet", file=sys.stderr)
    return 1
