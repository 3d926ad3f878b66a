"""`kiosk-agent demo [--out DIR]`: the agent against simulated platform and devices (needs the `sim` extra)."""

from __future__ import annotations

import argparse
import sys


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="demo-output", help="folder for receipts, OLED frames, key log, summary")


def main(args: argparse.Namespace) -> int:
    try:
        import aiohttp  # noqa: F401  (the simulators need it)

        from sim import demo
    except ImportError as e:
        print(f"kiosk-agent demo: the simulators need the 'sim' extra: pip install 'kiosk-agent[sim]' ({e})",
              file=sys.stderr)
        return 2
    return demo.run(args)
