"""Encoder error replies and link failures as typed DeviceErrors with staff messages."""

from __future__ import annotations

from hal.errors import DeviceError


class EncoderError(DeviceError):
    """An error reply from the encoder; ``code`` is the two-letter code in field 0."""

    code = ""
    retryable_default = False
    text = "key encoder error"

    def __init__(self, message: str | None = None, *, retryable: bool | None = None):
        super().__init__(message or self.text,
                         retryable=self.retryable_default if retryable is None else retryable)


class EncoderSyntaxError(EncoderError):
    code, text = "ES", "the key encoder rejected the request (syntax error)"


class LockSystemUnreachable(EncoderError):
    code, text, retryable_default = "NC", "the key encoder cannot reach the lock system", True


class NoLockFiles(EncoderError):
    code, text = "NF", "the lock system has no data files (not set up)"


class EncoderBusy(EncoderError):
    code, text, retryable_default = "OV", "encoder busy", True


class NoCard(EncoderError):
    code, text, retryable_default = "EP", "no card in the encoder", True


class CardFormatError(EncoderError):
    code, text = "EF", "card format error (wrong or damaged card)"


class UnknownRoom(EncoderError):
    code, text = "TD", "unknown room"


class NoCardPresented(EncoderError):
    code, text, retryable_default = "ED", "no card presented in time", True


class RoomCheckedOut(EncoderError):
    code, text = "EA", "room is checked out"


class EncoderOutOfService(EncoderError):
    code, text, retryable_default = "OS", "the key encoder is out of service", True


class CardInUse(EncoderError):
    code, text, retryable_default = "EO", "the card is in use at another station", True


class StaffCard(EncoderError):
    code, text = "EV", "this is a staff card; use a guest card"


class EncoderGeneralError(EncoderError):
    code, text = "EG", "key encoder error"


ERRORS: dict[str, type[EncoderError]] = {
    cls.code: cls for cls in (
        EncoderSyntaxError, LockSystemUnreachable, NoLockFiles, EncoderBusy, NoCard, CardFormatError,
        UnknownRoom, NoCardPresented, RoomCheckedOut, EncoderOutOfService, CardInUse, StaffCard,
        EncoderGeneralError)
}


def error_for(code: str, fields: list[str], rooms: tuple[str, ...] = ()) -> EncoderError:
    """The typed error for an error reply; ``rooms`` of the request name the room in the message."""
    cls = ERRORS[code]
    which = ", ".join(rooms)
    if cls is UnknownRoom and rooms:
        return cls(f"unknown room {which}" if len(rooms) == 1 else f"unknown room (one of {which})")
    if cls is RoomCheckedOut and rooms:
        return cls(f"room {which} is checked out" if len(rooms) == 1 else f"a room is checked out (one of {which})")
    if cls is EncoderGeneralError:
        detail = fields[-1].strip() if len(fields) > 1 else ""
        return cls(f"key encoder error: {detail}" if detail else None)
    return cls()


class EncoderNotReady(DeviceError):
    """The encoder answered NAK to every ENQ."""

    def __init__(self, message: str = "encoder busy (not ready)"):
        super().__init__(message, retryable=True)


class RequestNotAccepted(DeviceError):
    """The encoder NAKed the request frame on every try (line noise); nothing was done."""

    def __init__(self, message: str = "the key encoder did not accept the request (check the cable)"):
        super().__init__(message, retryable=True)


class ReplyTimeout(DeviceError):
    """The encoder accepted the request but sent no reply in time."""

    def __init__(self, seconds: float):
        super().__init__(f"no reply from the key encoder within {seconds:g} s (was a card presented?)",
                         retryable=True)


class KeyOutcomeUnknown(DeviceError):
    """A CN/CC frame reached the encoder and its answer was lost; the card could not confirm it.

    Final: sending the request again would void a key the guest may hold (CN) or cut one
    more than asked (CC).
    """

    text = "the encoder took the key request but did not answer; check the card before issuing again"

    def __init__(self, detail: str = ""):
        super().__init__(f"{self.text} ({detail})" if detail else self.text, retryable=False)


class GarbledReply(DeviceError):
    """Every try of the reply was corrupted; the card may or may not have been encoded."""

    def __init__(self, message: str = "the key encoder's reply was garbled; check the card"):
        super().__init__(message, retryable=False)


class UnexpectedReply(DeviceError):
    """A well-formed reply that answers neither the command nor a known error."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)
