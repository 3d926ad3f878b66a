"""`kiosk-agent update status|install URL|mark-good|gate [--json]`: the unit's A/B updates, for technicians.

RAUC does the work (agent/fleet/rauc.py). ``status`` says which slot runs, the
version, the last update and whether it was a rollback; without RAUC it says so.
``install URL`` installs a signed bundle into the other slot (RAUC checks the
signature against the image's keyring) and, with ``--reboot``, starts its trial
boot; ``mark-good`` commits the running slot (the health gate's call, by hand).
``gate`` is the health gate kiosk-update-gate.service runs at every boot
(agent/fleet/health_gate.py): it commits a trial boot or rolls it back.
Exit 0 on success, 1 when RAUC is missing or failed, 2 for usage errors, 3: gate rolled back.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

from agent.cli import add_config_argument, load_config_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("action", choices=("status", "install", "mark-good", "gate"))
    parser.add_argument("source", nargs="?", metavar="URL", help="install: the bundle's URL or path")
    parser.add_argument("--json", action="store_true", help="status: print one JSON object")
    parser.add_argument("--reboot", action="store_true",
                        help="install: reboot into the new slot's trial boot when the install succeeded")


def _summary(cfg) -> dict:
    """What status, doctor and the technician want: slot, version, last update, rollback."""
    from agent import __version__
    from agent.fleet import rauc
    from agent.fleet.slot import booted_slot
    from agent.fleet.versions import read_history

    out: dict = {"version": __version__, "slot": booted_slot(), "rauc": False}
    history = read_history(cfg.state_dir)
    if history is not None and history.last_update is not None:
        out["last_update"] = {"at": history.last_update.started, "version": history.last_update.version,
                              "slot": history.last_update.slot}
    out["rollback"] = bool(history and history.rollback)
    out["rollbacks"] = history.rollbacks if history else 0
    try:
        st = rauc.status()
    except rauc.RaucMissing as e:
        out["message"] = str(e)
        return out
    except rauc.RaucError as e:
        out["rauc"], out["error"] = True, str(e)
        return out
    out.update(rauc=True, slot=st.booted or out["slot"], primary=st.primary, compatible=st.compatible,
               slots=[{"bootname": s.bootname, "state": s.state, "boot_status": s.boot_status,
                       "bundle_version": s.bundle_version, "installed": s.installed} for s in st.slots])
    # Booted from a slot that is not the primary one: a trial boot not yet committed (or one that failed).
    out["trial"] = bool(st.booted and st.primary and st.booted != st.primary)
    return out


def _print_status(info: dict) -> None:
    import datetime as dt

    lines = [f"version:      {info['version']}", f"slot:         {info.get('slot') or '-'}"]
    if info.get("rauc"):
        if "error" in info:
            lines.append(f"rauc:         {info['error']}")
        else:
            lines.append(f"primary:      {info.get('primary') or '-'}" + ("  (this boot is a trial: "
                         "`kiosk-agent update mark-good` commits it)" if info.get("trial") else ""))
            for s in info.get("slots", []):
                lines.append(f"slot {s['bootname'] or '?':<7} {s['state'] or '-'}, {s['boot_status'] or '-'}"
                             + (f", bundle {s['bundle_version']}" if s["bundle_version"] else "")
                             + (f", installed {s['installed']}" if s["installed"] else ""))
    else:
        lines.append(f"rauc:         {info['message']}")
    last = info.get("last_update")
    when = (dt.datetime.fromtimestamp(last["at"], dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if last else "")
    lines.append(f"last update:  {when + ' to ' + last['version'] if last else 'none recorded'}")
    lines.append("rollback:     " + ("YES: the last change went back to an older version" if info["rollback"]
                                     else "no") + (f" ({info['rollbacks']} ever)" if info["rollbacks"] else ""))
    print("\n".join(lines))


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    from agent.fleet import rauc

    if args.action == "status":
        info = _summary(cfg)
        if args.json:
            print(json.dumps(info, indent=2, sort_keys=True))
        else:
            _print_status(info)
        return 1 if "error" in info else 0
    if args.action == "install":
        source = args.source or cfg.fleet.update_url
        if not source:
            print("kiosk-agent update install: which bundle? give its URL (or set fleet.update_url)", file=sys.stderr)
            return 2
        print(f"installing {source} into the other slot (rauc checks its signature) ...", file=sys.stderr)
        try:
            rauc.install(source)
        except rauc.RaucError as e:
            print(f"kiosk-agent update install: {e}", file=sys.stderr)
            return 1
        if not args.reboot:
            print("installed: reboot to try it (`kiosk-agent update install URL --reboot` does both); "
                  "the old slot boots again unless the new one is marked good", file=sys.stderr)
            return 0
        backend = os.environ.get("KIOSK_TRYBOOT_BACKEND", rauc.TRYBOOT_BACKEND)
        reboot = [backend, "reboot"] if os.access(backend, os.X_OK) else [shutil.which("reboot") or "reboot"]
        print(f"installed: rebooting into the trial ({' '.join(reboot)})", file=sys.stderr)
        return 0 if subprocess.run(reboot).returncode == 0 else 1
    if args.source:
        print(f"kiosk-agent update {args.action}: takes no URL", file=sys.stderr)
        return 2
    if args.action == "gate":
        return _gate(cfg)
    try:
        message = rauc.mark_good()
    except rauc.RaucError as e:
        print(f"kiosk-agent update mark-good: {e}", file=sys.stderr)
        return 1
    print(message or "the booted slot is marked good")
    return 0


def _gate(cfg) -> int:
    from agent.fleet import health_gate, rauc

    def say(outcome) -> None:
        print(f"update gate: {outcome.action}: {outcome.reason}", flush=True)

    try:
        outcome = health_gate.run(cfg, announce=say)
    except rauc.RaucMissing as e:
        print(f"update gate: nothing to do: {e}")
        return 0
    except rauc.RaucError as e:
        print(f"kiosk-agent update gate: {e}", file=sys.stderr)
        return 1
    if outcome.action != health_gate.ROLLBACK:  # a rollback said so before its reboot
        say(outcome)
    return 3 if outcome.action == health_gate.ROLLBACK else 0
