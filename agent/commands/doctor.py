"""`kiosk-agent doctor`: field diagnostics, one line per check (OK / FAIL / SKIP) with a fix for each FAIL.

Never prints or encodes unless asked: ``--print-test`` prints a short test
receipt, ``--read-card`` reads (LT) the card in the encoder. Exit 1 if any check
fails (a config error included), else 0.
"""

from __future__ import annotations

import argparse
import os
import sys

from agent.cli import add_config_argument


def _kind_doctors():
    """Each device kind's doctor module (check, and maybe add_arguments), in the kinds' order."""
    import importlib

    from agent.devices import kinds

    return [importlib.import_module(kind.doctor) for kind in kinds() if kind.doctor]


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    for doctor in _kind_doctors():
        if hasattr(doctor, "add_arguments"):
            doctor.add_arguments(parser)


def run_checks(args, emit=print) -> list:
    """Run every check in order, emitting each line as soon as it is known."""
    from agent import config as config_mod
    from agent.devices import kinds
    from agent.doctor import FAIL, OK, Result, host, panel, platform, services
    from agent.doctor import pos as pos_check

    results = []

    def add(result: Result) -> Result:
        results.append(result)
        emit(result.line())
        return result

    path = config_mod.resolve_path(args.config)
    try:
        cfg = config_mod.load(path)
    except config_mod.ConfigError as e:
        add(Result("config", FAIL, str(e),
                   "fix the file (or drop a corrected kiosk-agent.toml on the boot partition and reboot)"))
        return results
    tables = [name for name in [k.table for k in kinds()] + ["gpio", "pos"] if getattr(cfg, name) is not None]
    add(Result("config", OK, f"{path} valid (devices: {', '.join(tables) or 'none'}; display {cfg.display.driver})"))
    add(host.check_state_dir(cfg))
    add(host.check_clock())
    platform_results, client = platform.check_platform(cfg)
    for result in platform_results:
        add(result)
    signed_in = client if all(r.status == OK for r in platform_results) else None
    add(platform.check_websocket(cfg, signed_in))
    if client is not None:
        client.close()
    # One owner per device: while an agent runs, its devices are asked through it (agent.doctor.owner)
    for doctor in _kind_doctors():
        for result in doctor.check(cfg, args):
            add(result)
    if cfg.pos is not None:
        add(pos_check.check_pos(cfg))
        pos_service = services.check_pos_service(cfg)
        if pos_service is not None:
            add(pos_service)
    if cfg.kiosk.enabled:
        add(services.check_kiosk(cfg))
    add(panel.check_display(cfg))
    add(panel.check_gpio(cfg, agent_running=host.agent_running(cfg)))
    from agent.doctor.fleet import check_software

    add(check_software(cfg))
    return results


def main(args: argparse.Namespace) -> int:
    from agent.doctor import FAIL

    try:
        results = run_checks(args, emit=lambda line: print(line, flush=True))
        failed = [r.name for r in results if r.status == FAIL]
        noun = "check" if len(results) == 1 else "checks"
        print(f"{len(results)} {noun}: {len(failed)} failed" + (f" ({', '.join(failed)})" if failed else ""),
              flush=True)
    except BrokenPipeError:
        # the reader went away (`doctor | head -1`): stop quietly, and keep the interpreter's
        # final flush from raising again on the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a tool killed by the closed pipe would
    return 1 if failed else 0
