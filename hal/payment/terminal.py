"""The PaymentTerminal interface: charge at most once, learn a lost answer's outcome with status().

A charge whose answer is lost (timeout, connection dropped) is never sent again:
the caller asks ``status(reference)`` with the same reference, exactly as a POS
reconciles a payment before retrying it. Card data leaves the terminal only
obfuscated (``411111******1111``); the holder name is guest data and is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class TerminalError(Exception):
    """The terminal could not be used (not reachable, protocol error); nothing was charged."""


class Declined(TerminalError):
    """The card or the guest declined the charge; nothing was charged."""


class NotCharged(TerminalError):
    """The charge did not complete (the guest walked away, the terminal timed out); nothing was charged."""


class OutcomeUnknown(TerminalError):
    """The charge's answer was lost and status() could not tell: staff must check the terminal."""


@dataclass(frozen=True)
class Approval:
    """An approved charge: what payments/addCreditCard records."""

    reference: str  # ours, given to charge()
    terminal_reference: str  # the terminal's own (ReceiptIdentifier)
    amount: Decimal
    currency: str
    card_type: str  # Mews CreditCard.Type: Visa, MasterCard, Amex, ...
    obfuscated_number: str  # 411111******1111
    expiration: str  # MM/YYYY
    holder_name: str = field(default="", repr=False)  # guest data: never in a repr or a log


class PaymentTerminal(Protocol):
    def charge(self, amount: Decimal, currency: str, reference: str) -> Approval:
        """Charge once; Declined / NotCharged / OutcomeUnknown / TerminalError otherwise."""

    def status(self, reference: str) -> Approval | None:
        """The approval for ``reference``; None when it was never approved; TerminalError when unknown."""

    def abort(self) -> None:
        """Stop a charge in progress (the guest cancelled)."""
