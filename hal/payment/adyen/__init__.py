"""Adyen payment terminals over the local Terminal API (nexo messages, key-protected, TLS)."""

from hal.payment.adyen.client import AdyenTerminal
from hal.payment.adyen.crypto import KeyMismatch, NexoKey
from hal.payment.adyen.nexo import InProgress, TerminalBusy

__all__ = ["AdyenTerminal", "NexoKey", "KeyMismatch", "InProgress", "TerminalBusy"]
