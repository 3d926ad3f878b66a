"""One link session of the virtual encoder: bytes in, protocol bytes out."""

from __future__ import annotations

from hal.encoder.frame import ACK, ENQ, NAK, NO_CHECK, FrameError, FrameReader, decode_frame, encode_frame


def corrupt(frame: bytes) -> bytes:
    """The frame with a wrong LRC that no receiver may take for the "do not check" 0x0D."""
    bad = frame[-1] ^ 0xFF
    if bad == NO_CHECK:
        bad = frame[-1] ^ 0x01
    return frame[:-1] + bytes([bad])


class EncoderSession:
    """Answers ENQ, checks each frame's LRC (NAK when bad), ACKs, replies, resends a reply on NAK."""

    def __init__(self, device, send):
        self.device = device  # the VirtualEncoder: command handling, faults, stats
        self.send = send
        self.reader = FrameReader()
        self.last_reply: bytes | None = None

    def feed(self, data: bytes) -> None:
        dev = self.device
        for kind, item in self.reader.feed(data):
            if dev.muted:
                continue
            if kind == "control":
                self._control(item)
                continue
            dev.count("frames")
            try:
                fields = decode_frame(item)
            except FrameError:
                dev.count("bad_frames")
                self._nak()
                continue
            if dev.take("nak_frames"):
                self._nak()
                continue
            self.send(bytes([ACK]))
            if dev.take_lost_reply(fields):
                continue
            reply = encode_frame(dev.handle(fields))
            self.last_reply = reply
            dev.count("replies")
            self.send(corrupt(reply) if dev.take("corrupt_replies") else reply)

    def _control(self, b: int) -> None:
        dev = self.device
        if b == ENQ:
            dev.count("enq")
            if dev.take("nak_enq"):
                self._nak()
            else:
                self.send(bytes([ACK]))
        elif b == NAK and self.last_reply is not None:
            dev.count("reply_resends")
            self.send(corrupt(self.last_reply) if dev.take("corrupt_replies") else self.last_reply)
        elif b == ACK:
            self.last_reply = None

    def _nak(self) -> None:
        self.device.count("naks_sent")
        self.send(bytes([NAK]))
