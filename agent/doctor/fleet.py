"""Doctor's software line: version, root slot, last update, rollback (issue 29)."""

from __future__ import annotations

import datetime as dt

from agent.doctor import FAIL, OK, Result


def check_software(cfg, summary=None) -> Result:
    """One line from `kiosk-agent update status`'s summary; FAIL only when RAUC is there and fails."""
    if summary is None:
        from agent.commands.update import _summary as summary
    info = summary(cfg)
    parts = [f"version {info['version']}", f"slot {info.get('slot') or '- (no A/B image)'}"]
    if info.get("trial"):
        parts.append(f"TRIAL boot (primary {info.get('primary')}): not committed yet")
    last = info.get("last_update")
    if last:
        when = dt.datetime.fromtimestamp(last["at"], dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        parts.append(f"last update {when}")
    else:
        parts.append("no update recorded")
    parts.append("ROLLED BACK to an older version" if info.get("rollback") else "no rollback")
    if "error" in info:
        return Result("software", FAIL, "; ".join(parts) + f"; {info['error']}",
                      "run `rauc status` as root; check /etc/rauc/system.conf and the data partition")
    return Result("software", OK, "; ".join(parts))
