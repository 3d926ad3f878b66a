"""Settle a balance on the terminal (charged at most once) and record it (the client builds the platform call)."""

from __future__ import annotations

import logging
import secrets
from decimal import ROUND_HALF_UP, Decimal

from agent.kiosk.session import failed, refused
from agent.mews.models import CurrencyValue
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
    paid = CurrencyValue(currency=approval.currency or amount["Currency"], value=float(approval.amount))
    card = {"Type": approval.card_type, "Number": approval.obfuscated_number, "Expiration": approval.expiration,
            "Name": approval.holder_name or "Card holder"}
    operation, body = ctx.client.card_payment_request(customer_id, paid, card, approval.terminal_reference,
                                                      f"Kiosk payment, reservation {number}")
    log.info("kiosk: payment %s approved (terminal %s, %s %s)", reference, approval.terminal_reference,
             paid.value, paid.currency)
    delivered = ctx.recorder.record(body, RECORD_WAIT, operation=operation)
    return {"reference": approval.terminal_reference, "delivered": delivered, "amount": paid.to_json()}
