"""The long-running ConcertPOS side of the agent (own thread).

- connects (random shard, failover, backoff, forever) and keeps the connection
  checked with websocket pings;
- fetches the license once at start and caches it (the spec asks for that);
- registers this device with a UUID generated once and kept in ``state_dir``,
  repeated as a heartbeat every ``pos.heartbeat_interval`` (inside its budget);
- keeps product, payment-method, deposit and POS-name caches, refreshed after every
  (re)connect and on the ``updatepos`` broadcast (coalesced, within budget);
- logs other broadcasts and shows them in ``health.message``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid as uuid_mod
from pathlib import Path

from agent.pos.errors import CONFIGURATION_ERRORS, GatewayUnavailable, PosError
from agent.pos.models import Deposit, License
from agent.runtime.backoff import Backoff

log = logging.getLogger(__name__)

UUID_FILE = "pos-device-uuid"
PING_INTERVAL = 20.0


def device_uuid(state_dir: str | Path) -> str:
    """This device's UUID: generated once, then read back from ``state_dir``."""
    path = Path(state_dir) / UUID_FILE
    try:
        return str(uuid_mod.UUID(path.read_text().strip()))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        log.warning("pos: %s unreadable (%s); registering as a new device", path, e)
    value = str(uuid_mod.uuid4())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(value + "\n")
        tmp.replace(path)
    except OSError as e:
        log.warning("pos: cannot keep the device UUID in %s (%s)", path, e)
    return value


