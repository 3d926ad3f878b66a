"""HTTPS POSTs of sealed nexo messages to ``https://<terminal>:8443/nexo``, TLS checked against ``ca_file``.

The terminal's certificate chain is Adyen's (or the test CA); its common name is
the terminal's POIID (``[model]-[serial]``), so the name checked is the POIID,
not the host name (the terminal is reached by a LAN address). A failure before
the request left tells the caller ``NotSent`` (nothing can have happened); any
failure after it may have reached the terminal is ``AnswerLost``.
"""

from __future__ import annotations

import http.client
import json
import ssl

from hal.payment.adyen.crypto import KeyMismatch, NexoKey, seal, unseal
from hal.payment.terminal import TerminalError

DEFAULT_PORT = 8443
MAX_ANSWER = 256 * 1024
LEGACY_NAME = "legacy-terminal-certificate"  # the common name older Adyen terminal certificates carry


class NotSent(TerminalError):
    """The request never reached the terminal (not reachable, TLS refused): nothing happened."""


class AnswerLost(TerminalError):
    """The request may have reached the terminal, its answer did not arrive or could not be read."""


class Rejected(TerminalError):
    """The terminal refused the message itself (a Reject event: wrong key, malformed): nothing happened."""


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or (host.count(":") and not host.startswith("[")):
        return address.strip("[]"), DEFAULT_PORT
    return host.strip("[]"), int(port)


def tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    context.check_hostname = False  # the name checked is the POIID (see peer_name), verify_mode stays REQUIRED
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def peer_name(sock) -> str:
    cert = sock.getpeercert() or {}
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class NexoTransport:
    def __init__(self, address: str, poi_id: str, key: NexoKey, ca_file: str, *, path: str = "/nexo"):
        self.host, self.port = split_address(address)
        self.poi_id, self.key, self.path = poi_id, key, path
        self.context = tls_context(ca_file)

    def connect(self, timeout: float) -> http.client.HTTPSConnection:
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=min(timeout, 10.0), context=self.context)
        try:
            conn.connect()
        except ssl.SSLError as e:
            conn.close()
            raise NotSent(f"TLS with the payment terminal failed ({e.reason or e}): check payment.ca_file") from None
        except OSError as e:
            conn.close()
            raise NotSent(f"payment terminal {self.host}:{self.port} not reachable ({type(e).__name__}: {e})") from None
        name = peer_name(conn.sock)
        if name not in (self.poi_id, LEGACY_NAME):
            conn.close()
            raise NotSent(f"the terminal at {self.host}:{self.port} presents a certificate for {name[:60]!r}, "
                          f"not payment.poi_id {self.poi_id!r}")
        return conn

    def post(self, message: dict, timeout: float) -> dict | None:
        """The decrypted answer to ``message`` (None for an empty answer, as to an Abort)."""
        body = json.dumps(seal(message, self.key)).encode()
        conn = self.connect(timeout)
        try:
            conn.sock.settimeout(timeout)
            try:
                conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                raw = response.read(MAX_ANSWER + 1)
            except (OSError, http.client.HTTPException) as e:
                raise AnswerLost(f"the terminal's answer was lost ({type(e).__name__})") from None
        finally:
            conn.close()
        if response.status != 200:
            raise AnswerLost(f"the terminal answered HTTP {response.status}")
        if len(raw) > MAX_ANSWER:
            raise AnswerLost("the terminal's answer is too long")
        if not raw.strip():
            return None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise AnswerLost("the terminal's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise AnswerLost("the terminal's answer is not an object")
        _raise_rejected(answer)
        secured = answer.get("SaleToPOIResponse")
        if not isinstance(secured, dict):
            raise AnswerLost("the terminal's answer has no SaleToPOIResponse")
        try:
            return unseal(secured, self.key)
        except KeyMismatch:
            raise
        except TerminalError as e:
            raise AnswerLost(str(e)) from None


def _raise_rejected(answer: dict) -> None:
    event = (answer.get("SaleToPOIRequest") or {}).get("EventNotification") if isinstance(
        answer.get("SaleToPOIRequest"), dict) else None
    if isinstance(event, dict) and event.get("EventToNotify") == "Reject":
        details = str(event.get("EventDetails") or "")[:200]
        raise Rejected(f"the terminal rejected the message ({details}): check payment.key_identifier, "
                       "key_version and key_passphrase against the terminal's settings")
