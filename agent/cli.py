"""`kiosk-agent` entry point: one subcommand per module in agent/commands.

Exit codes: 0 success, 1 operation failed, 2 usage or config error.
Results go to stdout; logs and progress to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from agent import __version__

# subcommand -> (module in agent.commands, one-line help); modules load lazily.
SUBCOMMANDS = {
    "run": ("run", "run the agent service (websocket or poll, devices, outbox)"),
    "status": ("status", "show the running agent's health snapshot"),
    "queue": ("queue", "list, retry or drop reports in the durable outbox"),
    "mews": ("mews", "call one Mews Connector API operation and print the JSON response"),
    "pos": ("pos", "ConcertPOS gateway: status, products, methods, deposit, transactions, pay"),
    "config": ("config", "validate a config file offline and print it with secrets masked"),
    "doctor": ("doctor", "check config, network, platform and devices; one line per check"),
    "kiosk": ("kiosk", "run one guest check-in or check-out through the running agent's kiosk API"),
    "sim": ("sim", "run a simulator: mews, printer, encoder, pos"),
    "update": ("update", "A/B updates (RAUC): status, install a bundle, mark the running slot good"),
    "metrics": ("metrics", "write the unit's Prometheus metrics for node_exporter's textfile collector"),
    "state": ("state", "agent.db's schema version; downgrade it before booting an older agent"),
    "demo": ("demo", "run the agent against simulated platform and devices; write demo-output/"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-agent", description="Hotel kiosk agent for Mews.")
    parser.add_argument("--version", action="version", version=f"kiosk-agent {__version__}")
    sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        mod = importlib.import_module(f"agent.commands.{module}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.register(p)
        p.set_defaults(_module=mod)
    return parser


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="F", default=None,
                        help="config file (default $KIOSK_AGENT_CONFIG, then /etc/kiosk-agent/config.toml)")


def load_config_or_exit(path: str | None):
    """Load the config; on error print it (file, key, problem) and exit 2."""
    from agent import config as config_mod

    try:
        return config_mod.load(path)
    except config_mod.ConfigError as e:
        print(f"kiosk-agent: config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "subcommand", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._module.main(args) or 0)
    except KeyboardInterrupt:
        return 130