class PosService:
    """See the module doc; ``start()``/``stop()`` from the supervisor."""

    def __init__(self, cfg, health, *, client=None, heartbeat_interval: float | None = None,
                 refresh_debounce: float = 0.5, ping_interval: float = PING_INTERVAL,
                 error_pause: float = 60.0, jobs=None):
        from agent.pos.client import PosClient

        self.cfg = cfg
        self.health = health
        self.jobs = jobs  # agent.runtime.jobs.Jobs: receipts are print jobs on the printer's one worker
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.client = client or PosClient(cfg.pos, state_dir=cfg.state_dir, stop=self._stop)
        self.client.stop_event = self._stop
        self.client.on_broadcast = self._on_broadcast
        self.heartbeat_interval = heartbeat_interval or cfg.pos.heartbeat_interval
        self.refresh_debounce = refresh_debounce
        self.ping_interval = ping_interval
        self.error_pause = error_pause
        self.uuid = device_uuid(cfg.state_dir)
        self.license: License | None = None
        self.products: dict = {}
        self.methods: dict = {}
        self.deposit: Deposit | None = None
        self.pos_name = ""
        self.refreshes = 0  # completed cache refreshes
        self.heartbeats = 0
        self.broadcasts: list = []
        self.last_receipt = ""
        self._refresh_at: float | None = 0.0  # monotonic time a refresh is due; None = not due
        self._heartbeat_at = 0.0
        self._ping_at = 0.0
        self._thread: threading.Thread | None = None
        self._backoff = Backoff(0.2, 30.0)
        self._device("connecting")

    @classmethod
    def from_config(cls, cfg, health, jobs=None) -> PosService | None:
        if cfg.pos is None:
            return None
        return cls(cfg, health, jobs=jobs)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pos-service", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self.client.close()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- broadcasts (reader thread: never block here) -----------------------------------------

    def _on_broadcast(self, msg) -> None:
        self.broadcasts.append(msg)
        del self.broadcasts[:-20]
        if msg.message == "updatepos":
            if self._refresh_at is None:
                self._refresh_at = time.monotonic() + self.refresh_debounce
            self._wake.set()
            return
        text = msg.message + (f" {msg.parameters}" if msg.parameters else "")
        log.warning("pos: broadcast: %s", text)
        self.health.message = f"ConcertPOS: {text}"

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        connects = -1
        while not self._stop.is_set():
            try:
                self.client.connect(deadline=None)
            except GatewayUnavailable:
                continue  # only when stopping
            if self.client.connects != connects:  # new connection: events may have been missed
                connects = self.client.connects
                self._refresh_at = min(self._refresh_at or 0.0, time.monotonic())
                self._device("online", f"shard {self.client.shard}")
            try:
                self._tick()
                self._backoff.succeeded()
            except CONFIGURATION_ERRORS as e:
                log.error("pos: %s", e)
                self._device("fault", str(e))
                self._stop.wait(self.error_pause)  # a person must fix it: do not hammer the gateway
            except PosError as e:
                log.warning("pos: %s", e)
                self._device("offline", str(e))
                self._stop.wait(self._backoff.next_delay())
        self._device("stopped")

    def _tick(self) -> None:
        self._wake.clear()  # first: a broadcast from here on wakes the wait below
        now = time.monotonic()
        if self.license is None:
            self.license = license = self.client.get_license()
            if not license.active:
                self._device("fault", "ConcertPOS license is not active")
                self.health.message = "ConcertPOS: license is not active"
        if self._refresh_at is not None and now >= self._refresh_at:
            self._refresh_at = None  # broadcasts arriving from here on ask for another refresh
            try:
                self._refresh()
            except PosError:
                self._refresh_at = time.monotonic()  # not lost: retried on the next tick
                raise
        if now >= self._heartbeat_at:
            self.client.register_device(self.uuid, workplace=self.cfg.pos.pos_id)
            self.heartbeats += 1
            self._heartbeat_at = time.monotonic() + self.heartbeat_interval
        if now >= self._ping_at:
            self._check_alive()
            self._ping_at = time.monotonic() + self.ping_interval
        refresh_at = self._refresh_at
        due = [self._heartbeat_at, self._ping_at] + ([refresh_at] if refresh_at is not None else [])
        self._wake.wait(max(0.0, min(due) - time.monotonic()))

    def _refresh(self) -> None:
        """Products, payment methods, deposit: each waits for its own budget."""
        pos_id = self.cfg.pos.pos_id
        products = {p.id: p for p in self.client.list_products(pos_id)}
        methods = {m.id: m for m in self.client.list_payment_methods(pos_id)}
        deposit = self.client.get_deposit()
        pos_name = self.client.pos_name(pos_id)  # for the receipt heading
        # swapped together: a sale never sees new products with old payment methods
        self.products, self.methods, self.deposit, self.pos_name = products, methods, deposit, pos_name
        self.refreshes += 1
        log.info("pos: caches refreshed: %d products, %d payment methods", len(self.products), len(self.methods))

    def _check_alive(self) -> None:
        conn = self.client.connection
        if conn is None:
            return
        if time.monotonic() - conn.last_rx > self.ping_interval + self.client.timeout:
            log.warning("pos: shard %s silent too long; reconnecting", conn.shard)
            self.client.fail_over(conn)
            return
        conn.ping()

    def _device(self, state: str, text: str = "") -> None:
        from agent.runtime.health import FAULT, IDLE, WAITING, DeviceHealth

        kind = {"online": IDLE, "fault": FAULT}.get(state, WAITING)
        dev = self.health.devices.get("pos") or DeviceHealth("pos")
        dev.state = kind
        dev.activity = text if state == "online" else state + (f": {text}" if text and kind != FAULT else "")
        dev.fault = text if kind == FAULT else ""
        self.health.devices["pos"] = dev

    # -- selling (any thread) ------------------------------------------------------------------

    def sell(self, method_id: int, lines, *, pos_id: int | None = None, print_receipt: bool = True):
        """Run a sale with the cached catalogue; prints the receipt when booked. Returns the SaleResult."""
        from agent.pos import receipt
        from agent.pos.sale import Seller

        pos_id = self.cfg.pos.pos_id if pos_id is None else pos_id
        sale = Seller(self.client).pay(pos_id, method_id, lines)
        if sale.booked:
            self.last_receipt = receipt.render_receipt(
                sale, products=self.products, method=self.methods.get(method_id), deposit=self.deposit,
                tz=self.cfg.agent.timezone, title=self.cfg.pos.instance, width=receipt.width_for(self.cfg.printer),
                pos_name=self.pos_name if pos_id == self.cfg.pos.pos_id else "")
            if print_receipt and self.cfg.printer is not None:
                try:
                    if self.jobs is not None:
                        receipt.print_as_job(self.jobs, self.last_receipt)
                    else:  # no agent around this service (a one-off tool): the printer is ours
                        receipt.print_receipt(self.cfg, self.last_receipt)
                except receipt.ReceiptNotPrinted as e:
                    sale.warnings.append(f"receipt not printed: {e}")
        return sale
