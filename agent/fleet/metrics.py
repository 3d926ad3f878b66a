"""The unit's health as Prometheus metrics in node_exporter's textfile collector.

The unit opens no port for them: ``kiosk-agent metrics`` (its own service, so the
hardened agent keeps writing only its state folder) writes ``fleet.metrics_textfile``
every ``fleet.metrics_interval`` seconds, atomically (a temporary file renamed over
the old one, as node_exporter's documentation asks, so a scrape never reads half a
file), and node_exporter serves it with its own metrics; Prometheus in agent mode
(or any remote-write sender) on the unit pushes them out of the hotel's NAT.

Everything comes from what ``kiosk-agent status --json`` reads: the running agent's
health snapshot (``state_dir/health.json``) and agent.db, read-only. Names and help
texts below are an interface (dashboards and alert rules in docs/fleet/ use them):
add metrics, never rename one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.runtime import health as hs

if TYPE_CHECKING:  # versions is imported when a snapshot is read
    from agent.fleet.versions import History

log = logging.getLogger(__name__)

STALE_AFTER = 30.0  # seconds: an older health snapshot means the agent is not running (as `status` says)
CONNECTION_STATES = (hs.BOOTING, hs.CONNECTING, hs.ONLINE, hs.OFFLINE, hs.DISPLACED, hs.TOKEN_REJECTED,
                     hs.CONFIG_ERROR)
DEVICE_STATES = (hs.IDLE, hs.BUSY, hs.WAITING, hs.FAULT)
# agent.db counters kiosk_checkin_<outcome>, kiosk_checkout_<outcome> (agent/kiosk/session.py counts them)
CHECKIN_COUNTER, CHECKOUT_COUNTER = "kiosk_checkin_", "kiosk_checkout_"


@dataclass
class Snapshot:
    """What one write of the metrics file says; read by ``read_snapshot``."""

    version: str
    slot: str
    now: float
    health: hs.Health | None = None
    health_error: str = ""
    outbox: tuple[int, int] | None = None  # (pending, dead), read live from agent.db
    journal: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (type, state) -> (rows, runs)
    store_counters: dict[str, int] = field(default_factory=dict)
    payments: dict[str, int] = field(default_factory=dict)
    schema_version: int | None = None
    history: History | None = None


def read_snapshot(state_dir: Path | str, *, version: str, slot: str, now: float | None = None) -> Snapshot:
    """Read the health snapshot and agent.db; what cannot be read is left out, never raised."""
    from agent.fleet.versions import read_history

    state_dir = Path(state_dir)
    snap = Snapshot(version=version, slot=slot, now=time.time() if now is None else now)
    try:
        snap.health = hs.Health.read(state_dir / "health.json")
    except FileNotFoundError:
        snap.health_error = "no health snapshot (agent not running?)"
    except (OSError, ValueError, TypeError) as e:
        snap.health_error = f"cannot read health.json: {e}"
    try:
        db = sqlite3.connect(f"file:{state_dir / 'agent.db'}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return snap
    try:
        snap.schema_version = db.execute("PRAGMA user_version").fetchone()[0]
        pending, dead = db.execute("SELECT COALESCE(SUM(dead=0),0), COALESCE(SUM(dead=1),0) FROM outbox").fetchone()
        snap.outbox = (int(pending), int(dead))
        for dtype, state, rows, runs in db.execute(
                "SELECT COALESCE(device_type, ''), state, count(*), COALESCE(SUM(runs), 0) FROM journal "
                "GROUP BY 1, 2"):
            snap.journal[(dtype, state)] = (int(rows), int(runs))
        snap.store_counters = {n: int(v) for n, v in db.execute("SELECT name, value FROM counters")}
        snap.payments = {s: int(n) for s, n in db.execute("SELECT state, count(*) FROM payments GROUP BY state")}
    except sqlite3.Error as e:  # a missing file opens as an empty database: no tables
        log.debug("metrics: agent.db not readable: %s", e)
    finally:
        db.close()
    snap.history = read_history(state_dir)
    return snap


def _paper_low(device: hs.DeviceHealth) -> bool:
    # The printer's handler words paper faults "paper out" / "paper near end"; the health model has no flag.
    text = f"{device.activity} {device.fault}".lower()
    return "paper" in text and device.name == "printer"


class UnitCollector:
    """A prometheus_client collector over one ``Snapshot`` (custom collector: the values are read, not counted)."""

    def __init__(self, snapshot: Snapshot):
        self.snap = snapshot

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        s, h = self.snap, self.snap.health
        age = s.now - h.updated_at if h is not None else None
        up = h is not None and age is not None and age <= STALE_AFTER

        info = GaugeMetricFamily("kiosk_info", "The agent's version and the root slot it runs from (always 1).",
                                 labels=["version", "slot"])
        info.add_metric([s.version, s.slot], 1)
        yield info
        yield GaugeMetricFamily("kiosk_up", "1 when the agent's health snapshot is fresh (the agent runs), else 0.",
                                value=1 if up else 0)
        if age is not None:
            yield GaugeMetricFamily("kiosk_health_age_seconds", "Age of the agent's health snapshot.", value=max(0.0, age))
        if s.schema_version is not None:
            yield GaugeMetricFamily("kiosk_state_schema_version", "Schema version of the agent's state database.",
                                    value=s.schema_version)

        if h is not None:
            conn = GaugeMetricFamily("kiosk_connection_state", "1 for the agent's current connection state to the "
                                     "platform, 0 for the others.", labels=["state"])
            for state in CONNECTION_STATES + (() if h.connection in CONNECTION_STATES else (h.connection,)):
                conn.add_metric([state], 1 if h.connection == state else 0)
            yield conn
            yield GaugeMetricFamily("kiosk_online", "1 when the agent is online with the platform.",
                                    value=1 if up and h.connection == hs.ONLINE else 0)
            yield GaugeMetricFamily("kiosk_offline_seconds", "Seconds since the agent went offline (0 when not offline).",
                                    value=max(0.0, s.now - h.offline_since) if h.offline_since else 0)
            yield GaugeMetricFamily("kiosk_storage_ok", "1 when the state folder takes writes, 0 on a storage fault.",
                                    value=1 if h.storage == "ok" else 0)
            yield GaugeMetricFamily("kiosk_clock_ok", "1 when the system clock is set (TLS can be checked).",
                                    value=1 if h.clock_ok else 0)
            dev = GaugeMetricFamily("kiosk_device_state", "1 for each device's current state, 0 for the others.",
                                    labels=["device", "state"])
            paper = GaugeMetricFamily("kiosk_paper_low", "1 when the printer reports paper out or near its end.",
                                      labels=["device"])
            for d in sorted(h.devices.values(), key=lambda d: d.name):
                for state in DEVICE_STATES + (() if d.state in DEVICE_STATES else (d.state,)):
                    dev.add_metric([d.name, state], 1 if d.state == state else 0)
                if d.name == "printer":
                    paper.add_metric([d.name], 1 if _paper_low(d) else 0)
            yield dev
            yield paper
            svc = GaugeMetricFamily("kiosk_service_ok", "1 when an optional service (kiosk, pos) serves, else 0.",
                                    labels=["service"])
            for name, state in sorted(h.services.items()):
                svc.add_metric([name], 1 if state == "ok" else 0)
            yield svc
            commands = CounterMetricFamily("kiosk_commands", "Device commands finished since the agent started, by "
                                           "final outcome.", labels=["outcome"])
            commands.add_metric(["processed"], h.counters.get("commands_processed", 0))
            commands.add_metric(["failed"], h.counters.get("commands_failed", 0))
            yield commands
            if "mews_budget_used" in h.counters and h.counters.get("mews_budget_limit"):
                yield GaugeMetricFamily("kiosk_request_budget_used_ratio", "Share of the platform's request budget "
                                        "(requests per window) used in the current window.",
                                        value=h.counters["mews_budget_used"] / h.counters["mews_budget_limit"])

        if s.outbox is not None or h is not None:
            if s.outbox is not None:
                pending, dead = s.outbox
            elif h is not None:
                pending, dead = h.outbox_depth, h.dead_letters
            yield GaugeMetricFamily("kiosk_outbox_depth", "Reports waiting in the durable outbox.", value=pending)
            yield GaugeMetricFamily("kiosk_dead_letters", "Reports the platform refused for good (dead letters).",
                                    value=dead)
        journal = GaugeMetricFamily("kiosk_journal_commands", "Commands in the execution journal (its last 30 days), by "
                                    "device type and state: done Printer rows are prints, done KeyCutter rows keys.",
                                    labels=["device_type", "state"])
        touches = GaugeMetricFamily("kiosk_journal_device_runs", "Times a device was driven for the journal's "
                                    "commands (a retried command counts each run).", labels=["device_type"])
        runs_by_type: dict[str, int] = {}
        for (dtype, state), (rows, runs) in sorted(s.journal.items()):
            journal.add_metric([dtype, state], rows)
            runs_by_type[dtype] = runs_by_type.get(dtype, 0) + runs
        for dtype, runs in sorted(runs_by_type.items()):
            touches.add_metric([dtype], runs)
        yield journal
        yield touches
        for name, counter, help_text in (
                ("reports_sent", "reports_sent", "Reports the outbox delivered to the platform (kept in agent.db)."),
                ("outbox_dropped", "outbox_dropped", "Reports dropped because the outbox was full (kept in agent.db)."),
                ("dead_lettered", "dead_letters", "Reports that became dead letters, ever (kept in agent.db).")):
            yield CounterMetricFamily(f"kiosk_{name}", help_text, value=s.store_counters.get(counter, 0))
        counted = {**(h.counters if h is not None else {}), **s.store_counters}  # agent.db's are the live ones
        for metric, prefix, what in (("kiosk_checkins", CHECKIN_COUNTER, "check-ins"),
                                     ("kiosk_checkouts", CHECKOUT_COUNTER, "check-outs")):
            fam = CounterMetricFamily(metric, f"Guest {what} at the kiosk, by outcome (kept in agent.db).",
                                      labels=["outcome"])
            for name, value in sorted(counted.items()):
                if name.startswith(prefix):
                    fam.add_metric([name[len(prefix):]], value)
            yield fam
        pay = GaugeMetricFamily("kiosk_payments", "Kiosk card payments in the ledger, by state.", labels=["state"])
        for state, n in sorted(s.payments.items()):
            pay.add_metric([state], n)
        yield pay
        hist = s.history
        if hist is not None:
            if hist.last_update is not None:
                yield GaugeMetricFamily("kiosk_last_update_timestamp_seconds", "When this unit first started the "
                                        "version it changed to last (update or rollback).", value=hist.last_update.started)
            yield GaugeMetricFamily("kiosk_rollback", "1 when the last version change went to an older version "
                                    "(a rollback).", value=1 if hist.rollback else 0)
            yield CounterMetricFamily("kiosk_rollbacks", "Version changes to an older version, ever, on this unit.",
                                      value=hist.rollbacks)


def render(snapshot: Snapshot) -> bytes:
    """The textfile's content in Prometheus' text format."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(UnitCollector(snapshot))
    return generate_latest(registry)


def write_textfile(path: Path | str, snapshot: Snapshot) -> None:
    """Write atomically and world-readable (node_exporter runs as its own user)."""
    from common.atomic import write_atomically

    write_atomically(Path(path), render(snapshot), mode=0o644)


def write_once(cfg, *, slot: str | None = None) -> Snapshot:
    from agent import __version__
    from agent.fleet.slot import booted_slot

    snap = read_snapshot(cfg.state_dir, version=__version__, slot=booted_slot() if slot is None else slot)
    write_textfile(cfg.fleet.metrics_textfile, snap)
    return snap


def run(cfg, stop: threading.Event, *, slot: str | None = None) -> None:
    """Write the metrics file every ``fleet.metrics_interval`` seconds until ``stop`` is set; never raises."""
    last_error = ""
    while not stop.is_set():
        try:
            write_once(cfg, slot=slot)
            if last_error:
                log.info("metrics: %s written again", cfg.fleet.metrics_textfile)
            last_error = ""
        except Exception as e:  # a full disk or a missing folder must not end the writer
            if str(e) != last_error:
                log.error("metrics: cannot write %s: %s", cfg.fleet.metrics_textfile, e)
            last_error = str(e)
        stop.wait(cfg.fleet.metrics_interval)

