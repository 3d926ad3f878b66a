"""What the guest owes now, and settling it on the terminal: charged at most once, recorded as approved.

``balance_due`` is the platform's balance minus the kiosk's approvals the platform
has not recorded yet (the outbox still holds them), so a guest who starts over
while a record is slow never sees, nor pays, the same balance twice. ``settle``
notes the charge in the ledger before the terminal is asked and the approval
together with its platform record; the amount and currency recorded are the
terminal's. ``resolve`` settles, with the terminal, charges a crash or a lost
answer left open.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from agent.kiosk import ledger as lg
from agent.kiosk.session import failed, refused
from agent.mews.models import CurrencyValue
from agent.runtime.dbfile import StorageError
from hal.payment import Approval, Declined, NotCharged, OutcomeUnknown, TerminalError

log = logging.getLogger("agent.kiosk")
RECORD_WAIT = 15.0  # seconds the guest waits for the platform to take a payment record
CENT = Decimal("0.01")
PAID = Decimal("0.005")


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def text(value: Decimal, currency: str) -> str:
    return f"{value:.2f} {currency}"


@dataclass(frozen=True)
class Due:
    """What the guest owes now."""

    amount: dict  # {"Currency", "Value"}: the platform's balance minus approvals on their way
    on_the_way: list = field(default_factory=list)  # Charges approved here, not yet recorded by the platform
    blocked: lg.Charge | None = None  # a charge whose outcome or record is unknown: no new charge until staff look

    @property
    def value(self) -> Decimal:
        return money(self.amount["Value"])


def balance_due(ctx, customer_id: str) -> Due:
    """The platform balance less this guest's approvals on their way (read so a delivery in between counts once)."""
    for _ in range(3):
        before = ctx.ledger.open_for(customer_id)
        balance = ctx.client.get_customer_balance(customer_id)
        after = ctx.ledger.open_for(customer_id)
        if [c.reference for c in before] == [c.reference for c in after]:
            break
    blocked = next((c for c in after if c.blocks), None)
    # Another currency cannot be subtracted here: it blocks too (staff convert).
    blocked = blocked or next((c for c in after if c.state == lg.ON_THE_WAY
                               and c.approved_currency != balance.currency), None)
    on_the_way = [c for c in after if c.state == lg.ON_THE_WAY and c.approved_currency == balance.currency]
    value = money(balance.value) - sum((c.approved for c in on_the_way), Decimal(0))
    return Due({"Currency": balance.currency, "Value": float(max(value, Decimal(0)))}, on_the_way, blocked)


def wait_recorded(ctx, references: list[str], timeout: float) -> bool:
    """Wait up to ``timeout`` s for the outbox to deliver these charges' records; True when all are recorded."""
    ctx.ledger.wake_outbox()
    end = time.monotonic() + timeout
    while True:
        states = [getattr(ctx.ledger.get(r), "state", lg.RECORDED) for r in references]
        if all(s == lg.RECORDED for s in states) or any(s == lg.REFUSED for s in states):
            return all(s == lg.RECORDED for s in states)
        if time.monotonic() >= end:
            return False
        time.sleep(0.05)


@dataclass(frozen=True)
class Settled:
    """An approved charge: what the terminal approved and what is left of the amount asked."""

    reference: str
    approved: dict  # {"Currency", "Value"} as the terminal approved it
    rest: Decimal  # still to pay in the asked currency (0 when paid in full; the ask when in another currency)
    other_currency: bool
    recorded: bool  # the platform took the record within RECORD_WAIT (else it stays queued)

    @property
    def approved_text(self) -> str:
        return text(money(self.approved["Value"]), self.approved["Currency"])


def other_currency(paid: Settled, asked: dict, then: str):
    """The End for an approval in another currency than the balance: recorded as approved, staff convert."""
    return refused("refused.payment_currency", {"amount": paid.approved},
                   task=f"card payment {paid.approved_text} approved in another currency for a balance of "
                        f"{asked['Value']:.2f} {asked['Currency']}: {then}", why="approved in another currency")


