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


class PortInUse(DeviceDisconnected):
    """Another process holds the device's port (ports are opened exclusively: one owner per device).

    Retryable: the other program (a technician's tool, a second agent) may let go.
    """


class InvalidInput(Exception):
    """The data given to a device is unusable (bad base64, unsupported file, bad field).

    Retrying cannot help: the command ends in ``Error`` with this message.
    """


_ABSENT = {"ENOENT", "ENODEV", "ENXIO", "EIO"}
_IN_USE = {"EAGAIN", "EWOULDBLOCK", "EBUSY"}  # flock(LOCK_NB) of pyserial's exclusive=True; TIOCEXCL
_REFUSED = {"ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EHOSTDOWN"}


def _errno_name(e: BaseException | None) -> str | None:
    """The errno name (``"ENOENT"``) somewhere in ``e``'s chain: pyserial puts it in args[0] or hides
    the OSError it wraps in ``__context__``."""
    import errno as errno_module

    seen = 0
    while e is not None and seen < 5:
        code = getattr(e, "errno", None)
        if code is None and e.args and isinstance(e.args[0], int):
            code = e.args[0]
        if isinstance(code, int) and code in errno_module.errorcode:
            return errno_module.errorcode[code]
        if isinstance(e, (TimeoutError, ConnectionRefusedError)):
            return "ETIMEDOUT" if isinstance(e, TimeoutError) else "ECONNREFUSED"
        e = e.__cause__ or e.__context__
        seen += 1
    return None


def port_problem(device: str, url: str, key: str, e: BaseException | None = None) -> str:
    """Why ``device`` on ``url`` cannot be used, for hotel staff: no errno, no exception text.

    ``key`` is the config key naming the port (``printer.port``), so the fix names what to check.
    """
    name = _errno_name(e)
    if name in ("EACCES", "EPERM"):
        return f"{device} at {url} cannot be opened (no permission): add the agent's user to the dialout group"
    if name in _IN_USE:
        return (f"{device} at {url} is in use by another process ({key}): if kiosk-agent runs, go through it "
                f"(doctor does); else stop the other program")
    if name in _REFUSED or (name is None and url.lower().startswith("socket://")):
        return f"{device} at {url} does not accept connections: check that it is switched on, its network and {key}"
    return f"{device} not connected at {url}: check the cable and {key}"


def port_error(device: str, url: str, key: str, e: BaseException) -> DeviceDisconnected:
    """The DeviceError for a port that would not open: ``PortInUse`` when another process holds it."""
    cls = PortInUse if _errno_name(e) in _IN_USE else DeviceDisconnected
    return cls(port_problem(device, url, key, e))
