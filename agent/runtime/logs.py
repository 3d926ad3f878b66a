"""Logging to stderr with secrets redacted from every record."""

from __future__ import annotations

import logging
import sys
import threading

_secrets: set[str] = set()
_lock = threading.Lock()


def add_secret(value: str | None) -> None:
    """Register a value (token, password) that must never appear in a log line."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, "***")
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(level: str = "info", secrets: list[str] | None = None) -> None:
    """Log to stderr (stdout carries only results) with redaction."""
    for s in secrets or ():
        add_secret(s)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("aiohttp.access", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # websocket-client logs every failed handshake as ERROR; our listener reports it once, in context
    logging.getLogger("websocket").setLevel(logging.CRITICAL)
