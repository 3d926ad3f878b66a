"""KeyEncoder: the operations of a PMS "Industry Standard" key-card encoder."""

from __future__ import annotations

import logging
import threading

from hal.encoder.errors import KeyOutcomeUnknown
from hal.encoder.link import POLL, Link
from hal.encoder.protocol import (
    CardInfo,
    KeyCard,
    check_reply,
    checkout_request,
    format_local,
    key_request,
    parse_card,
    read_request,
)
from hal.errors import DeviceDisconnected, DeviceError, port_error

log = logging.getLogger(__name__)


def open_serial(url: str, baudrate: int):
    """Open ``url`` (device path, pty, ``socket://host:port``) with short read/write timeouts.

    Exclusively (an flock on the tty, pyserial's ``exclusive``): a second program opening the
    encoder beside the agent would flush or answer its exchange and lose a guest's key reply.
    """
    import serial  # pyserial; imported here so importing hal stays light

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=POLL, write_timeout=2.0, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as e:
        raise port_error("encoder", url, "encoder.port", e) from e


def holds(info: CardInfo, card: KeyCard) -> bool:
    """True when the card read back opens exactly ``card``'s rooms for exactly its validity."""
    return (info.rooms == tuple(card.rooms) and info.valid_from is not None and info.valid_until is not None
            and format_local(info.valid_from) == format_local(card.valid_from)
            and format_local(info.valid_until) == format_local(card.valid_until))


class _Unanswered(Exception):
    """The encoder took a request frame and then its answer was lost (``cause``)."""

    def __init__(self, cause: DeviceError):
        super().__init__(str(cause))
        self.cause = cause


class KeyEncoder:
    """One encoder on one port; the port opens on first use and reopens after a failure."""

    def __init__(self, url: str, *, baudrate: int = 9600, encoder_id: str = "Encoder 1", eject: str = "E",
                 operator: str = "", reply_timeout: float = 30.0, ack_timeout: float = 2.0, tries: int = 3,
                 read_timeout: float = 10.0, opener=open_serial):
        self.url = url
        self.baudrate = baudrate
        self.encoder_id = encoder_id
        self.eject = eject
        self.operator = operator
        self.reply_timeout = reply_timeout
        self.ack_timeout = ack_timeout
        self.tries = tries
        self.read_timeout = min(read_timeout, reply_timeout)  # LT of the card already in the encoder
        self._opener = opener
        self._port = None
        self._lock = threading.Lock()

    def encode_new(self, card: KeyCard) -> list[str]:
        """``CN``: encode a new guest key (earlier keys of the rooms stop working); returns the reply.

        Retried (by the caller) only while the encoder has not taken the frame; once it has, a
        lost answer is settled by reading the card, else KeyOutcomeUnknown (final).
        """
        return self._key("CN", card)

    def copy(self, card: KeyCard) -> list[str]:
        """``CC``: encode one more key of the current series; returns the reply (same rule as CN)."""
        return self._key("CC", card)

    def read_card(self) -> CardInfo:
        """``LT``: read the card in the encoder."""
        return parse_card(self._transact("LT", read_request(self.encoder_id)))

    def check_out(self, room: str) -> None:
        """``CO``: check the room out (its guest keys stop working)."""
        self._transact("CO", checkout_request(room), (room,))

    def ping(self) -> bool:
        """ENQ -> ACK between transactions; False (nothing sent) while a transaction holds the encoder.

        Raises EncoderNotReady (NAK) or DeviceDisconnected (no answer, port gone). The port's
        owner asks this (the agent for ``doctor``): a second program's ENQ would land in a key's
        exchange.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._port is None:
                self._port = self._opener(self.url, self.baudrate)
            try:
                Link(self._port, reply_timeout=self.ack_timeout, ack_timeout=self.ack_timeout, tries=1).enquire()
            except DeviceDisconnected:
                self._drop()
                raise
            return True
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _key(self, command: str, card: KeyCard) -> list[str]:
        """CN/CC, sent at most once past the encoder's ACK: a lost answer is settled by reading the card."""
        fields = key_request(command, card, encoder_id=self.encoder_id, eject=self.eject, operator=self.operator)
        with self._lock:
            try:
                reply = self._exchange(command, fields, once=True)
            except _Unanswered as lost:
                return self._settle(command, card, lost.cause)
        return check_reply(command, reply, card.rooms)

    def _settle(self, command: str, card: KeyCard, cause: DeviceError) -> list[str]:
        """The key request was taken and its answer lost: ``LT`` tells whether the card holds the key.

        Any doubt (no LT support, no card, another card, no answer) is KeyOutcomeUnknown.
        """
        log.warning("%s: the encoder took the request but its answer was lost (%s); reading the card", command, cause)
        try:
            info = parse_card(check_reply("LT", self._exchange("LT", read_request(self.encoder_id),
                                                               reply_timeout=self.read_timeout)))
        except DeviceError as e:
            log.warning("%s: the card could not be read back: %s", command, e)
            raise KeyOutcomeUnknown() from None
        if holds(info, card):
            log.warning("%s: the card read back holds the key: the key was made", command)
            return [command] + info.fields[1:]
        raise KeyOutcomeUnknown("the card in the encoder does not hold this key")

    def _transact(self, command: str, fields: list[str], rooms: tuple[str, ...] = ()) -> list[str]:
        with self._lock:
            reply = self._exchange(command, fields)
        return check_reply(command, reply, rooms)

    def _exchange(self, command: str, fields: list[str], *, once: bool = False,
                  reply_timeout: float | None = None) -> list[str]:
        """One request/reply on the (re)opened port; the caller holds the lock.

        With ``once``, a failure after the encoder took the frame raises ``_Unanswered``.
        """
        if self._port is None:
            self._port = self._opener(self.url, self.baudrate)
        link = Link(self._port, reply_timeout=reply_timeout or self.reply_timeout, ack_timeout=self.ack_timeout,
                    tries=self.tries)
        try:
            reply = link.transact(fields)
        except DeviceError as e:
            if isinstance(e, DeviceDisconnected):
                self._drop()  # reopen next time: the encoder may have been re-plugged
            if once and link.taken:
                raise _Unanswered(e) from e
            raise
        log.debug("%s -> %s", command, reply[0] if reply else "(empty)")
        return reply

    def _drop(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # closing a vanished port must not mask the real error
                pass
