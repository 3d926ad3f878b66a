"""`kiosk-agent sim mews|pos|<device>`: the simulators (need the `sim` extra).

The platform simulators are listed here; each device kind declares its own
(``agent/devices/<kind>/simulator.py``). The simulator packages are imported only
when one runs, lazily, so the agent itself never depends on them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from agent.devices import Simulator, simulators


def _mews_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--generation", choices=("current", "seed"), default="current",
                   help="current: today's published Connector API (ClientToken + AccessToken, retired operations "
                        "404); seed: the spec documents' forms with signIn (default: current)")
    p.add_argument("--connector-token", default=None, help="seed generation: the token signIn accepts "
                   "(default: the spec's demo token)")
    p.add_argument("--client-token", default=None, help="current generation: the ClientToken accepted "
                   "(default: the published example's)")
    p.add_argument("--access-token", default=None, help="current generation: the AccessToken accepted "
                   "(default: the published example's)")
    p.add_argument("--seed", default=None, help="JSON seed file (enterprise, spaces, reservations, devices)")
    p.add_argument("--space-events", action="store_true", help="push Space events (older spec) instead of Resource")
    p.add_argument("--no-rate-limit", action="store_true", help="lift the 200 requests / 30 s limit")


def _pos_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ports", default="9001,9002,9003", help="one port per shard, comma separated")
    p.add_argument("--instance", default="my-venue")
    p.add_argument("--api-key", default="demo-api-key")
    p.add_argument("--seed", default=None, help="JSON seed file (products, payment methods, POS)")


PLATFORM_SIMULATORS = (
    Simulator("mews", "sim.mews.cli", "Mews platform: REST + websocket on one port", _mews_arguments),
    Simulator("pos", "sim.pos.cli", "ConcertPOS gateway: one port per shard, shared state", _pos_arguments),
)


def all_simulators() -> dict[str, Simulator]:
    return {s.name: s for s in PLATFORM_SIMULATORS + simulators()}


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="simulator", metavar="SIMULATOR", required=True)
    for sim in all_simulators().values():
        sim.arguments(sub.add_parser(sim.name, help=sim.help))


def main(args: argparse.Namespace) -> int:
    module_name = all_simulators()[args.simulator].module
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        if "aiohttp" in str(e) or "sim" in str(e):
            print(f"kiosk-agent sim: the simulators need the 'sim' extra: pip install 'kiosk-agent[sim]' ({e})",
                  file=sys.stderr)
            return 2
        raise
    return int(module.run(args) or 0)
