"""The Terminal API's local message protection: nexo blobs sealed with a shared key.

Adyen's scheme (as ``@adyen/api-library``'s NexoCrypto does it): PBKDF2-HMAC-SHA1
over the key passphrase (salt ``AdyenNexoV1Salt``, 4,000 iterations) gives an
HMAC-SHA256 key (bytes 0-32), an AES-256 key (32-64) and an IV base (64-80). A
message is AES-256-CBC (PKCS#7) under IV = base XOR a random 16-byte nonce; its
HMAC-SHA256 is over the *plain* message. Both ends must hold the same key
identifier, version and passphrase, set on the terminal in Adyen's customer area.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hal.payment.terminal import TerminalError

SALT = b"AdyenNexoV1Salt"
ITERATIONS = 4000
HMAC_KEY, CIPHER_KEY, IV_LENGTH = 32, 32, 16
CRYPTO_VERSION = 1


class KeyMismatch(TerminalError):
    """A message failed its HMAC or could not be decrypted: the two ends hold different keys."""


@dataclass(frozen=True)
class NexoKey:
    """The shared key as configured on the terminal (identifier, version, passphrase)."""

    identifier: str
    version: int
    passphrase: str = field(repr=False)  # secret: never in a repr or a log


@dataclass(frozen=True)
class _Derived:
    hmac_key: bytes
    cipher_key: bytes
    iv: bytes


@lru_cache(maxsize=4)
def _derive(passphrase: str) -> _Derived:
    # 4,000 PBKDF2 rounds cost milliseconds on a Pi: derive once per passphrase, not per message.
    # latin-1, as the library reads the passphrase ("binary"); PBKDF2's first 80 bytes do not depend on how
    # many more the library asks for.
    material = hashlib.pbkdf2_hmac("sha1", passphrase.encode("latin-1", "replace"), SALT, ITERATIONS,
                                   HMAC_KEY + CIPHER_KEY + IV_LENGTH)
    return _Derived(material[:HMAC_KEY], material[HMAC_KEY:HMAC_KEY + CIPHER_KEY], material[HMAC_KEY + CIPHER_KEY:])


def _cipher(derived: _Derived, nonce: bytes) -> Cipher:
    iv = bytes(a ^ b for a, b in zip(derived.iv, nonce, strict=False))
    return Cipher(algorithms.AES(derived.cipher_key), modes.CBC(iv))


def seal(message: dict, key: NexoKey, *, outer: str = "SaleToPOIRequest") -> dict:
    """``{outer: {...}}`` sealed: ``{outer: {MessageHeader, NexoBlob, SecurityTrailer}}`` (header left clear)."""
    plain = json.dumps(message, separators=(",", ":")).encode("utf-8")
    derived = _derive(key.passphrase)
    nonce = os.urandom(IV_LENGTH)
    padder = padding.PKCS7(128).padder()
    encryptor = _cipher(derived, nonce).encryptor()
    blob = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    trailer = {"AdyenCryptoVersion": CRYPTO_VERSION, "KeyIdentifier": key.identifier, "KeyVersion": key.version,
               "Nonce": base64.b64encode(nonce).decode(),
               "Hmac": base64.b64encode(hmac.new(derived.hmac_key, plain, hashlib.sha256).digest()).decode()}
    return {outer: {"MessageHeader": message[outer]["MessageHeader"], "NexoBlob": base64.b64encode(blob).decode(),
                    "SecurityTrailer": trailer}}


def unseal(secured: dict, key: NexoKey) -> dict:
    """The plain message inside ``secured`` (one ``SaleToPOIResponse``/``SaleToPOIRequest`` object).

    KeyMismatch when the HMAC fails or the blob does not decrypt; TerminalError when it is malformed."""
    try:
        blob = base64.b64decode(secured["NexoBlob"], validate=True)
        trailer = secured["SecurityTrailer"]
        nonce = base64.b64decode(trailer["Nonce"], validate=True)
        their_mac = base64.b64decode(trailer["Hmac"], validate=True)
    except (KeyError, TypeError, binascii.Error) as e:
        raise TerminalError(f"the terminal's answer is not a protected nexo message ({type(e).__name__})") from None
    if len(nonce) != IV_LENGTH or not blob or len(blob) % 16:
        raise TerminalError("the terminal's answer has a malformed nonce or blob")
    if str(trailer.get("KeyIdentifier")) != key.identifier or str(trailer.get("KeyVersion")) != str(key.version):
        raise KeyMismatch(f"the terminal answered with key {str(trailer.get('KeyIdentifier'))[:40]!r} version "
                          f"{str(trailer.get('KeyVersion'))[:10]}, not {key.identifier!r} version {key.version}")
    derived = _derive(key.passphrase)
    decryptor = _cipher(derived, nonce).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(decryptor.update(blob) + decryptor.finalize()) + unpadder.finalize()
    except ValueError:
        raise KeyMismatch("the terminal's answer does not decrypt with the configured key passphrase") from None
    if not hmac.compare_digest(hmac.new(derived.hmac_key, plain, hashlib.sha256).digest(), their_mac):
        raise KeyMismatch("the terminal's answer fails its HMAC: the key passphrase differs") from None
    try:
        message = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TerminalError("the terminal's decrypted answer is not JSON") from None
    if not isinstance(message, dict):
        raise TerminalError("the terminal's decrypted answer is not an object")
    return message
