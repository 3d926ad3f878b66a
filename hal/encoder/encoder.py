"""KeyEncoder: the operations of a PMS "Industry Standard" key-card encoder."""

from __future__ import annotations

import logging
import threading

from hal.encoder.link import POLL, Link
from hal.encoder.protocol import (CardInfo, KeyCard, check_reply, checkout_request, key_request, parse_card,
                                  read_request)
from hal.errors import DeviceDisconnected, port_problem

log = logging.getLogger(__name__)


def open_serial(url: str, baudrate: int):
    """Open ``url`` (device path, pty, ``socket://host:port``) with short read/write timeouts."""
    import serial  # pyserial; imported here so importing hal stays light

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=POLL, write_timeout=2.0)
    except (serial.SerialException, OSError, ValueError) as e:
        raise DeviceDisconnected(port_problem("encoder", url, "encoder.port", e)) from e


class KeyEncoder:
    """One encoder on one port; the port opens on first use and reopens after a failure."""

    def __init__(self, url: str, *, baudrate: int = 9600, encoder_id: str = "Encoder 1", eject: str = "E",
                 operator: str = "", reply_timeout: float = 30.0, ack_timeout: float = 2.0, tries: int = 3,
                 opener=open_serial):
        self.url = url
        self.baudrate = baudrate
        self.encoder_id = encoder_id
        self.eject = eject
        self.operator = operator
        self.reply_timeout = reply_timeout
        self.ack_timeout = ack_timeout
        self.tries = tries
        self._opener = opener
        self._port = None
        self._lock = threading.Lock()

    def encode_new(self, card: KeyCard) -> list[str]:
        """``CN``: encode a new guest key (earlier keys of the rooms stop working); returns the reply."""
        return self._key("CN", card)

    def copy(self, card: KeyCard) -> list[str]:
        """``CC``: encode one more key of the current series; returns the reply."""
        return self._key("CC", card)

    def read_card(self) -> CardInfo:
        """``LT``: read the card in the encoder."""
        return parse_card(self._transact("LT", read_request(self.encoder_id)))

    def check_out(self, room: str) -> None:
        """``CO``: check the room out (its guest keys stop working)."""
        self._transact("CO", checkout_request(room), (room,))

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _key(self, command: str, card: KeyCard) -> list[str]:
        fields = key_request(command, card, encoder_id=self.encoder_id, eject=self.eject, operator=self.operator)
        return self._transact(command, fields, card.rooms)

    def _transact(self, command: str, fields: list[str], rooms: tuple[str, ...] = ()) -> list[str]:
        with self._lock:
            if self._port is None:
                self._port = self._opener(self.url, self.baudrate)
            link = Link(self._port, reply_timeout=self.reply_timeout, ack_timeout=self.ack_timeout,
                        tries=self.tries)
            try:
                reply = link.transact(fields)
            except DeviceDisconnected:
                self._drop()  # reopen next time: the encoder may have been re-plugged
                raise
            log.debug("%s -> %s", command, reply[0] if reply else "(empty)")
            return check_reply(command, reply, rooms)

    def _drop(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # closing a vanished port must not mask the real error
                pass
