"""Adyen payment terminals over the local Terminal API (nexo messages, key-protected, TLS)."""

from hal.payment.adyen.client import AdyenTerminal
from hal.payment.adyen.crypto import KeyMismatch, NexoKey
from hal.payment.adyen.nexo import InProgress, TerminalBusy

__all__ = ["AdyenTerminal", "NexoKey", "KeyMismatch", "InProgress", "TerminalBusy", "from_settings"]


def from_settings(settings) -> AdyenTerminal:
    """The ``adyen`` driver: POIID, the shared key and the terminal's certificate chain from the settings."""
    key = NexoKey(settings.key_identifier, settings.key_version, settings.key_passphrase)
    return AdyenTerminal(settings.address, settings.poi_id, key, settings.ca_file, timeout=settings.timeout)
