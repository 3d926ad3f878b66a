"""Host checks: the state directory and the clock."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time

from agent.doctor import FAIL, OK, Result

MIN_FREE_MB = 50
MIN_YEAR = 2024
FRESH_HEALTH = 30.0  # seconds: the running agent rewrites health.json every few seconds


def agent_running(cfg, now: float | None = None) -> bool:
    """True when the agent's health snapshot in the state dir is fresh."""
    try:
        from agent.runtime.health import Health

        updated = Health.read(cfg.state_dir / "health.json").updated_at
    except (ImportError, OSError, ValueError, TypeError):
        return False
    return (time.time() if now is None else now) - float(updated or 0) < FRESH_HEALTH


def check_state_dir(cfg) -> Result:
    """The state directory exists (or `run` can create it), takes a write, and has free space."""
    path = cfg.state_dir
    if not path.is_dir():
        return _check_creatable(path)
    probe = path / f".doctor-{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"doctor")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        return Result("state", FAIL, f"{path} not writable: {e.strerror or e}",
                      "run doctor as the agent's user or root (sudo); check the data partition is mounted read-write")
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    free_mb = shutil.disk_usage(path).free // (1024 * 1024)
    if free_mb < MIN_FREE_MB:
        return Result("state", FAIL, f"{path}: only {free_mb} MB free",
                      "clear dead letters (kiosk-agent queue) or use a larger card")
    return Result("state", OK, f"{path} writable, {free_mb} MB free")


def _check_creatable(path) -> Result:
    """A missing state folder is fine when `run` can create it: its nearest existing parent is writable."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
        free_mb = shutil.disk_usage(parent).free // (1024 * 1024)
        return Result("state", OK, f"{path} does not exist yet; run will create it ({free_mb} MB free)")
    return Result("state", FAIL, f"{path} does not exist and cannot be created ({parent} is not writable)",
                  "check agent.state_dir; on the image it is the data partition (sudo systemctl start kiosk-firstboot)")


def check_clock(now: float | None = None) -> Result:
    """The clock is set (TLS certificates and command times depend on it)."""
    moment = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.UTC)
    synced = os.path.exists("/run/systemd/timesync/synchronized")
    detail = moment.strftime("%Y-%m-%d %H:%M UTC") + (", NTP synchronized" if synced else "")
    if moment.year < MIN_YEAR:
        return Result("clock", FAIL, f"clock not set ({detail})",
                      "the unit needs network time: check the network and that NTP (UDP 123) is allowed; "
                      "timedatectl shows the state")
    return Result("clock", OK, detail)


