"""Payment terminals: the PaymentTerminal interface and the client of the simulated terminal."""

from hal.payment.simclient import SimTerminal
from hal.payment.terminal import (
    Approval,
    Declined,
    NotCharged,
    OutcomeUnknown,
    PaymentTerminal,
    TerminalError,
)

__all__ = ["Approval", "Declined", "NotCharged", "OutcomeUnknown", "PaymentTerminal", "TerminalError",
           "SimTerminal", "from_config"]


def from_config(payment_cfg) -> PaymentTerminal | None:
    """The configured terminal (its driver from hal.payment.drivers), or None without a [payment] table."""
    if payment_cfg is None:
        return None
    from hal.payment.drivers import open_terminal

    return open_terminal(payment_cfg)
