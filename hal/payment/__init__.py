"""Payment terminals: the PaymentTerminal interface and the client of the simulated terminal."""

from hal.payment.terminal import (
    Approval, Declined, NotCharged, OutcomeUnknown, PaymentTerminal, TerminalError,
)
from hal.payment.simclient import SimTerminal

__all__ = ["Approval", "Declined", "NotCharged", "OutcomeUnknown", "PaymentTerminal", "TerminalError",
           "SimTerminal", "from_config"]


def from_config(payment_cfg) -> PaymentTerminal | None:
    """The configured terminal, or None when the config has no [payment] table."""
    if payment_cfg is None:
        return None
    if payment_cfg.driver == "adyen":
        from hal.payment.adyen import AdyenTerminal, NexoKey

        key = NexoKey(payment_cfg.key_identifier, payment_cfg.key_version, payment_cfg.key_passphrase)
        return AdyenTerminal(payment_cfg.address, payment_cfg.poi_id, key, payment_cfg.ca_file,
                             timeout=payment_cfg.timeout)
    host, _, port = payment_cfg.address.rpartition(":")
    return SimTerminal(host or "127.0.0.1", int(port), timeout=payment_cfg.timeout)
