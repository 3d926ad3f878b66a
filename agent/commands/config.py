"""`kiosk-agent config check --config F`: validate a config offline and show it.

No network and no devices are touched: the file is parsed and validated exactly as
`run` would (keys, types, choices, named files), then the effective config (defaults
filled in, paths resolved) is printed as TOML with every secret masked.
Exit 0 when valid, 2 when not (every problem listed, one per line).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="validate offline and print the effective config (secrets masked)")
    add_config_argument(p)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # strings and lists of strings: valid TOML


def render(cfg) -> str:
    """The effective config as TOML, secrets replaced by the mask."""
    from agent import config as config_mod

    out = [f"# effective config of {cfg.path}"]
    for name, section in cfg.tables().items():
        out.append(f"\n[{name}]")
        for f in fields(section):
            value = getattr(section, f.name)
            if f.metadata.get("secret") and value:
                value = config_mod.REDACTED
            out.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(out) + "\n"


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    sys.stdout.write(render(cfg))
    print(f"kiosk-agent config: {cfg.path} is valid", file=sys.stderr)
    return 0
