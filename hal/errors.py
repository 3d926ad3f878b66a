"""Errors raised by devices, with meaning the agent maps to command states."""


class DeviceError(Exception):
    """The device could not do the work.

    ``retryable`` errors (paper out, cover open, encoder busy, no card) keep the
    command waiting and are retried; the others end the command in ``Error``.
    The message is written for hotel staff.
    """

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class DeviceDisconnected(DeviceError):
    """The device does not answer or its port is gone (retryable: it may be re-plugged)."""


class InvalidInput(Exception):
    """The data given to a device is unusable (bad base64, unsupported file, bad field).

    Retrying cannot help: the command ends in ``Error`` with this message.
    """
