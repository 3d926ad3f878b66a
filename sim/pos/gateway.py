"""The simulated ConcertPOS instance: data, validation, rate budgets, commands (no I/O).

Every shard's connection hands its frames to one ``Gateway``, so all shards
share one state. ``handle`` answers one frame; checks run in this order (each
with its error code):

1. not JSON -> ``invalid_json`` (1)
2. JSON, but not ``{"command": str, "parameters": object}`` -> ``invalid_json5`` (2)
3. unknown instance slug in the URL path -> ``invalid_instance`` (3)
4. the instance has no api key configured -> ``no_api_key`` (4)
5. no ``api_key`` parameter -> ``missing_parameter_api`` (5)
6. a wrong ``api_key`` -> ``api_key_mismatch`` (6)
7. unknown command -> ``unknown_command`` (7; the simulator's own name)
8. rate budget: every command has a level per api key that rises by its cost
   ("+N/100 per 30 s": getconfig 25, getdeposit 10, getlicense 4, listpm 20,
   listproducts 25, payitems 1, registerdevice 10, version 50, getstatus 15,
   listtransactions 2, listpos 10 (undocumented; assumed)) and drains
   continuously at 100 points per ``window`` (30 s). A request that would lift
   it over 100 is refused with ``ratelimit`` and code ``{"command",
   "retry_after"}`` (milliseconds until it would fit) and costs nothing.
9. a missing or malformed required parameter -> ``missing_parameter_api`` (5)
10. a password-protected POS without the right ``posPassword`` -> ``invalid_password`` (8)
11. ``getlicense`` while the license is missing -> ``getlicense`` (9)
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

COSTS = {"getconfig": 25, "getdeposit": 10, "getlicense": 4, "listpm": 20, "listproducts": 25,
         "payitems": 1, "registerdevice": 10, "version": 50, "getstatus": 15, "listtransactions": 2,
         "listpos": 10}
CAPACITY = 100.0
REQUIRED = {"listpm": ("POSID",), "listproducts": ("POSID",), "listtransactions": ("POSID",),
            "payitems": ("POSID", "Products", "PaymentMethod"), "registerdevice": ("UUID",)}
POS_SCOPED = ("listpm", "listproducts", "payitems", "listtransactions")
ERROR_CODES = {"invalid_json": 1, "invalid_json5": 2, "invalid_instance": 3, "no_api_key": 4,
               "missing_parameter_api": 5, "api_key_mismatch": 6, "unknown_command": 7,
               "invalid_password": 8, "getlicense": 9}

DEFAULT_SEED = {
    "version": "1.0.1",
    "status": {"status": "success", "message": "All systems are operational"},
    "config": {"license_key": "DEMO-0000-1111-2222", "ticket_limit": "0", "currency": "EUR"},
    "license": {"Name": "Demo Venue", "LicenseKey": "DEMO-0000-1111-2222", "Active": "1", "Type": "demo",
                "DeviceLimit": "0", "TicketLimit": "0", "ProductLimit": "0", "PaymentLimit": "0",
                "POSLimit": "0", "Created": "2024-01-01T00:00:00.000Z", "Expires": None},
    "deposit": {"ID": 15, "Price": 1.0},
    "pos": [
        {"ID": 1, "PointOfSale": "Kiosk", "enabled": True, "special": False, "admin": False, "password": False},
        {"ID": 2, "PointOfSale": "Bar", "enabled": True, "special": False, "admin": False, "password": True},
    ],
    "pos_passwords": {"2": "1234"},
    "products": {
        "1": [
            {"ID": 3, "ProductName": "Beer 0.5 l", "Price": 4.5, "Deposit": True, "CrewBlocked": False},
            {"ID": 5, "ProductName": "Key-card deposit", "Price": 10, "Deposit": False, "CrewBlocked": False},
            {"ID": 7, "ProductName": "Parking day ticket", "Price": 12, "Deposit": False, "CrewBlocked": False},
            {"ID": 9, "ProductName": "Water 0.5 l", "Price": 2.5, "Deposit": True, "CrewBlocked": False},
        ],
        "2": [
            {"ID": 3, "ProductName": "Beer 0.5 l", "Price": 4.5, "Deposit": True, "CrewBlocked": False},
            {"ID": 11, "ProductName": "Gin tonic", "Price": 8, "Deposit": False, "CrewBlocked": True},
        ],
    },
    "payment_methods": {
        "1": [{"ID": 1, "Payment": "Cash", "color": "#28a745"}, {"ID": 2, "Payment": "Card", "color": "#007bff"}],
        "2": [{"ID": 1, "Payment": "Cash", "color": "#28a745"}],
    },
    "next_transaction_id": 9200,
}


@dataclass
class Answer:
    """What the connection does with one frame: reply (or not), then maybe drop."""

    reply: dict | None
    drop: bool = False
    delay: float = 0.0


def event(name: str, parameters: dict) -> dict:
    return {"type": "event", "result": {"event": name, "parameters": parameters}}


def error(name: str, code=None) -> dict:
    return {"type": "error", "result": {"error": name, "code": ERROR_CODES.get(name, 0) if code is None else code}}


def broadcast(message: str, parameters: dict | None = None) -> dict:
    return {"type": "broadcast", "result": {"message": message, "parameters": parameters or {}}}


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


class Gateway:
    """One ConcertPOS instance's state, shared by all shards; thread-safe."""

    def __init__(self, instance: str = "my-venue", api_key: str = "demo-api-key", seed: dict | None = None,
                 window: float = 30.0, clock=time.monotonic):
        data = copy.deepcopy(DEFAULT_SEED)
        data.update(copy.deepcopy(seed or {}))
        self.data = data
        self.instances: dict[str, str] = {instance: api_key}  # slug -> api key ("" = none set)
        self.window, self.clock = float(window), clock
        self.rate = CAPACITY / self.window
        self.lock = threading.RLock()
        self.transactions: list[dict] = []  # oldest first
        self.devices: dict[str, dict] = {}
        self.levels: dict[tuple[str, str], tuple[float, float]] = {}  # (api key, command) -> (level, at)
        self.ratelimit_answers = 0
        self.requests: dict[str, int] = {}
        self.max_levels: dict[str, float] = {}  # highest accepted level per command, for tests
        self._faults: list[dict] = []  # armed drop/delay faults, first match wins

    # -- faults ------------------------------------------------------------------------------

    def arm(self, command: str, *, drop: bool = False, execute: bool = True, delay: float = 0.0) -> None:
        with self.lock:
            self._faults.append({"command": command, "drop": drop, "execute": execute, "delay": delay})

    def _take_fault(self, command: str) -> dict | None:
        for i, f in enumerate(self._faults):
            if f["command"] == command:
                return self._faults.pop(i)
        return None

    # -- the request path --------------------------------------------------------------------

    def handle(self, instance: str, text: str) -> Answer:
        """Answer one frame received on a connection to ``/instance``."""
        try:
            msg = json.loads(text)
        except ValueError:
            return Answer(error("invalid_json"))
        if not (isinstance(msg, dict) and isinstance(msg.get("command"), str)
                and isinstance(msg.get("parameters"), dict)):
            return Answer(error("invalid_json5"))
        command, params = msg["command"], msg["parameters"]
        with self.lock:
            self.requests[command] = self.requests.get(command, 0) + 1
            if instance not in self.instances:
                return Answer(error("invalid_instance"))
            key = self.instances[instance]
            if not key:
                return Answer(error("no_api_key"))
            if "api_key" not in params:
                return Answer(error("missing_parameter_api"))
            if params["api_key"] != key:
                return Answer(error("api_key_mismatch"))
            if command not in COSTS:
                return Answer(error("unknown_command"))
            wait = self._charge(key, command)
            if wait is not None:
                self.ratelimit_answers += 1
                return Answer(error("ratelimit", {"command": command, "retry_after": int(wait * 1000) + 1}))
            problem = self._check(command, params)
            if problem:
                return Answer(error(problem))
            fault = self._take_fault(command)
            if fault and fault["drop"]:
                if fault["execute"]:
                    self._execute(command, params)
                return Answer(None, drop=True, delay=fault["delay"])
            reply = self._execute(command, params)
            return Answer(reply, delay=fault["delay"] if fault else 0.0)

    def _charge(self, key: str, command: str) -> float | None:
        """Charge the command's budget; None when accepted, else seconds until it would fit."""
        now = self.clock()
        level, at = self.levels.get((key, command), (0.0, now))
        level = max(0.0, level - max(0.0, now - at) * self.rate)
        cost = COSTS[command]
        if level + cost > CAPACITY + 1e-9:
            return (level + cost - CAPACITY) / self.rate
        self.levels[(key, command)] = (level + cost, now)
        self.max_levels[command] = max(self.max_levels.get(command, 0.0), level + cost)
        return None

    def _check(self, command: str, p: dict) -> str | None:
        for name in REQUIRED.get(command, ()):
            if p.get(name) in (None, ""):
                return "missing_parameter_api"
        if "POSID" in REQUIRED.get(command, ()) and not _whole(p["POSID"]):
            return "missing_parameter_api"
        if command == "payitems":
            products = p["Products"]
            if not _whole(p["PaymentMethod"]) or not isinstance(products, list) or not all(
                    isinstance(x, dict) and _whole(x.get("ID")) and _whole(x.get("Amount")) for x in products):
                return "missing_parameter_api"
        if command in POS_SCOPED:
            password = self.data.get("pos_passwords", {}).get(str(p["POSID"]))
            if password and p.get("posPassword") != password:
                return "invalid_password"
        if command == "getlicense" and not self.data.get("license"):
            return "getlicense"
        return None

    def _execute(self, command: str, p: dict) -> dict:
        d = self.data
        if command == "version":
            return event("version", {"Version": d["version"]})
        if command == "getstatus":
            return event("getstatus", dict(d["status"]))
        if command == "getconfig":
            return event("getconfig", {"Config": copy.deepcopy(d["config"])})
        if command == "getlicense":
            return event("getlicense", {"License": copy.deepcopy(d["license"])})
        if command == "getdeposit":
            return event("getdeposit", {"Deposit": copy.deepcopy(d["deposit"])})
        if command == "listpos":
            return event("listpos", {"POS": copy.deepcopy(d["pos"])})
        if command == "listpm":
            return event("listpm", {"PaymentMethods": copy.deepcopy(d["payment_methods"].get(str(p["POSID"]), []))})
        if command == "listproducts":
            return event("listproducts", {"Products": copy.deepcopy(d["products"].get(str(p["POSID"]), []))})
        if command == "listtransactions":
            mine = [t for t in reversed(self.transactions) if t["PointOfSaleID"] == p["POSID"]]
            limit = p.get("Limit")
            if _whole(limit) and limit > 0:
                mine = mine[:limit]
            return event("listtransactions", {"Count": len(mine), "Transactions": copy.deepcopy(mine)})
        if command == "registerdevice":
            device = self.devices.setdefault(p["UUID"], {"UUID": p["UUID"], "pings": 0})
            device["pings"] += 1
            device["last_ping"] = _utc_stamp()
            if p.get("workplace") is not None:
                device["workplace"] = p["workplace"]
            return event("registerdevice", {"UUID": p["UUID"], "success": True})
        if command == "payitems":
            booked = self.book(p["POSID"], p["PaymentMethod"], [(x["ID"], x["Amount"]) for x in p["Products"]])
            return event("payitem", {"Items": len(booked)})
        raise AssertionError(command)

    # -- domain ------------------------------------------------------------------------------

    def book(self, pos_id: int, method: int, products: list[tuple[int, int]]) -> list[dict]:
        """Create one transaction per product with Amount > 0 (known products and method only)."""
        with self.lock:
            catalogue = {x["ID"]: x for x in self.data["products"].get(str(pos_id), [])}
            methods = {x["ID"] for x in self.data["payment_methods"].get(str(pos_id), [])}
            if method not in methods:
                return []
            deposit = Decimal(str(self.data["deposit"].get("Price", 0)))
            stamp, out = _utc_stamp(), []
            for pid, amount in products:
                product = catalogue.get(pid)
                if product is None or amount <= 0:
                    continue
                unit = Decimal(str(product["Price"])) + (deposit if product.get("Deposit") else 0)
                tid = self.data["next_transaction_id"]
                self.data["next_transaction_id"] += 1
                money = unit * amount
                t = {"ID": tid, "Payment_ID": method, "PointOfSaleID": pos_id, "Product_ID": pid,
                     "AmountProduct": amount, "AmountMoney": int(money) if money == int(money) else float(money),
                     "timestamp": stamp,
                     "hash": hashlib.sha512(f"{tid}|{pos_id}|{pid}|{amount}|{stamp}".encode()).hexdigest(),
                     "Note": None}
                self.transactions.append(t)
                out.append(copy.deepcopy(t))
            return out


def _utc_stamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
