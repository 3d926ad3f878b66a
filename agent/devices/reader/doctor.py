"""Doctor check for the document reader: its port opens (serial) or its event device can be grabbed (evdev).

Readers answer nothing until a document is laid on them, so opening is all a check can do
without a guest; a keyboard wedge is grabbed and released at once.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.doctor import FAIL, OK, SKIP, Result


def check(cfg, options) -> Iterator[Result]:
    """The reader's line, when the unit has one."""
    if cfg.reader is not None:
        yield check_reader(cfg)


def check_reader(cfg) -> Result:
    if cfg.reader is None:
        return Result("reader", SKIP, "no [reader] table")
    from hal.errors import DeviceError
    from hal.reader import open_reader

    r = cfg.reader
    reader = open_reader(r.port, baudrate=r.baudrate, framing=r.framing, gap=r.gap)
    try:
        reader.discard()
    except DeviceError as e:
        return Result("reader", FAIL, str(e), "check the reader's USB cable and reader.port")
    finally:
        reader.close()
    what = "grabbed and released (keyboard wedge)" if r.port.startswith("evdev:") else "opens"
    return Result("reader", OK, f"{r.port}: {what}; lay a document on it to test a read")