def settle(ctx, customer_id: str, number: str, amount: dict) -> Settled:
    """Charge ``amount`` once and queue its record; ends the session (End) when nothing was approved."""
    value, currency = money(amount["Value"]), amount["Currency"]
    open_charge = next((c for c in ctx.ledger.open_for(customer_id) if c.blocks), None)
    if open_charge is not None:  # e.g. resolved meanwhile as unknown: never charge beside it
        raise refused("refused.payment_pending", task=f"card payment {open_charge.reference} of "
                      f"{open_charge.amount_text} not confirmed: check the terminal before the guest pays again",
                      why=f"open charge {open_charge.reference} ({open_charge.state})")
    reference = f"K{number}-{secrets.token_hex(4)}"
    try:
        ctx.ledger.begin(reference, number, customer_id, value, currency)
    except StorageError as e:  # never charge what cannot be noted
        raise failed("failed.payment", task="payment not possible: the unit cannot write its records",
                     why=str(e)) from None
    try:
        approval = ctx.terminal.charge(value, currency, reference)
    except Declined as e:
        ctx.ledger.close(reference, lg.NOT_CHARGED)
        raise refused("refused.payment_declined", why=f"terminal declined {reference}: {e}") from None
    except NotCharged as e:
        ctx.ledger.close(reference, lg.NOT_CHARGED)
        raise refused("refused.payment_timeout", why=f"terminal did not charge {reference}: {e}") from None
    except OutcomeUnknown as e:
        ctx.ledger.close(reference, lg.UNKNOWN)
        raise failed("failed.payment", task=f"payment {reference} of {text(value, currency)} outcome unknown: "
                     "check the terminal", why=str(e)) from None
    except TerminalError as e:
        ctx.ledger.close(reference, lg.NOT_CHARGED)
        raise failed("failed.payment", task="payment terminal not available", why=str(e)) from None
    record(ctx, approval, customer_id, number)
    recorded = wait_recorded(ctx, [reference], RECORD_WAIT)
    other = approval.currency != currency
    rest = value if other else max(value - approval.amount, Decimal(0))
    return Settled(reference, {"Currency": approval.currency, "Value": float(approval.amount)}, rest, other,
                   recorded)


def record(ctx, approval: Approval, customer_id: str, number: str) -> int:
    """Note the approval and queue its platform record (one transaction); the outbox row."""
    operation, body = card_payment_request(ctx.client, customer_id, approval, number)
    log.info("kiosk: payment %s approved (terminal %s, %s)", approval.reference, approval.terminal_reference,
             text(approval.amount, approval.currency))
    return ctx.ledger.approve(approval.reference, approval.amount, approval.currency, approval.terminal_reference,
                              operation, body, {"AccountId": customer_id, "Receipt": approval.terminal_reference})


def card_payment_request(client, customer_id: str, approval: Approval, number: str) -> tuple[str, dict]:
    """The platform operation and body recording an approved card payment (the client knows the generation)."""
    paid = CurrencyValue(currency=approval.currency, value=float(approval.amount))
    card = {"Type": approval.card_type, "Number": approval.obfuscated_number, "Expiration": approval.expiration,
            "Name": approval.holder_name or "Card holder"}
    return client.card_payment_request(customer_id, paid, card, approval.terminal_reference,
                                       f"Kiosk payment, reservation {number}")


def resolve(ctx) -> int:
    """Ask the terminal about charges a crash or a lost answer left open; record approvals, tell staff; count."""
    settled = 0
    for charge in ctx.ledger.unresolved():
        try:
            approval = ctx.terminal.status(charge.reference) if ctx.terminal is not None else None
        except TerminalError as e:  # still in progress or not reachable: ask again later
            log.info("kiosk: payment %s still open on the terminal (%s)", charge.reference, e)
            continue
        if approval is None:
            ctx.ledger.close(charge.reference, lg.NOT_CHARGED)
            log.info("kiosk: payment %s was not charged", charge.reference)
        else:
            record(ctx, approval, charge.customer_id, charge.reservation)
            ctx.tasks.raise_task(f"card payment {text(approval.amount, approval.currency)} approved while the "
                                 f"guest's session was cut off; recorded in Mews - reservation {charge.reservation}",
                                 f"terminal reference {approval.terminal_reference}; check the stay's state")
        settled += 1
    return settled
