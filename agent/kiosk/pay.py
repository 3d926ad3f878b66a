"""Settle a balance on the terminal (charged at most once) and record it with payments/addCreditCard."""

from __future__ import annotations

import logging
import secrets
from decimal import ROUND_HALF_UP, Decimal

from agent.kiosk.session import failed, refused
from hal.payment import Declined, NotCharged, OutcomeUnknown, TerminalError

log = logging.getLogger("agent.kiosk")
RECORD_WAIT = 15.0


def settle(ctx, customer_id: str, number: str, amount: dict) -> dict:
    """Charge ``amount`` and record it; the approval facts (no holder name). Ends the session on failure."""
    value = Decimal(str(amount["Value"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    reference = f"K{number}-{secrets.token_hex(4)}"
    try:
        approval = ctx.terminal.charge(value, amount["Currency"], reference)
    except Declined as e:
        raise refused("refused.payment_declined", why=f"terminal declined {reference}: {e}") from None
    except NotCharged as e:
        raise refused("refused.payment_timeout", why=f"terminal did not charge {reference}: {e}") from None
    except OutcomeUnknown as e:
        raise failed("failed.payment", task=f"payment {reference} outcome unknown: check the terminal",
                     why=str(e)) from None
    except TerminalError as e:
        raise failed("failed.payment", task="payment terminal not available", why=str(e)) from None
    body = {"CustomerId": customer_id,
            "Amount": {"Currency": approval.currency or amount["Currency"], "Value": float(approval.amount)},
            "CreditCard": {"Type": approval.card_type, "Number": approval.obfuscated_number,
                           "Expiration": approval.expiration, "Name": approval.holder_name or "Card holder"},
            "ReceiptIdentifier": approval.terminal_reference, "Notes": f"Kiosk payment, reservation {number}"}
    log.info("kiosk: payment %s approved (terminal %s, %s %s)", reference, approval.terminal_reference,
             body["Amount"]["Value"], body["Amount"]["Currency"])
    delivered = ctx.recorder.record(body, RECORD_WAIT)
    return {"reference": approval.terminal_reference, "delivered": delivered, "amount": body["Amount"]}
