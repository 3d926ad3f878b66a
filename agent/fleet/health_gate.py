"""The health gate: after a trial boot of a new slot, commit it or roll it back (issue 29 item 2).

``kiosk-agent update gate`` (kiosk-update-gate.service, at every boot, after the
agent's start) asks RAUC whether the booted slot is a trial: booted but not yet
good (RAUC's grub backend marks every boot a try until ``mark-good``; the Pi's
tryboot backend boots the new slot once, beside a primary that is still the old
one). Then, within ``fleet.update_health_timeout`` seconds, it watches the agent
from outside, as systemd and ``status`` do (``systemctl show`` and health.json),
and decides:

* commit (``rauc status mark-good``) as soon as the agent is READY (its unit is
  active: it sent READY=1) with a fresh health snapshot and online;
* roll back (``rauc status mark-bad``, then reboot into the old slot) at once on
  a crash loop (the agent's unit restarted ``CRASH_RESTARTS`` times), and at the
  deadline when it never got READY, or is offline for a reason that may be the
  new version's own: the platform refused its credentials (``auth``, the
  token_rejected state), answered requests it could not use or that it refused
  (``protocol``: 4xx, answers that are not what the API promises), or TLS failed
  while the clock is set (``tls``: the version's CA bundle or TLS stack);
* commit at the deadline when the agent is READY but offline for a reason the old
  version would meet the same way (so rolling back would not bring the unit
  online, only lose the update): ``network`` (no route, DNS, connection refused or
  reset, timeouts), ``platform`` (its own 5xx or 429), ``displaced`` (another
  client holds the token), and ``tls`` with the clock unset. An agent that does
  not say why (only its websocket down, an older health file) is judged by the
  gate's own probe: a TCP connection to the platform's address; when the gate
  cannot connect either, the network is at fault (commit); when it can, the
  agent is (roll back).

Two rules keep the gate from doing harm: a trial with no good slot to go back to
is committed at once (marking the only bootable slot bad would leave none), and
an install the gate once committed is confirmed at once on its later boots (its
update was judged; a later fault is not the update's and rolling back to an older
version would not fix it). The gate remembers committed installs in
``state_dir/update-gate.json`` (the data partition: it survives both slots).

Exit 0: committed, nothing to do or no RAUC; 3: rolled back (reboot started);
1: RAUC failed.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from agent.runtime import faults
from agent.runtime import health as hs

log = logging.getLogger(__name__)

AGENT_UNIT = "kiosk-agent.service"
CRASH_RESTARTS = 3  # restarts of the agent's unit within the gate's window that make a crash loop
FRESH = 30.0  # seconds: an older health snapshot means the agent is not running (as `status` says)
RECORD = "update-gate.json"
PROBE_TIMEOUT = 5.0
# Offline for these reasons stops any version alike: commit after the grace period.
NOT_THE_VERSIONS = (faults.NETWORK, faults.PLATFORM, faults.DISPLACED_CAUSE)

COMMIT, ROLLBACK, WAIT = "commit", "rollback", "wait"


@dataclass(frozen=True)
class Service:
    """The agent's unit as ``systemctl show`` says: active means READY=1 arrived (Type=notify)."""

    active_state: str = ""
    sub_state: str = ""
    restarts: int = 0

    @property
    def ready(self) -> bool:
        return self.active_state == "active" and self.sub_state == "running"


@dataclass(frozen=True)
class Look:
    """One look at the agent: its unit, and its health snapshot when fresh."""

    service: Service
    health: hs.Health | None


@dataclass(frozen=True)
class Verdict:
    action: str  # COMMIT | ROLLBACK | WAIT
    reason: str


def parse_show(text: str) -> Service:
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    try:
        restarts = int(values.get("NRestarts", "0") or 0)
    except ValueError:
        restarts = 0
    return Service(values.get("ActiveState", ""), values.get("SubState", ""), restarts)


def judge(look: Look, *, expired: bool, probe=lambda: True) -> Verdict:
    """The gate's rule for one look (module docstring); ``probe()``: True when the platform's address connects."""
    s, h = look.service, look.health
    if s.restarts >= CRASH_RESTARTS:
        return Verdict(ROLLBACK, f"crash loop: the agent restarted {s.restarts} times")
    if s.ready and h is not None and h.connection == hs.ONLINE:
        return Verdict(COMMIT, "the agent is READY and online")
    if not expired:
        return Verdict(WAIT, "")
    if h is None or not s.ready:
        what = "its unit is " + (f"{s.active_state}/{s.sub_state}" if s.active_state else "unknown")
        return Verdict(ROLLBACK, f"the agent was never READY ({what}, health snapshot "
                                 f"{'fresh' if h is not None else 'missing or stale'})")
    if h.connection in (hs.TOKEN_REJECTED, hs.CONFIG_ERROR):
        return Verdict(ROLLBACK, f"the agent is {h.connection}: the platform refused what this version sends")
    if h.connection == hs.DISPLACED:
        return Verdict(COMMIT, "the agent is READY, displaced by another client (not this version's doing)")
    cause = h.offline_cause
    if cause == faults.TLS and not h.clock_ok:
        return Verdict(COMMIT, "the agent is READY, offline (tls) with the clock unset: no version could check "
                               "certificates")
    if cause in NOT_THE_VERSIONS:
        return Verdict(COMMIT, f"the agent is READY, offline ({cause}): the old version would meet the same")
    if cause:
        return Verdict(ROLLBACK, f"the agent is READY but offline ({cause}): this version's own fault")
    if probe():
        return Verdict(ROLLBACK, "the agent is READY but offline while the platform's address answers this unit")
    return Verdict(COMMIT, "the agent is READY, offline, and the platform is unreachable from this unit too")


