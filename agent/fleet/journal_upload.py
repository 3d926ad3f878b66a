"""systemd-journal-upload's configuration, rendered from the agent's ``[fleet]`` table.

``python -m agent.fleet.journal_upload --config /etc/kiosk-agent/config.toml``
(kiosk-firstboot runs it at every boot, after it installed a new config) writes:

* ``/etc/systemd/journal-upload.conf.d/kiosk-agent.conf``: ``URL=`` and the mutual
  TLS files (journal-upload.conf(5) names the unit's own key and certificate
  ``ServerKeyFile``/``ServerCertificateFile``, the CA it trusts ``TrustedCertificateFile``);
* ``/etc/systemd/system/systemd-journal-upload.service.d/kiosk-agent.conf``: the
  service waits for its state folder, which kiosk-firstboot binds from the data
  partition (``journal-upload/``) over the service's ``StateDirectory`` (with
  ``DynamicUser``, ``/var/lib/private/systemd/journal-upload``). The cursor
  (``--save-state``) lives there: the journal is volatile and the root is a RAM
  overlay, so only the data partition remembers what was sent.

Without ``fleet.journal_upload_url`` both files are removed (exit 0, "off").
Exit 0: written or removed; 1: cannot write; 2: config error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CONF_DIR = Path("/etc/systemd/journal-upload.conf.d")
UNIT_DIR = Path("/etc/systemd/system/systemd-journal-upload.service.d")
FILE_NAME = "kiosk-agent.conf"
STATE_DIR = "/var/lib/private/systemd/journal-upload"  # the service's StateDirectory= under DynamicUser=


class UnsafeValue(ValueError):
    """A value that would break out of its line in a systemd config file."""


def _line(key: str, value: str, source: str = "") -> str:
    if any(c in value for c in "\n\r\0"):
        raise UnsafeValue(f"{source or key}: a line break or NUL in the value")
    return f"{key}={value}\n"


def render_upload_conf(fleet) -> str | None:
    """The journal-upload.conf drop-in for ``fleet`` (a FleetConfig); None when no upload is configured."""
    if not fleet.journal_upload_url:
        return None
    text = ("# Written by kiosk-agent from [fleet] in its config at every boot: edit that, not this.\n"
            "[Upload]\n" + _line("URL", fleet.journal_upload_url, "fleet.journal_upload_url"))
    if fleet.client_key:
        text += _line("ServerKeyFile", fleet.client_key, "fleet.client_key")
    if fleet.client_cert:
        text += _line("ServerCertificateFile", fleet.client_cert, "fleet.client_cert")
    if fleet.ca_file:
        text += _line("TrustedCertificateFile", fleet.ca_file, "fleet.ca_file")
    return text


def render_service_dropin(state_dir: str = STATE_DIR) -> str:
    """The systemd-journal-upload.service drop-in: wait for the cursor's folder on the data partition."""
    return ("# Written by kiosk-agent (agent/fleet/journal_upload.py): the upload cursor (--save-state)\n"
            "# lives in the service's state folder, which kiosk-firstboot binds from the data partition.\n"
            "[Unit]\n"
            "After=kiosk-firstboot.service\n"
            + _line("RequiresMountsFor", state_dir)
            + "[Service]\n"
            # A unit that cannot reach the server keeps trying, without filling the journal with restarts.
            "Restart=on-failure\n"
            "RestartSec=60\n")


def apply(fleet, *, conf_dir: Path = CONF_DIR, unit_dir: Path = UNIT_DIR) -> bool:
    """Write (or remove) both drop-ins; True when the upload is configured."""
    from common.atomic import write_atomically

    conf = render_upload_conf(fleet)
    targets = (Path(conf_dir) / FILE_NAME, Path(unit_dir) / FILE_NAME)
    if conf is None:
        for path in targets:
            path.unlink(missing_ok=True)
        return False
    for path, text in zip(targets, (conf, render_service_dropin()), strict=False):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text.encode(), mode=0o644)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.fleet.journal_upload", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="the agent's config file")
    parser.add_argument("--conf-dir", default=str(CONF_DIR), help=f"journal-upload.conf.d folder (default {CONF_DIR})")
    parser.add_argument("--unit-dir", default=str(UNIT_DIR), help=f"the service's drop-in folder (default {UNIT_DIR})")
    args = parser.parse_args(argv)
    from agent import config as config_mod

    try:
        cfg = config_mod.load(args.config)
    except config_mod.ConfigError as e:
        print(f"journal upload: config error: {e}", file=sys.stderr)
        return 2
    try:
        on = apply(cfg.fleet, conf_dir=Path(args.conf_dir), unit_dir=Path(args.unit_dir))
    except UnsafeValue as e:
        print(f"journal upload: {cfg.path}: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"journal upload: cannot write the drop-ins: {e}", file=sys.stderr)
        return 1
    print("on: " + cfg.fleet.journal_upload_url if on else "off (no fleet.journal_upload_url)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
