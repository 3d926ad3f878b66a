"""The kiosk's card charges on disk, so that no slow platform, restart or guest leaving charges a balance twice.

A charge is written (``charging``) before the terminal is asked; its approval is
written in the same transaction as the outbox row that records it on the
platform. Until that row is delivered, the approval counts against the balance
the guest sees (``on_the_way``), and a charge whose outcome is not known yet
(``charging``, ``unknown``) or whose record the platform refused blocks any new
charge for that guest. Rows hold the reservation's number, the customer's id and
amounts: never the card holder's name (that is in the outbox row until delivery).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from agent.runtime.outbox_rows import insert_call
from agent.runtime.store import PAYMENT_COLUMNS

CHARGING, APPROVED, NOT_CHARGED, UNKNOWN = "charging", "approved", "not_charged", "unknown"
# Derived from an approved charge's record row: on its way, refused by the platform, or recorded.
ON_THE_WAY, REFUSED, RECORDED = "on_the_way", "refused", "recorded"
KEEP_DAYS = 30


@dataclass(frozen=True)
class Charge:
    reference: str
    reservation: str
    customer_id: str
    requested: Decimal
    currency: str
    state: str  # charging | unknown | on_the_way | refused | recorded | not_charged
    approved: Decimal | None = None
    approved_currency: str | None = None
    terminal_reference: str | None = None
    created: float = 0.0

    @property
    def amount_text(self) -> str:
        """What was approved, or asked when nothing is known yet: '95.50 GBP'."""
        if self.approved is not None:
            return f"{self.approved:.2f} {self.approved_currency}"
        return f"{self.requested:.2f} {self.currency}"

    @property
    def blocks(self) -> bool:
        """True when no new charge may be made for this guest until staff look (outcome or record unknown)."""
        return self.state in (CHARGING, UNKNOWN, REFUSED)


class PaymentLedger:
    def __init__(self, store, wake_outbox=lambda: None, clock=time.time):
        self.store, self.wake_outbox, self.clock = store, wake_outbox, clock

    def begin(self, reference: str, reservation: str, customer_id: str, amount: Decimal, currency: str) -> None:
        """Note a charge about to be sent; StorageError (nothing charged) when it cannot be written."""
        now = self.clock()
        with self.store.transaction() as db:
            db.execute("INSERT INTO payments (reference, reservation, customer_id, requested, currency, state, "
                       "created, updated) VALUES (?,?,?,?,?,?,?,?)",
                       (reference, reservation, customer_id, str(amount), currency, CHARGING, now, now))

    def approve(self, reference: str, amount: Decimal, currency: str, terminal_reference: str,
                operation: str, body: dict, recorded: dict | None = None) -> int:
        """The terminal approved: note it and queue its platform record in one transaction; the outbox row id."""
        now = self.clock()
        with self.store.transaction() as db:
            row = insert_call(db, operation, body, now, recorded)
            db.execute("UPDATE payments SET state=?, approved=?, approved_currency=?, terminal_reference=?, "
                       "record_id=?, updated=? WHERE reference=?",
                       (APPROVED, str(amount), currency, terminal_reference, row, now, reference))
        self.wake_outbox()
        return row

    def close(self, reference: str, state: str) -> None:
        """A charge ended without an approval (``not_charged``) or with an outcome nobody knows (``unknown``)."""
        with self.store.transaction() as db:
            db.execute("UPDATE payments SET state=?, updated=? WHERE reference=?", (state, self.clock(), reference))

    def get(self, reference: str) -> Charge | None:
        found = self._select("p.reference=?", (reference,))
        return found[0] if found else None

    def open_for(self, customer_id: str) -> list[Charge]:
        """This guest's charges the platform does not show yet: on their way, unknown, refused."""
        return [c for c in self._select("p.customer_id=? AND p.state IN (?,?,?)",
                                        (customer_id, CHARGING, UNKNOWN, APPROVED)) if c.state != RECORDED]

    def unresolved(self) -> list[Charge]:
        """Charges whose outcome the terminal has not told us (a crash, a lost answer), oldest first."""
        return self._select("p.state IN (?,?)", (CHARGING, UNKNOWN))

    def prune(self, days: float = KEEP_DAYS) -> int:
        with self.store.transaction() as db:
            return db.execute("DELETE FROM payments WHERE updated < ? AND state NOT IN (?,?)",
                              (self.clock() - days * 86400, CHARGING, UNKNOWN)).rowcount

    def _select(self, where: str, args: tuple) -> list[Charge]:
        columns = ", ".join(f"p.{c}" for c in PAYMENT_COLUMNS.split(", "))
        rows = self.store.rows(f"SELECT {columns}, o.id, o.dead FROM payments p LEFT JOIN outbox o "
                               f"ON o.id = p.record_id WHERE {where} ORDER BY p.created", args)
        return [_charge(dict(zip(PAYMENT_COLUMNS.split(", ") + ["row", "dead"], r, strict=True))) for r in rows]


def _charge(r: dict) -> Charge:
    state = r["state"]
    if state == APPROVED:
        # The outbox deletes a row once the platform took it; a dead row is one the platform refused.
        state = RECORDED if r["row"] is None else (REFUSED if r["dead"] else ON_THE_WAY)
    return Charge(reference=r["reference"], reservation=r["reservation"], customer_id=r["customer_id"],
                  requested=Decimal(r["requested"]), currency=r["currency"], state=state,
                  approved=Decimal(r["approved"]) if r["approved"] is not None else None,
                  approved_currency=r["approved_currency"], terminal_reference=r["terminal_reference"],
                  created=r["created"])
