"""ConcertPOS gateway client: shard failover, rate budgets, checked requests, typed replies.

    client = PosClient(cfg.pos, state_dir=cfg.state_dir)
    products = client.list_products()          # POSID defaults to pos.pos_id
    client.close()

Starts on a random shard; on connect failure or loss it fails over to the next
shard, backing off once every shard has failed. Reads (and registerdevice) are
resent once on another shard after a loss; ``payitems`` never is: its
``ConnectionLost``/``PosReplyTimeout`` goes to the caller (see ``agent.pos.sale``).
The api key goes into every request and is registered as a log secret.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from agent.pos.budget import Budget, budget_file
from agent.pos.connection import Connection
from agent.pos.errors import ConnectionLost, GatewayUnavailable, InvalidRequest, PosRateLimited
from agent.pos.models import Deposit, License, PaymentMethod, PointOfSale, Product, Status, Transaction, records
from agent.runtime.backoff import Backoff
from agent.runtime.logs import add_secret

log = logging.getLogger(__name__)

# command -> required parameters (besides api_key), checked before anything is sent
REQUIRED = {
    "listpm": ("POSID",), "listproducts": ("POSID",), "listtransactions": ("POSID",),
    "payitems": ("POSID", "Products", "PaymentMethod"), "registerdevice": ("UUID",),
}
COMMANDS = ("getconfig", "getdeposit", "getlicense", "listpm", "listproducts", "payitems", "registerdevice",
            "version", "getstatus", "listtransactions", "listpos")
POS_SCOPED = ("listpm", "listproducts", "payitems", "listtransactions")  # may carry posPassword
NOT_IDEMPOTENT = ("payitems",)
MAX_RATELIMIT_RETRIES = 3


def check_parameters(command: str, params: dict) -> None:
    """Raise InvalidRequest when a required parameter is missing or malformed (no round trip)."""
    if command not in COMMANDS:
        raise InvalidRequest(f"unknown ConcertPOS command {command!r}")
    for name in REQUIRED.get(command, ()):
        if params.get(name) is None or params.get(name) == "":
            raise InvalidRequest(f"{command} needs the parameter {name}")
    for name in ("POSID", "PaymentMethod", "Limit"):
        if name in params and params[name] is not None and (
                isinstance(params[name], bool) or not isinstance(params[name], int) or params[name] < 0):
            raise InvalidRequest(f"{command}: {name} must be a whole number >= 0, got {params[name]!r}")
    if command == "payitems":
        products = params["Products"]
        if not isinstance(products, list) or not products:
            raise InvalidRequest("payitems needs a non-empty Products list")
        for p in products:
            if not (isinstance(p, dict) and _whole(p.get("ID")) and _whole(p.get("Amount"))):
                raise InvalidRequest(f"payitems: each product needs a whole ID and Amount >= 0, got {p!r}")
        if not any(p["Amount"] > 0 for p in products):
            raise InvalidRequest("payitems: no product has an Amount above 0")


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


class PosClient:
    """A synchronous client for one ConcertPOS instance (thread-safe: one request at a time)."""

    def __init__(self, cfg, *, state_dir=None, budget: Budget | None = None, timeout: float | None = None,
                 connect_timeout: float | None = None, rng: random.Random | None = None,
                 backoff: Backoff | tuple[float, float] = (0.5, 30.0), on_broadcast=None, on_connect=None,
                 stop: threading.Event | None = None, ws_factory=None):
        self.cfg = cfg
        add_secret(cfg.api_key)
        add_secret(getattr(cfg, "pos_password", ""))
        self.shards = [str(s) for s in cfg.shards]
        if not self.shards:
            raise InvalidRequest("pos.shards is empty")
        self.timeout = float(timeout if timeout is not None else cfg.timeout)
        self.connect_timeout = float(connect_timeout if connect_timeout is not None else self.timeout)
        if budget is None:
            budget = Budget(budget_file(state_dir, cfg.instance, cfg.api_key) if state_dir else None)
        self.budget = budget
        self._rng = rng or random.Random()
        self._index = self._rng.randrange(len(self.shards))  # the reference client picks a random shard
        # the house backoff (full jitter), shared by every connect until one succeeds
        self._backoff = backoff if isinstance(backoff, Backoff) else Backoff(*backoff, reset_after=0.0, rng=self._rng)
        self.on_broadcast = on_broadcast
        self.on_connect = on_connect  # called with the shard name after every (re)connect
        self.stop_event = stop or threading.Event()
        self._ws_factory = ws_factory
        self._conn: Connection | None = None
        self._lock = threading.RLock()
        self.connects = 0  # successful connects, for health and tests

    # -- connection ---------------------------------------------------------------------------

    @property
    def shard(self) -> str:
        return self.shards[self._index]

    @property
    def connection(self) -> Connection | None:
        conn = self._conn
        return conn if conn is not None and conn.alive else None

    def url(self, shard: str) -> str:
        return self.cfg.url_template.replace("{shard}", shard).replace("{instance}", self.cfg.instance)

    def connect(self, deadline: float | None = None) -> Connection:
        """Connect to the current shard or fail over to the next ones.

        Every shard is tried once without delay; after that attempts back off
        exponentially (with jitter) until ``deadline`` (monotonic; None = until
        ``stop`` is set), then GatewayUnavailable. The deadline bounds the whole
        attempt, not each shard: in the first round every shard not yet tried gets
        an equal share of the time left, so black-holed shards cannot add up.
        """
        attempt, last = 0, None
        n = len(self.shards)
        while True:
            if attempt >= n:
                # every shard failed once: back off (outside the lock, so other callers keep their deadlines)
                delay = self._backoff.next_delay()
                if deadline is not None:
                    delay = min(delay, deadline - time.monotonic())
                    if delay <= 0:
                        break
                if self.stop_event.wait(delay):
                    break
            with self._lock:
                conn = self.connection
                if conn is not None:  # another caller got there first
                    return conn
                shard = self.shard
                connect_timeout = self.connect_timeout
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    connect_timeout = min(connect_timeout, left / max(1, n - attempt))
                try:
                    self._conn = Connection(self.url(shard), shard, connect_timeout=connect_timeout,
                                            on_broadcast=self._broadcast, ws_factory=self._ws_factory)
                except ConnectionLost as e:
                    last = e
                    log.info("pos: %s", e)
                    self._index = (self._index + 1) % n
                    attempt += 1
                    continue
                self.connects += 1
                self._backoff.succeeded()
                log.info("pos: connected to shard %s", shard)
                conn = self._conn
            if self.on_connect is not None:
                self.on_connect(shard)
            return conn
        raise GatewayUnavailable(f"no ConcertPOS shard reachable ({', '.join(self.shards)})"
                                 + (f": {last}" if last else ""))

    def _broadcast(self, msg) -> None:
        if self.on_broadcast is not None:
            self.on_broadcast(msg)

    def fail_over(self, conn: Connection) -> None:
        """Drop a lost connection and move on to the next shard."""
        with self._lock:
            conn.close()
            if self._conn is conn:
                self._conn = None
                self._index = (self._index + 1) % len(self.shards)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests -----------------------------------------------------------------------------

    def call(self, command: str, parameters: dict | None = None, *, timeout: float | None = None,
             connect_deadline: float | None = None) -> dict:
        """Send ``command`` (api_key added) and return the reply event's parameters.

        Waits for its rate budget first. A ``ratelimit`` answer is honoured
        (wait ``retry_after``, resend: the gateway did not run it). A loss
        before sending fails over and resends; after sending, only idempotent
        commands are resent (once).
        """
        params = {k: v for k, v in (parameters or {}).items() if v is not None}
        check_parameters(command, params)
        params["api_key"] = self.cfg.api_key
        if command in POS_SCOPED and getattr(self.cfg, "pos_password", None):
            params.setdefault("posPassword", self.cfg.pos_password)
        timeout = self.timeout if timeout is None else timeout
        own_deadline = connect_deadline is None
        if own_deadline:
            # pos.timeout overall: each shard tried once within it (a share each), then retries until it ends
            connect_deadline = time.monotonic() + self.timeout
        resent = limited = 0
        while True:
            conn = self.connect(connect_deadline)
            token = self.budget.reserve(command, stop=self.stop_event)
            if not token:
                raise GatewayUnavailable("stopping")
            try:
                return conn.request(command, params, timeout=timeout)
            except PosRateLimited as e:
                self.budget.cancel(command, token)  # refused unrun: costs nothing
                token = ""
                self.budget.penalise(command, e.retry_after)
                limited += 1
                log.warning("pos: %s", e)
                if limited > MAX_RATELIMIT_RETRIES:
                    raise
            except ConnectionLost as e:
                log.info("pos: %s", e)
                self.fail_over(conn)
                if e.sent and (command in NOT_IDEMPOTENT or resent >= 1):
                    raise
                resent += e.sent
                if own_deadline:  # the gateway was alive: reconnecting for the resend gets its own pos.timeout
                    connect_deadline = time.monotonic() + self.timeout
            finally:
                self.budget.settle(command, token)

    # -- typed commands -----------------------------------------------------------------------

    def _pos(self, pos_id: int | None) -> int | None:
        return self.cfg.pos_id if pos_id is None else pos_id

    def version(self) -> str:
        return str(self.call("version").get("Version") or "")

    def get_status(self) -> Status:
        return Status.from_wire(self.call("getstatus"))

    def get_license(self) -> License:
        return License.from_wire(self.call("getlicense").get("License"))

    def get_config(self) -> dict:
        config = self.call("getconfig").get("Config")
        return config if isinstance(config, dict) else {}

    def get_deposit(self) -> Deposit:
        return Deposit.from_wire(self.call("getdeposit").get("Deposit"))

    def list_pos(self) -> list[PointOfSale]:
        return records(self.call("listpos"), "POS", PointOfSale)

    def pos_name(self, pos_id: int | None = None) -> str:
        """The point of sale's name as staff set it up ("" when the gateway does not list it)."""
        wanted = self._pos(pos_id)
        return next((p.name for p in self.list_pos() if p.id == wanted), "")

    def list_payment_methods(self, pos_id: int | None = None) -> list[PaymentMethod]:
        return records(self.call("listpm", {"POSID": self._pos(pos_id)}), "PaymentMethods", PaymentMethod)

    def list_products(self, pos_id: int | None = None) -> list[Product]:
        return records(self.call("listproducts", {"POSID": self._pos(pos_id)}), "Products", Product)

    def list_transactions(self, pos_id: int | None = None, limit: int | None = None) -> list[Transaction]:
        params = self.call("listtransactions", {"POSID": self._pos(pos_id), "Limit": limit})
        return records(params, "Transactions", Transaction)

    def register_device(self, uuid: str, workplace: int | None = None) -> dict:
        return self.call("registerdevice", {"UUID": uuid, "workplace": workplace})

    def pay_items(self, pos_id: int, payment_method: int, products: list[tuple[int, int]]) -> int:
        """Book ``products`` [(ID, Amount)]; returns the count booked. Never resent after a loss."""
        params = {"POSID": pos_id, "PaymentMethod": payment_method,
                  "Products": [{"ID": pid, "Amount": amount} for pid, amount in products]}
        reply = self.call("payitems", params)
        try:
            return int(reply["Items"])
        except (TypeError, ValueError, KeyError):
            return -1  # booked, count not stated
