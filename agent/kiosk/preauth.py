"""A pre-authorisation for incidentals at check-in (``kiosk.preauthorization``), held once per reservation.

The hold's reference is ``P`` + the reservation number, and the terminal is asked
about it before anything is held: a guest who starts over, a lost answer or a
restart never holds the card twice. Today's Connector API has no operation that
adds a pre-authorisation from an outside terminal, so the hold is recorded on the
platform as a staff task on the reservation (amount, card brand and masked
number, terminal reference): reception captures or releases it at check-out.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from agent.kiosk.session import failed, refused
from hal.payment import Approval, Declined, NotCharged, OutcomeUnknown, TerminalError

log = logging.getLogger("agent.kiosk")


def amount(ctx, stay) -> Decimal:
    """What to hold for this stay: per night (at least one) or per stay; 0 when off."""
    k = ctx.cfg.kiosk
    if k.preauthorization == "off" or k.preauthorization_amount <= 0:
        return Decimal(0)
    per = Decimal(str(k.preauthorization_amount)).quantize(Decimal("0.01"))
    if k.preauthorization == "per_stay":
        return per
    nights = (ctx.local(stay.end_utc).date() - ctx.local(stay.start_utc).date()).days
    return per * max(1, nights)


def hold(ctx, stay, currency: str) -> Approval | None:
    """Hold the configured amount on the guest's card (once); None when off. Ends the session when not held."""
    value = amount(ctx, stay)
    if value <= 0:
        return None
    reference = f"P{stay.number}"
    shown = f"{value:.2f} {currency}"
    terminal = ctx.terminal
    if terminal is None or not hasattr(terminal, "preauthorize"):
        raise failed("failed.payment", task=f"pre-authorisation of {shown} not possible: the payment terminal "
                     "cannot pre-authorise", why="terminal without pre-authorisation")
    try:
        held = terminal.status(reference) or terminal.preauthorize(value, currency, reference)
    except Declined as e:
        raise refused("refused.payment_declined", task=f"pre-authorisation of {shown} declined at check-in",
                      why=f"pre-authorisation {reference} declined: {e}") from None
    except NotCharged as e:
        raise refused("refused.payment_timeout", why=f"pre-authorisation {reference} not held: {e}") from None
    except OutcomeUnknown as e:
        raise failed("failed.payment", task=f"pre-authorisation {reference} of {shown}: outcome unknown, check the "
                     "terminal before holding the card again", why=str(e)) from None
    except TerminalError as e:
        raise failed("failed.payment", task="payment terminal not available for the pre-authorisation",
                     why=str(e)) from None
    ctx.tasks.raise_task(f"pre-authorisation {held.amount:.2f} {held.currency} held - reservation {stay.number}",
                         f"{held.card_type} {held.obfuscated_number}, terminal reference {held.terminal_reference}: "
                         "capture or release it at check-out")
    log.info("kiosk: pre-authorisation %s held (terminal %s, %.2f %s)", reference, held.terminal_reference,
             held.amount, held.currency)
    return held
