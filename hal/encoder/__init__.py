"""Hotel key-card encoder over serial or TCP: the PMS "Industry Standard" protocol."""

from hal.encoder.encoder import KeyEncoder, open_serial
from hal.encoder.errors import (
    ERRORS,
    CardFormatError,
    CardInUse,
    EncoderBusy,
    EncoderError,
    EncoderGeneralError,
    EncoderNotReady,
    EncoderOutOfService,
    EncoderSyntaxError,
    GarbledReply,
    KeyOutcomeUnknown,
    LockSystemUnreachable,
    NoCard,
    NoCardPresented,
    NoLockFiles,
    ReplyTimeout,
    RequestNotAccepted,
    RoomCheckedOut,
    StaffCard,
    UnexpectedReply,
    UnknownRoom,
)
from hal.encoder.protocol import CardInfo, KeyCard

__all__ = [
    "KeyEncoder", "open_serial", "KeyCard", "CardInfo", "ERRORS", "EncoderError", "EncoderSyntaxError",
    "LockSystemUnreachable", "NoLockFiles", "EncoderBusy", "NoCard", "CardFormatError", "UnknownRoom",
    "NoCardPresented", "RoomCheckedOut", "EncoderOutOfService", "CardInUse", "StaffCard", "EncoderGeneralError",
    "EncoderNotReady", "RequestNotAccepted", "ReplyTimeout", "GarbledReply", "KeyOutcomeUnknown", "UnexpectedReply",
]
