"""Import the config a technician dropped on the boot partition (run at every boot).

``python -m agent.fleet.firstboot --boot-file /boot/firmware/kiosk-agent.toml
--dest /etc/kiosk-agent/config.toml --error-file /boot/firmware/kiosk-agent-error.txt``

A valid file is installed mode 0600 for the agent's user and the secret-bearing
copy is wiped from the FAT partition. An invalid one is left in place for the
technician to fix; the problem goes to the error file (and to the OLED when one
is configured) and nothing is installed, so the previous config stays in use.
Exit 0: installed or nothing to do; 1: the file was rejected; 2: usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from agent import config as config_mod
from common.atomic import fsync_dir, write_atomically

# The hardened service may write only here (ReadWritePaths in kiosk-agent.service).
SERVICE_STATE_DIR = "/var/lib/kiosk-agent"


@dataclass(frozen=True)
class ImportResult:
    """What happened to the boot-partition file."""

    outcome: str  # "absent" | "installed" | "rejected"
    problems: tuple[str, ...] = ()


def validate(text: str, shown_name: str, dest: Path, state_root: str | None) -> list[str]:
    """Problems with the config text (empty when it is usable), secrets never included."""
    try:
        # Relative paths must resolve where the file will live, not on the boot partition.
        cfg = config_mod.parse(text, str(dest))
    except config_mod.ConfigError as e:
        where = f"{e.key}: " if e.key else ""
        return [f"{shown_name}: {where}{e.problem}"]
    problems = []
    if state_root:
        state = os.path.normpath(cfg.agent.state_dir)
        if state != state_root and not state.startswith(state_root + os.sep):
            problems.append(f"{shown_name}: agent.state_dir: must be {state_root} (or a folder in it) "
                            f"on this unit, the service may write nowhere else; got \"{state}\"")
    return problems


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):  # Windows editors add a BOM; TOML does not allow one
        raw = raw[3:]
    return raw.decode("utf-8")


def _wipe(path: Path) -> None:
    """Overwrite then delete: on FAT a plain unlink leaves the token readable in free clusters."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass
    path.unlink()
    fsync_dir(path.parent)


def resolve_owner(user: str | None) -> tuple[int, int] | None:
    """(uid, gid) of ``user``; None for no chown."""
    if not user:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise LookupError(f"user {user!r} does not exist") from None
    return entry.pw_uid, entry.pw_gid


def error_report(boot_file: Path, problems: list[str]) -> str:
    """The text left on the boot partition for the technician."""
    lines = [f"kiosk-agent did not use {boot_file.name}:", ""]
    lines += [f"  {p}" for p in problems]
    lines += ["", f"Fix {boot_file.name} on this card (it was left in place) and power the unit on again.",
              "Until then the unit keeps its previous configuration, if it had one.", ""]
    return "\n".join(lines)


def import_config(boot_file: Path, dest: Path, error_file: Path, owner: tuple[int, int] | None = None,
                  state_root: str | None = SERVICE_STATE_DIR, show=None) -> ImportResult:
    """Validate ``boot_file``; install it at ``dest`` (0600) and wipe it, or write ``error_file``."""
    if not boot_file.exists():
        return ImportResult("absent")
    try:
        text = _read_text(boot_file)
    except UnicodeDecodeError:
        problems = [f"{boot_file.name}: not UTF-8 text; save it as UTF-8 (plain text)"]
    except OSError as e:
        problems = [f"{boot_file.name}: cannot read it: {e.strerror or e}"]
    else:
        problems = validate(text, boot_file.name, dest, state_root)
    if problems:
        write_atomically(error_file, error_report(boot_file, problems).encode(), mode=0o644, durable=True)
        if show is not None:
            show(text if "text" in locals() else "", problems)
        return ImportResult("rejected", tuple(problems))
    write_atomically(dest, text.encode(), mode=0o600, owner=owner, durable=True)
    _wipe(boot_file)
    if error_file.exists():
        error_file.unlink()
        fsync_dir(error_file.parent)
    return ImportResult("installed")


def _display_config(raw_text: str, installed: Path):
    """The [display] table to show an error with: the dropped file's, else the installed one's."""
    try:
        table = tomllib.loads(raw_text).get("display")
    except (tomllib.TOMLDecodeError, AttributeError):
        table = None
    if not isinstance(table, dict):
        try:
            return config_mod.load(str(installed)).display
        except config_mod.ConfigError:
            return None
    known = {f.name for f in fields(config_mod.DisplayConfig)}
    try:
        return config_mod.DisplayConfig(**{k: v for k, v in table.items() if k in known})
    except TypeError:
        return None


def show_on_display(display_cfg, problems: list[str]) -> bool:
    """Show the first problem on the OLED's config-error screen; never raises."""
    if display_cfg is None or display_cfg.driver in ("none", "png") or not problems:
        return False
    try:
        from agent.panel import screens
        from agent.runtime.health import CONFIG_ERROR, Health
        from hal.display import open_display
    except ImportError:  # a build without the display code
        return False
    # "kiosk-agent.toml: mews.mode: expected ..." -> "mews.mode: expected ..." (3 short lines)
    message = problems[0].split(": ", 1)[-1]
    try:
        display = open_display(display_cfg.driver, i2c_port=display_cfg.i2c_port,
                               address=display_cfg.address, rotate=display_cfg.rotate)
        if display is None:
            return False
        display.show(screens.render(screens.config_error(Health(connection=CONFIG_ERROR, message=message))))
        display.device.persist = True  # luma blanks the panel at exit unless told to keep it
        display.close()
        return True
    except Exception as e:  # the display is a courtesy; the error file is the record
        print(f"kiosk-firstboot: could not show the error on the display: {e}", file=sys.stderr)
        return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m agent.fleet.firstboot", description=__doc__.splitlines()[0])
    p.add_argument("--boot-file", default="/boot/firmware/kiosk-agent.toml")
    p.add_argument("--dest", default=config_mod.DEFAULT_CONFIG)
    p.add_argument("--error-file", default="/boot/firmware/kiosk-agent-error.txt")
    p.add_argument("--owner", default="kiosk", help="user that owns the installed file ('' = no chown)")
    p.add_argument("--state-root", default=SERVICE_STATE_DIR,
                   help="agent.state_dir must lie here ('' = any)")
    p.add_argument("--no-display", action="store_true", help="do not show errors on the OLED")
    args = p.parse_args(argv)
    boot_file, dest = Path(args.boot_file), Path(args.dest)
    try:
        owner = resolve_owner(args.owner)
    except LookupError as e:
        print(f"kiosk-firstboot: {e}", file=sys.stderr)
        return 2

    def show(raw_text: str, problems: list[str]) -> None:
        if not args.no_display:
            show_on_display(_display_config(raw_text, dest), problems)

    try:
        result = import_config(boot_file, dest, Path(args.error_file), owner, args.state_root or None, show)
    except OSError as e:
        print(f"kiosk-firstboot: config import failed: {e}", file=sys.stderr)
        return 1
    if result.outcome == "absent":
        print(f"kiosk-firstboot: no {boot_file} (nothing to import)")
        return 0
    if result.outcome == "installed":
        print(f"kiosk-firstboot: installed {boot_file.name} as {dest} (mode 0600); removed it from the boot partition")
        return 0
    for problem in result.problems:
        print(f"kiosk-firstboot: config rejected: {problem}", file=sys.stderr)
    print(f"kiosk-firstboot: details left in {args.error_file}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
