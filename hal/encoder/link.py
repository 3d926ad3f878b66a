"""The ENQ/ACK/NAK link: one request frame out, one reply frame back, with resends.

Host: ENQ -> encoder ACK (ready) or NAK. Host: frame -> encoder ACK, later the
reply frame (after the guest presents a card), or NAK (resend). A reply with a
bad LRC is answered with NAK so the encoder sends it again; a good one with ACK.
Every wait has a deadline, so a dead encoder is an error, never a hang.
"""

from __future__ import annotations

import logging
import time

from hal.encoder.errors import EncoderNotReady, GarbledReply, ReplyTimeout, RequestNotAccepted
from hal.encoder.frame import ACK, ENQ, NAK, STX, FrameError, FrameReader, decode_frame, encode_frame
from hal.errors import DeviceDisconnected

log = logging.getLogger(__name__)

POLL = 0.05  # seconds per port read; deadlines are checked between reads

try:  # a pty whose other side vanished fails tcflush with termios.error, not OSError
    import termios

    PORT_ERRORS: tuple = (OSError, termios.error)
except ImportError:  # pragma: no cover - not POSIX
    PORT_ERRORS = (OSError,)


class Link:
    """Request/reply over a pyserial-like port (``read``, ``write``, ``in_waiting``, ``timeout``)."""

    def __init__(self, port, *, reply_timeout: float = 30.0, ack_timeout: float = 2.0, tries: int = 3,
                 clock=time.monotonic):
        self.port = port
        self.reply_timeout = reply_timeout
        self.ack_timeout = ack_timeout
        self.tries = max(1, tries)
        self._clock = clock
        self._pending = bytearray()
        # True once the request frame may have reached the encoder (ACKed, answered, or
        # written and met with silence): from then on a resend could run it twice.
        self.taken = False
        if port.timeout is None or port.timeout > POLL:
            port.timeout = POLL  # a blocking read would hang the agent on a silent encoder

    def transact(self, fields: list[str]) -> list[str]:
        """Send ``fields`` as one frame and return the fields of the encoder's reply."""
        frame = encode_frame(fields)  # InvalidInput before anything touches the wire
        try:
            self._discard_input()
            self._enquire()
            self._send(frame, fields[0])
            return self._receive()
        except PORT_ERRORS as e:  # serial.SerialException is an OSError: port gone, socket closed
            raise DeviceDisconnected("the key encoder's connection was lost: check the cable and encoder.port") from e

    def enquire(self) -> None:
        """ENQ alone (a status check between transactions): returns on ACK, raises otherwise."""
        try:
            self._discard_input()
            self._enquire()
        except PORT_ERRORS as e:
            raise DeviceDisconnected("the key encoder's connection was lost: check the cable and encoder.port") from e

    # -- steps -------------------------------------------------------------

    def _enquire(self) -> None:
        refused = False
        for attempt in range(1, self.tries + 1):
            self._write(bytes([ENQ]))
            answer = self._wait_control(self._clock() + self.ack_timeout)
            if answer == ACK:
                return
            refused = refused or answer == NAK
            log.debug("ENQ try %d: %s", attempt, "NAK" if answer == NAK else "no answer")
        if refused:
            raise EncoderNotReady()
        raise DeviceDisconnected("the key encoder does not answer (is it plugged in and switched on?)")

    def _send(self, frame: bytes, command: str) -> None:
        for attempt in range(1, self.tries + 1):
            self._write(frame)
            answer = self._wait_control(self._clock() + self.ack_timeout, stx_ends=True)
            if answer in (ACK, STX):  # STX: the reply came without an ACK first; take it
                self.taken = True
                return
            if answer is None:
                self.taken = True  # the ACK may be what was lost
                # No resend: a lost ACK would make the encoder run the command twice.
                raise DeviceDisconnected("the key encoder stopped answering")
            log.debug("%s frame try %d: NAK", command, attempt)
        raise RequestNotAccepted()

    def _receive(self) -> list[str]:
        reader = FrameReader()
        deadline = self._clock() + self.reply_timeout
        gap_deadline = 0.0
        bad = 0
        while True:
            now = self._clock()
            if reader.in_frame and now >= gap_deadline:
                partial = reader.flush()  # the line went quiet in mid-frame
                frames = [partial] if partial is not None else []
            else:
                if not reader.in_frame and now >= deadline:
                    if bad:
                        raise GarbledReply()
                    raise ReplyTimeout(self.reply_timeout)
                b = self._byte(gap_deadline if reader.in_frame else deadline)
                if b is None:
                    continue
                frames = [item for kind, item in reader.feed(bytes([b])) if kind == "frame"]
                if reader.in_frame:
                    gap_deadline = self._clock() + self.ack_timeout
            for raw in frames:
                try:
                    fields = decode_frame(raw)
                except FrameError as e:
                    bad += 1
                    log.debug("reply try %d: %s", bad, e)
                    if bad >= self.tries:
                        raise GarbledReply() from None
                    self._write(bytes([NAK]))
                    deadline = self._clock() + self.ack_timeout  # the encoder has the reply ready
                    continue
                self._write(bytes([ACK]))
                return fields

    # -- bytes ---------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        written = self.port.write(data)
        if written is not None and written != len(data):
            raise DeviceDisconnected("the key encoder's port did not take the data")

    def _discard_input(self) -> None:
        self._pending.clear()
        self.port.reset_input_buffer()

    def _byte(self, deadline: float) -> int | None:
        """The next received byte, or None once ``deadline`` has passed."""
        while not self._pending:
            if self._clock() >= deadline:
                return None
            chunk = self.port.read(1)
            if chunk:
                self._pending += chunk
                waiting = self.port.in_waiting
                if waiting:
                    self._pending += self.port.read(waiting)
        b = self._pending[0]
        del self._pending[0]
        return b

    def _wait_control(self, deadline: float, stx_ends: bool = False) -> int | None:
        """Wait for ACK or NAK (or STX when ``stx_ends``, left unread); other bytes are noise."""
        while True:
            b = self._byte(deadline)
            if b is None or b in (ACK, NAK):
                return b
            if b == STX and stx_ends:
                self._pending.insert(0, b)
                return STX
