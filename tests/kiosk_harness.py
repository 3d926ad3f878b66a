"""Kiosk test plumbing: sim mews + virtual encoder/printer + simulated terminal, a config, a context."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone

from agent import config as config_mod
from agent.devices.encoder.handler import EncoderHandler
from agent.devices.printer.handler import PrinterHandler
from agent.kiosk.context import KioskContext, LookupThrottle
from agent.mews.client import MewsClient
from sim.encoder import VirtualEncoder
from sim.mews.kiosk import midday_zone  # noqa: F401 - the kiosk tests import it from here
from sim.mews.server import MewsSimulator
from sim.printer.virtual import VirtualPrinter
from sim.terminal.server import TerminalSimulator
from agent.kiosk.ledger import PaymentLedger
from agent.runtime.backoff import Backoff
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.outbox import OutboxSender
from agent.runtime.health import Health
from agent.runtime.store import Store
from tests.agent_harness import mews_tokens


class Rig:
    def __init__(self, tmp_path, *, version="2023-06-06", payment=True, kiosk_extra="", generation=None):
        self.tmp = tmp_path
        # The 2017-04-12 reservations form was discontinued on production: only the seed generation has it.
        generation = generation or ("seed" if version == "2017-04-12" else "current")
        self.sim = MewsSimulator(rate_limit=False, generation=generation, record=True).start()
        self.encoder = VirtualEncoder(log_path=str(tmp_path / "keys.jsonl")).start()
        self.printer = VirtualPrinter(out_dir=tmp_path / "receipts").start()
        self.terminal = TerminalSimulator(timeout=1.0).start()
        pay = f'[payment]\naddress = "127.0.0.1:{self.terminal.port}"\ntimeout = 5.0\n' if payment else ""
        text = f"""
[mews]
platform_address = "{self.sim.url}"
{mews_tokens(self.sim)}
timeout = 3.0
reservations_version = "{version}"
[agent]
state_dir = "{tmp_path / 'state'}"
timezone = "{midday_zone()}"
[encoder]
port = "{self.encoder.url}"
reply_timeout = 3.0
[printer]
port = "{self.printer.url}"
row_time_ms = 0.0
[kiosk]
enabled = true
listen = "127.0.0.1:0"
checkin_from = "00:00"
hotel_name = "Kiosk Demo Hotel"
common_areas = ["GYM"]
slip_lines = ["Wi-Fi: KioskGuest / password sunrise", "Breakfast 7:00-10:30"]
slip_qr_url = "https://example.com/welcome"
{kiosk_extra}
{pay}"""
        path = tmp_path / "config.toml"
        path.write_text(text)
        self.cfg = config_mod.load(str(path))
        self.client = MewsClient(self.cfg.mews)
        enc = EncoderHandler(self.cfg.encoder, self.cfg.agent.timezone)
        enc.encoder.ack_timeout = 0.3
        self.handlers = [enc, PrinterHandler(self.cfg.printer)]
        self.store = Store(self.cfg.state_dir)
        # The runtime's own dispatcher: the kiosk's jobs run on the device workers, journalled.
        self.jobs = Dispatcher(self.store, self.handlers, Health(), device_timeout=5.0)
        self.jobs.start()
        self._outbox()

    def _outbox(self):
        """The runtime's own outbox: kiosk payment records are delivered as in the running agent."""
        from hal.payment import from_config

        self.sender = OutboxSender(self.store, self.client.connection(), backoff=Backoff(0.2, 1.0, reset_after=0))
        self.sender.start()
        self.ctx = KioskContext(cfg=self.cfg, client=self.client, jobs=self.jobs,
                                terminal=from_config(self.cfg.payment), throttle=LookupThrottle(),
                                ledger=PaymentLedger(self.store, self.sender.wake))

    def reopen_store(self):
        """The unit restarted: a new store, outbox and kiosk context over the same state folder."""
        self.store = Store(self.cfg.state_dir)
        self.jobs.store = self.store
        self._outbox()

    def service(self):
        """A KioskService over this rig's context (not started: call start() for the web server)."""
        from agent.kiosk.service import KioskService

        return KioskService(self.cfg, self.client, self.jobs, ctx=self.ctx)

    def kiosk_restarted(self):
        """The kiosk service starting after a crash: what its first round does (open charges, key marks)."""
        svc = self.service()
        svc.resolve_payments()
        svc.report_keys_missing()
        return svc

    @property
    def ent(self):
        return self.sim.enterprise

    def reservation(self, number):
        return next(r for r in self.ent.reservations.values() if r["Number"] == number)

    def close(self):
        for step in (lambda: self.sender.stop(0.1), self.client.close, self.jobs.stop, *(h.close for h in self.handlers), self.store.close,
                     self.terminal.stop, self.printer.stop, self.encoder.stop, self.sim.stop):
            with contextlib.suppress(Exception):
                step()


def run(session, action, **fields):
    session.act(action, fields)
    return session.wait_idle(30)


def wait_for(pred, timeout=20.0, what="condition"):
    """Poll ``pred`` until true (every 50 ms), else fail naming ``what``."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ask(svc, method, path, body=None):
    """One call to a running kiosk's API over HTTP: (status, JSON body or None, the response)."""
    import json

    from agent.net import urequests

    resp = urequests.request(method, svc.url + path, json=body, timeout=10)
    try:
        return resp.status_code, (json.loads(resp.content) if resp.content.strip() else None), resp
    finally:
        resp.close()
