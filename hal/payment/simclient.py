"""Client of the simulated terminal (``kiosk-agent sim terminal``): JSON lines over TCP.

Request ``{"op": "charge", "amount": "12.50", "currency": "EUR", "reference": R}``
-> ``{"status": "approved", "terminal_reference", "card_type", "number", "expiration",
"holder"}`` or ``{"status": "declined" | "not_charged", "reason"}``;
``{"op": "status", "reference": R}`` -> the same, or ``{"status": "unknown"}``;
``{"op": "abort"}``.
"""

from __future__ import annotations

import json
import logging
import socket
from decimal import Decimal

from hal.payment.terminal import Approval, Declined, NotCharged, OutcomeUnknown, TerminalError

log = logging.getLogger(__name__)
STATUS_TIMEOUT = 5.0


class SimTerminal:
    def __init__(self, host: str, port: int, *, timeout: float = 90.0):
        self.host, self.port, self.timeout = host, port, timeout

    def _ask(self, request: dict, timeout: float) -> dict:
        with socket.create_connection((self.host, self.port), timeout=min(timeout, 5.0)) as s:
            s.settimeout(timeout)
            s.sendall((json.dumps(request) + "\n").encode())
            line = s.makefile("rb").readline(65536)
        if not line.strip():
            raise ConnectionError("the terminal closed the connection without an answer")
        try:
            answer = json.loads(line)
        except ValueError:
            raise TerminalError("the terminal's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise TerminalError("the terminal's answer is not an object")
        return answer

    def charge(self, amount: Decimal, currency: str, reference: str) -> Approval:
        request = {"op": "charge", "amount": str(amount), "currency": currency, "reference": reference}
        try:
            answer = self._ask(request, self.timeout)
        except ConnectionRefusedError as e:
            raise TerminalError(f"payment terminal not reachable: {e}") from None
        except OSError as e:  # sent, answer lost: ask before anything is retried
            log.warning("payment %s: answer lost (%s); asking the terminal for its outcome", reference,
                        type(e).__name__)
            try:
                approval = self.status(reference)
            except TerminalError as e2:
                raise OutcomeUnknown(f"payment {reference}: answer lost and status unknown ({e2})") from None
            if approval is None:
                raise NotCharged(f"payment {reference}: the terminal did not charge") from None
            return approval
        return self._outcome(answer, reference)

    def status(self, reference: str) -> Approval | None:
        try:
            answer = self._ask({"op": "status", "reference": reference}, STATUS_TIMEOUT)
        except OSError as e:
            raise TerminalError(f"payment terminal status: {type(e).__name__}: {e}") from None
        if answer.get("status") in ("unknown", "declined", "not_charged"):
            return None
        if answer.get("status") == "pending":
            raise TerminalError("the charge is still in progress on the terminal")
        return self._outcome(answer, reference)

    def abort(self) -> None:
        try:
            self._ask({"op": "abort"}, STATUS_TIMEOUT)
        except (OSError, TerminalError) as e:
            log.info("payment terminal abort: %s", e)

    @staticmethod
    def _outcome(answer: dict, reference: str) -> Approval:
        status = answer.get("status")
        if status == "declined":
            raise Declined(str(answer.get("reason") or "declined"))
        if status == "not_charged":
            raise NotCharged(str(answer.get("reason") or "not charged"))
        if status != "approved":
            raise TerminalError(f"unexpected terminal status {str(status)[:40]!r}")
        try:
            # What the terminal approved, not what was asked: a part approval or another currency is recorded
            # as it happened.
            amount, currency = Decimal(str(answer["amount"])), str(answer["currency"])
            if not amount.is_finite() or amount <= 0 or len(currency) != 3:
                raise ValueError(f"{amount} {currency}")
        except (KeyError, ValueError, ArithmeticError) as e:
            # Approved, but for what? Money may have been taken: staff must look, nothing is recorded blindly.
            raise OutcomeUnknown(f"payment {reference}: approved without a valid amount and currency ({e})") from None
        try:
            return Approval(reference=reference, terminal_reference=str(answer["terminal_reference"]),
                            amount=amount.quantize(Decimal("0.01")), currency=currency.upper(),
                            card_type=str(answer["card_type"]), obfuscated_number=str(answer["number"]),
                            expiration=str(answer["expiration"]), holder_name=str(answer.get("holder") or ""))
        except KeyError as e:
            raise OutcomeUnknown(f"payment {reference}: the approval lacks {e.args[0]}") from None


def from_settings(settings) -> SimTerminal:
    """The ``sim`` driver: the simulated terminal at ``address`` (host:port)."""
    host, _, port = settings.address.rpartition(":")
    return SimTerminal(host or "127.0.0.1", int(port), timeout=settings.timeout)
