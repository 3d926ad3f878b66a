"""The ``adyen`` payment driver: the kiosk's charge-once contract over Adyen's local Terminal API.

``charge`` sends one Payment. When its answer is lost (timeout, dropped
connection, unreadable answer) it is never sent again: TransactionStatus, by
the payment's own reference, tells what happened; a payment still in progress
is aborted and asked about again, so an approval that lands after the abort is
still found and recorded. Only when the terminal cannot tell within
``settle_time`` is the outcome unknown (staff check the terminal).
"""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

from common.jsonparts import part
from hal.payment.adyen import nexo
from hal.payment.adyen.crypto import KeyMismatch, NexoKey
from hal.payment.adyen.transport import AnswerLost, NexoTransport, NotSent, Rejected
from hal.payment.terminal import Approval, NotCharged, OutcomeUnknown, TerminalError

log = logging.getLogger(__name__)


class AdyenTerminal:
    def __init__(self, address: str, poi_id: str, key: NexoKey, ca_file: str, *, timeout: float = 90.0,
                 status_timeout: float = 10.0, settle_time: float | None = None, poll: float = 1.0):
        self.transport = NexoTransport(address, poi_id, key, ca_file)
        self.poi_id = poi_id
        self.timeout = timeout  # a payment's answer: the guest follows the terminal
        self.status_timeout = status_timeout  # one TransactionStatus, Abort, Reversal or Diagnosis
        self.settle_time = timeout if settle_time is None else settle_time  # asking after a lost answer
        self.poll = poll
        self._current: str | None = None  # the payment in progress, for abort()
        self._lock = threading.Lock()

    # ---- the PaymentTerminal contract ----------------------------------------------------------

    def charge(self, amount: Decimal, currency: str, reference: str) -> Approval:
        return self._pay(amount, currency, reference, preauth=False)

    def preauthorize(self, amount: Decimal, currency: str, reference: str) -> Approval:
        """Hold ``amount`` on the card (a pre-authorisation); captured or cancelled later."""
        return self._pay(amount, currency, reference, preauth=True)

    def status(self, reference: str) -> Approval | None:
        """The approval of payment ``reference``; None when never approved; TerminalError when not known yet."""
        try:
            answer = self.transport.post(nexo.transaction_status(self.poi_id, reference), self.status_timeout)
        except KeyMismatch:
            raise
        except TerminalError as e:
            raise TerminalError(f"transaction status of {reference}: {e}") from None
        body = nexo.response_body(answer or {}, "TransactionStatusResponse")
        res = nexo.result_of(body)
        if not res.ok:
            if res.condition == "NotFound":
                return None  # the terminal never took this payment
            if res.condition == "InProgress":
                raise nexo.InProgress(f"payment {reference} is still in progress on the terminal")
            raise TerminalError(f"transaction status of {reference}: {res.condition or res.result or 'no result'}")
        repeated = part(body, "RepeatedMessageResponse")
        repeated_body = repeated.get("RepeatedResponseMessageBody")
        payment = repeated_body.get("PaymentResponse") if isinstance(repeated_body, dict) else None
        if not isinstance(payment, dict):
            raise TerminalError(f"transaction status of {reference}: no payment in the answer")
        theirs = (((payment.get("SaleData") or {}).get("SaleTransactionID") or {}).get("TransactionID"))
        if theirs is not None and str(theirs) != reference:
            raise TerminalError(f"transaction status of {reference}: the terminal answered about {str(theirs)[:40]}")
        if not nexo.result_of(payment).ok:
            return None
        return nexo.approval(reference, payment)

    def abort(self) -> None:
        """Stop the payment in progress (the guest cancelled); its outcome is still asked, never assumed."""
        reference = self._current
        if reference is not None:
            self._abort(reference)

    # ---- beyond the contract: pre-authorisations, refunds, diagnosis ------------------------------

    def reverse(self, terminal_reference: str, amount: Decimal | None = None, *, refund: bool = False) -> None:
        """Cancel a pre-authorisation or refund a sale (Reversal); TerminalError when the terminal refuses."""
        try:
            answer = self.transport.post(nexo.reversal(self.poi_id, terminal_reference, amount, refund=refund),
                                         self.status_timeout)
        except AnswerLost as e:
            raise OutcomeUnknown(f"reversal of {terminal_reference}: {e}; check the terminal") from None
        res = nexo.result_of(nexo.response_body(answer or {}, "ReversalResponse"))
        if not res.ok:
            raise TerminalError(f"the terminal did not reverse {terminal_reference}: {res.condition or res.result}")

    def cancel_preauthorization(self, approval: Approval) -> None:
        self.reverse(approval.terminal_reference)

    def refund(self, approval: Approval, amount: Decimal | None = None) -> None:
        self.reverse(approval.terminal_reference, amount, refund=True)

    def diagnose(self) -> str:
        """One Diagnosis round trip (reachability, TLS, key); a short state, TerminalError when it fails."""
        answer = self.transport.post(nexo.diagnosis(self.poi_id), self.status_timeout)
        body = nexo.response_body(answer or {}, "DiagnosisResponse")
        res = nexo.result_of(body)
        if not res.ok:
            raise TerminalError(f"the terminal's diagnosis failed: {res.condition or res.result}")
        status = ((body.get("POIStatus") or {}).get("GlobalStatus")) if isinstance(body.get("POIStatus"), dict) else ""
        return str(status or "OK")

    # ---- inside -------------------------------------------------------------------------------------

    def _pay(self, amount: Decimal, currency: str, reference: str, *, preauth: bool) -> Approval:
        message = nexo.payment(self.poi_id, reference, amount, currency, preauth=preauth)
        with self._lock:
            self._current = reference
        try:
            answer = self.transport.post(message, self.timeout)
        except (NotSent, Rejected) as e:
            raise TerminalError(str(e)) from None
        except TerminalError as e:  # sent: it may have been charged. Never send it again: ask.
            log.warning("payment %s: answer lost (%s); asking the terminal for its outcome", reference, e)
            return self._settle_lost(reference)
        finally:
            with self._lock:
                self._current = None
        try:
            body = nexo.response_body(answer or {}, "PaymentResponse")
        except TerminalError:
            return self._settle_lost(reference)
        res = nexo.result_of(body)
        if res.ok:
            return nexo.approval(reference, body)
        raise nexo.refusal(reference, res)

    def _settle_lost(self, reference: str) -> Approval:
        end = time.monotonic() + self.settle_time
        aborted, last = False, "no answer"
        while True:
            try:
                found = self.status(reference)
            except nexo.InProgress:
                last = "still in progress"
                if not aborted:  # the guest is gone with our answer: stop it, then learn how it ended
                    self._abort(reference)
                    aborted = True
            except TerminalError as e:
                last = str(e)
            else:
                if found is None:
                    raise NotCharged(f"payment {reference}: the terminal did not charge")
                return found
            if time.monotonic() + self.poll > end:
                raise OutcomeUnknown(f"payment {reference}: answer lost and the terminal could not tell ({last})")
            time.sleep(self.poll)

    def _abort(self, reference: str) -> None:
        try:
            self.transport.post(nexo.abort(self.poi_id, reference), self.status_timeout)
        except TerminalError as e:
            log.info("payment terminal abort of %s: %s", reference, e)