def probe_platform(address: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when a TCP connection to the platform's host and port opens (DNS, route and listener work)."""
    parts = urlsplit(address)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


class Watcher:
    """Looks at the agent from outside: ``systemctl show`` and health.json (never its process)."""

    def __init__(self, state_dir: Path, unit: str = AGENT_UNIT, clock=time.time):
        self.state_dir, self.unit, self.clock = Path(state_dir), unit, clock

    def service(self) -> Service:
        exe = shutil.which("systemctl")
        if exe is None:
            return Service()
        try:
            done = subprocess.run([exe, "show", self.unit, "--property=ActiveState,SubState,NRestarts"],
                                  capture_output=True, text=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            return Service()
        return parse_show(done.stdout)

    def health(self) -> hs.Health | None:
        try:
            h = hs.Health.read(self.state_dir / "health.json")
        except (OSError, ValueError, TypeError):
            return None
        return h if self.clock() - h.updated_at <= FRESH else None

    def look(self) -> Look:
        return Look(self.service(), self.health())


def install_key(slot) -> str:
    """What identifies one install into a slot: bootname, bundle version, install time and count."""
    return f"{slot.bootname}|{slot.bundle_version}|{slot.installed}"


def committed(state_dir: Path) -> set[str]:
    try:
        data = json.loads((Path(state_dir) / RECORD).read_text())
        return set(data.get("committed", [])) if isinstance(data, dict) else set()
    except (OSError, ValueError):
        return set()


def remember(state_dir: Path, key: str) -> None:
    from common.atomic import write_atomically

    keys = sorted(committed(state_dir) | {key})[-8:]  # a few installs back is plenty
    try:
        write_atomically(Path(state_dir) / RECORD, json.dumps({"committed": keys}).encode(), mode=0o644)
    except OSError as e:  # the commit stands; a later boot is judged again, which is safe
        log.warning("update gate: cannot write %s: %s", RECORD, e)


@dataclass(frozen=True)
class Outcome:
    action: str  # COMMIT | ROLLBACK | "none"
    reason: str


def run(cfg, *, rauc=None, watcher: Watcher | None = None, reboot=None, poll: float | None = None,
        monotonic=time.monotonic, sleep=time.sleep, announce=None) -> Outcome:
    """Judge the booted slot and act (mark-good; or mark-bad and reboot). Raises rauc.RaucError when RAUC fails."""
    if rauc is None:
        from agent.fleet import rauc
    st = rauc.status()
    booted = st.slot(st.booted)
    if booted is None:
        return Outcome("none", f"RAUC names no booted root slot (booted {st.booted or '-'}): nothing to judge")
    if st.booted == st.primary and booted.boot_status == "good":
        return Outcome("none", f"slot {st.booted} is not a trial (primary and good)")
    key = install_key(booted)
    if key in committed(cfg.state_dir):
        rauc.mark_good()
        return Outcome(COMMIT, f"slot {st.booted} ({booted.bundle_version or 'no bundle'}): this install was "
                               "already committed; confirmed")
    fallback = [s for s in st.slots if s.bootname != st.booted and s.boot_status == "good"]
    if not fallback:
        rauc.mark_good()
        remember(cfg.state_dir, key)
        return Outcome(COMMIT, f"slot {st.booted}: no good slot to go back to; committed")

    watcher = watcher or Watcher(cfg.state_dir)
    timeout = cfg.fleet.update_health_timeout
    poll = poll if poll is not None else min(2.0, max(0.2, timeout / 10))
    deadline = monotonic() + timeout
    log.info("update gate: trial of slot %s (%s); up to %.0f s for READY and online", st.booted,
             booted.bundle_version or "no bundle version", timeout)
    while True:
        expired = monotonic() >= deadline
        verdict = judge(watcher.look(), expired=expired, probe=lambda: probe_platform(cfg.mews.platform_address))
        if verdict.action != WAIT:
            break
        sleep(poll)
    if verdict.action == COMMIT:
        rauc.mark_good()
        remember(cfg.state_dir, key)
        return Outcome(COMMIT, f"slot {st.booted}: {verdict.reason}")
    rauc.mark_bad()
    outcome = Outcome(ROLLBACK, f"slot {st.booted}: {verdict.reason}; marked bad, rebooting into slot "
                                f"{fallback[0].bootname}")
    if announce is not None:  # before the reboot, which stops this process
        announce(outcome)
    (reboot or _reboot)()
    return outcome


def _reboot() -> None:
    exe = shutil.which("systemctl") or "systemctl"
    subprocess.run([exe, "reboot"], timeout=60)
