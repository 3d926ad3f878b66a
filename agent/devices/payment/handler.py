"""Mews ``PaymentTerminal`` commands -> a payment or pre-authorisation on the kiosk's card terminal.

The front desk charges (``PaymentId``) or pre-authorises (``PreauthorizationId``)
a guest on this unit's terminal from Mews. Mews holds the payment record already;
the command's state reports the outcome (``Processed``, or ``Error`` with a note a
receptionist can act on), as Mews' reference for device commands says. The
terminal's reference is ``M`` + the command id: a command run again after a crash
asks the terminal first and is never charged twice. An approval for less than
asked, or in another currency, does not match the record Mews made: it is
reversed on the terminal and the command ends in Error. A command cancelled in
Mews while the guest is at the terminal aborts the payment there.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal, InvalidOperation

from agent.devices.payment import KIND
from agent.runtime.handler import CommandCancelled, CommandRejected, DeviceError, serves_job
from agent.runtime.jobs import Job, Outcome, OutcomeState
from hal.payment import Approval, Declined, NotCharged, OutcomeUnknown, TerminalError
from hal.payment.adyen.nexo import TerminalBusy

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
WATCH_EVERY = 0.5  # seconds between looks at the command while the guest is at the terminal


def _amount(data: dict) -> tuple[Decimal, str]:
    """The command's gross amount and currency; CommandRejected when they are unusable."""
    amount = data.get("Amount")
    if not isinstance(amount, dict):
        raise CommandRejected("the payment command has no Amount")
    currency = amount.get("Currency")
    value = amount.get("GrossValue", amount.get("Value"))
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise CommandRejected("the payment command's Amount has no valid Currency")
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        number = Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        raise CommandRejected("the payment command's Amount has no valid GrossValue") from None
    if not number.is_finite() or number <= 0 or number > Decimal("1000000"):
        raise CommandRejected(f"the payment command's amount {number} {currency} cannot be charged")
    return number, currency.upper()


def _refused(note: str) -> DeviceError:
    return DeviceError(note, retryable=False)


class PaymentTerminalHandler:
    """Serves the Mews PaymentTerminal device named in ``payment.mews_device`` on the configured terminal."""

    device_types = KIND.device_types
    kinds = KIND.job_kinds
    name = KIND.label
    retry_after_crash = True  # safe: a re-run asks the terminal about its reference before charging

    def __init__(self, terminal, *, device: str):
        self.terminal, self.device = terminal, device

    def serves(self, job: Job) -> bool:
        return serves_job(self, job)

    def run(self, job: Job, progress) -> Outcome:
        data = job.data if isinstance(job.data, dict) else {}
        value, currency = _amount(data)
        preauth = bool(data.get("PreauthorizationId"))
        reference = f"M{job.id}"
        what = "pre-authorisation" if preauth else "payment"
        asked = f"{value:.2f} {currency}"
        approval = self._earlier(reference)  # a re-run after a crash: the terminal may have charged already
        if approval is None:
            approval = self._while_watched(progress, f"{what} of {asked}: the guest follows the terminal",
                                           lambda: self._take(reference, value, currency, preauth, what, asked))
        if approval.amount != value or approval.currency != currency:
            self._undo(approval, asked)
        log.info("job %s: %s %s approved (terminal %s)", job.id, what, asked, approval.terminal_reference)
        verb = "pre-authorised" if preauth else "charged"
        return Outcome(OutcomeState.DONE, f"{verb} {approval.amount:.2f} {approval.currency} on "
                       f"{approval.card_type} {approval.obfuscated_number}; terminal reference "
                       f"{approval.terminal_reference}", {"terminal_reference": approval.terminal_reference})

    def _while_watched(self, progress, activity: str, take):
        """``take()`` on its own thread while the command is watched: cancelled in Mews, the terminal is
        aborted and the command ends Cancelled; an approval that raced the abort is reversed first."""
        box: dict = {}

        def work():
            try:
                box["approval"] = take()
            except BaseException as e:  # handed to the command's thread as it is
                box["error"] = e

        thread = threading.Thread(target=work, name="payment-terminal", daemon=True)
        thread.start()
        cancelled = None
        while thread.is_alive():
            if cancelled is None:
                try:
                    progress.activity(activity)
                except CommandCancelled as e:
                    cancelled = e
                    self.terminal.abort()
            thread.join(WATCH_EVERY)
        if cancelled is None:
            if "error" in box:
                raise box["error"]
            return box["approval"]
        approval = box.get("approval")
        if approval is not None:
            try:
                self.terminal.reverse(approval.terminal_reference)
            except (TerminalError, AttributeError) as e:
                raise _refused(f"cancelled in Mews, but the card was approved for {approval.amount:.2f} "
                               f"{approval.currency} before the terminal heard it and the approval could not be "
                               f"cancelled ({e}): refund terminal reference {approval.terminal_reference}") from None
        raise cancelled

    def _earlier(self, reference: str) -> Approval | None:
        try:
            return self.terminal.status(reference)
        except TerminalError as e:
            # In progress or not reachable: charging now could charge twice; wait and ask again.
            raise DeviceError(f"the terminal cannot tell yet whether {reference} was charged ({e})") from None

    def _take(self, reference: str, value: Decimal, currency: str, preauth: bool, what: str, asked: str) -> Approval:
        take = self.terminal.preauthorize if preauth else self.terminal.charge
        try:
            return take(value, currency, reference)
        except Declined as e:
            raise _refused(f"{what} of {asked} declined by the card or its bank ({e}); nothing was charged: "
                           "ask the guest for another card") from None
        except NotCharged as e:
            raise _refused(f"{what} of {asked} cancelled on the terminal (by the guest, or it timed out: {e}); "
                           "nothing was charged") from None
        except OutcomeUnknown as e:
            raise _refused(f"{what} of {asked}: outcome unknown, the terminal's answer was lost ({e}). Before "
                           f"charging again, check the terminal's last transactions or Adyen's customer area for "
                           f"reference {reference}") from None
        except TerminalBusy:
            raise _refused(f"the payment terminal is busy with another payment (a guest at the kiosk?); "
                           f"nothing was charged: send the {what} again in a minute") from None
        except TerminalError as e:
            raise _refused(f"payment terminal not available ({e}); nothing was charged") from None

    def _undo(self, approval: Approval, asked: str) -> None:
        got = f"{approval.amount:.2f} {approval.currency}"
        try:
            self.terminal.reverse(approval.terminal_reference)
        except (TerminalError, AttributeError) as e:
            raise _refused(f"the card covered {got} of {asked} and the approval could not be cancelled ({e}): "
                           f"check terminal reference {approval.terminal_reference}; {got} may be charged") from None
        raise _refused(f"the card covered only {got} of {asked}; that approval was cancelled on the terminal and "
                       "nothing was charged: take the payment again with another card")

    def close(self) -> None:
        pass


def from_config(cfg) -> PaymentTerminalHandler | None:
    """The handler when [payment] names the Mews PaymentTerminal device it serves (mews_device), else None."""
    if cfg.payment is None or not cfg.payment.mews_device:
        return None
    from hal.payment import from_config as terminal_from_config

    return PaymentTerminalHandler(terminal_from_config(cfg.payment), device=cfg.payment.mews_device)
