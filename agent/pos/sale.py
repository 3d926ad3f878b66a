"""Selling without double charging: ``payitems`` once, its outcome proved by ``listtransactions``.

``payitems`` is not idempotent and replies only with a count. So a sale:

1. notes the newest transaction id of the POS (the baseline; nothing is sent
   when even that fails: the result is "not booked"),
2. sends ``payitems`` once,
3. lists the transactions newer than the baseline and finds the ones that
   match the sale (POS, payment method, product, amount, not dated before the
   send). With a reply that gives the transaction ids for the receipt; after a
   lost connection or a timeout it decides the outcome:

   - every line found exactly once -> **booked**
   - none found -> **not booked** (then, and only then, sent again if retries allow)
   - anything else (some lines, two candidates, no gateway to ask) -> **unknown**

Nothing is guessed: "unknown" goes to staff with the reason.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from agent.pos.errors import CONFIGURATION_ERRORS, ConnectionLost, InvalidRequest, PosError
from agent.pos.models import Transaction

log = logging.getLogger(__name__)

BOOKED, NOT_BOOKED, UNKNOWN = "booked", "not booked", "unknown"
_ITEM = re.compile(r"^\s*(\d+)\s*(?:[xX*]\s*(\d+))?\s*$")


@dataclass(frozen=True)
class SaleLine:
    product_id: int
    amount: int


def parse_item(text: str) -> SaleLine:
    """``"3x2"`` -> product 3, amount 2 (``"3"`` means one)."""
    m = _ITEM.match(text or "")
    if not m:
        raise InvalidRequest(f"item {text!r}: expected PRODUCTxAMOUNT, e.g. 3x2")
    amount = int(m.group(2)) if m.group(2) else 1
    if amount < 1:
        raise InvalidRequest(f"item {text!r}: the amount must be at least 1")
    return SaleLine(int(m.group(1)), amount)


def merge_lines(lines) -> list[SaleLine]:
    """One line per product (amounts added), in first-seen order; the gateway books one transaction per line."""
    total: dict[int, int] = {}
    for line in lines:
        total[line.product_id] = total.get(line.product_id, 0) + line.amount
    return [SaleLine(pid, amount) for pid, amount in total.items() if amount > 0]


@dataclass
class Match:
    result: str
    transactions: list[Transaction] = field(default_factory=list)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class SaleResult:
    result: str  # booked | not booked | unknown
    pos_id: int
    method_id: int
    lines: list[SaleLine]
    transactions: list[Transaction] = field(default_factory=list)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    attempts: int = 0

    @property
    def booked(self) -> bool:
        return self.result == BOOKED

    @property
    def total(self) -> Decimal:
        return sum((t.amount_money for t in self.transactions), Decimal(0))

    def to_json(self) -> dict:
        out = {"result": self.result, "pos": self.pos_id, "method": self.method_id,
               "items": [{"product": x.product_id, "amount": x.amount} for x in self.lines],
               "attempts": self.attempts}
        if self.booked:
            out["transactions"] = [t.id for t in self.transactions]
            out["details"] = [{"id": t.id, "product": t.product_id, "amount": t.amount_product,
                               "money": f"{t.amount_money:.2f}", "hash": t.hash} for t in self.transactions]
            out["total"] = f"{self.total:.2f}"
        if self.reason:
            out["reason"] = self.reason
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def match_sale(transactions, pos_id: int, method_id: int, lines: list[SaleLine], *,
               not_before: datetime | None = None, confirmed: bool = False) -> Match:
    """Find the sale among transactions newer than the baseline (pure; see the module doc).

    ``confirmed``: the gateway replied, so the sale is booked; several
    candidates then mean another identical sale, and the newest is taken.
    """
    mine = [t for t in transactions if t.pos_id == pos_id and t.payment_id == method_id]
    per_line = [[t for t in mine if t.product_id == x.product_id and t.amount_product == x.amount]
                for x in lines]
    counts = [len(c) for c in per_line]
    if not any(counts):
        return Match(NOT_BOOKED, reason="no matching transaction since the sale was sent")
    early = [t.id for c in per_line for t in c if not_before and t.timestamp and t.timestamp < not_before]
    if early and not confirmed:
        return Match(UNKNOWN, reason=f"transactions {_ids(early)} match but are dated before the sale was sent "
                                     f"(is this device's clock right?)")
    if all(n == 1 for n in counts):
        return Match(BOOKED, sorted((c[0] for c in per_line), key=lambda t: t.id))
    missing = [x.product_id for x, n in zip(lines, counts, strict=True) if n == 0]
    if confirmed and not missing:
        chosen = sorted((max(c, key=lambda t: t.id) for c in per_line), key=lambda t: t.id)
        others = sorted(t.id for c in per_line for t in c if t not in chosen)
        return Match(BOOKED, chosen, warnings=[f"other matching transactions {_ids(others)} were booked since the "
                                               f"sale began: check for a double charge"])
    if missing:
        return Match(UNKNOWN, reason=f"only part of the sale was found (nothing for product(s) "
                                     f"{', '.join(map(str, missing))}): check the transactions")
    doubles = sorted(t.id for c in per_line if len(c) > 1 for t in c)
    return Match(UNKNOWN, reason=f"several matching transactions {_ids(doubles)} (another till may have sold "
                                 f"the same): check the transactions")


def _ids(ids) -> str:
    return ", ".join(str(i) for i in ids)


class Seller:
    """Runs sales on a PosClient; ``retries``: resends allowed after a *proven* "not booked"."""

    def __init__(self, client, *, retries: int = 1, settle_delay: float = 0.5, reconcile_time: float = 30.0,
                 clock_tolerance: float = 300.0, clock=time.time, sleep=time.sleep):
        self.client = client
        self.retries = retries
        self.settle_delay = settle_delay  # let a dying connection's request finish before we look
        self.reconcile_time = reconcile_time
        self.clock_tolerance = clock_tolerance
        self.clock, self.sleep = clock, sleep

    def pay(self, pos_id: int, method_id: int, lines) -> SaleResult:
        lines = merge_lines(lines)
        if not lines:
            raise InvalidRequest("a sale needs at least one item")
        sale = SaleResult(NOT_BOOKED, pos_id, method_id, lines)
        try:
            baseline = self._baseline(pos_id)
        except PosError as e:
            sale.reason = f"nothing was sent: the transactions could not be read first ({e})"
            return sale
        not_before = datetime.fromtimestamp(self.clock() - self.clock_tolerance, UTC)
        products = [(x.product_id, x.amount) for x in lines]
        while True:
            sale.attempts += 1
            try:
                items = self.client.pay_items(pos_id, method_id, products)
            except InvalidRequest:
                raise
            except ConnectionLost as e:
                if not e.sent:
                    sale.reason = f"nothing was sent: {e}"
                    return sale
                log.warning("pos: payitems outcome unknown (%s); checking the transactions", e)
                self.sleep(self.settle_delay)
                found = self._reconcile(pos_id, method_id, lines, baseline, not_before, confirmed=False)
                if found.result == NOT_BOOKED and sale.attempts <= self.retries:
                    log.warning("pos: the sale was not booked; sending it again (attempt %d)", sale.attempts + 1)
                    continue
                return self._finish(sale, found, lost=str(e))
            except PosError as e:  # the gateway refused it, or no shard took it: nothing booked
                sale.reason = str(e)
                return sale
            if items == 0:
                sale.reason = "the gateway booked no items (products or payment method unknown at this POS)"
                return sale
            found = self._reconcile(pos_id, method_id, lines, baseline, not_before, confirmed=True)
            if found.result != BOOKED:
                found = Match(BOOKED, warnings=[f"the gateway confirmed the sale but its transactions could not "
                                                f"be identified: {found.reason}"])
            elif items > 0 and items != len(lines):
                found.warnings.append(f"the gateway booked {items} of {len(lines)} lines")
            return self._finish(sale, found)

    def _finish(self, sale: SaleResult, found: Match, lost: str = "") -> SaleResult:
        sale.result, sale.transactions = found.result, found.transactions
        sale.warnings.extend(found.warnings)
        if found.result != BOOKED:
            sale.reason = (f"{lost}; " if lost else "") + found.reason
        elif lost:
            sale.warnings.append(f"the reply was lost ({lost}); the transactions prove the sale")
        return sale

    def _baseline(self, pos_id: int) -> int:
        newest = self.client.list_transactions(pos_id, limit=1)
        return max((t.id for t in newest), default=0)

    def _since(self, pos_id: int, baseline: int, limit: int = 100) -> list[Transaction]:
        txs = self.client.list_transactions(pos_id, limit=limit)
        if len(txs) >= limit and min(t.id for t in txs) > baseline:
            txs = self.client.list_transactions(pos_id)  # busy venue: the page did not reach the baseline
        return [t for t in txs if t.id > baseline]

    def _reconcile(self, pos_id, method_id, lines, baseline, not_before, *, confirmed: bool) -> Match:
        deadline = time.monotonic() + self.reconcile_time
        while True:
            try:
                txs = self._since(pos_id, baseline)
                break
            except CONFIGURATION_ERRORS as e:
                return Match(UNKNOWN, reason=f"could not check the outcome: {e}")
            except PosError as e:
                if time.monotonic() >= deadline:
                    return Match(UNKNOWN, reason=f"could not check the outcome: {e}")
                log.info("pos: checking the outcome failed (%s); trying again", e)
                self.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        return match_sale(txs, pos_id, method_id, lines, not_before=not_before, confirmed=confirmed)
