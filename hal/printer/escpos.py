"""ESC/POS driver: 1-bit images to `GS v 0` bands and paper feeds, cuts, status.

A document is encoded once into a ``RasterJob`` (a list of chunks, each at
most one band) and can then be printed any number of times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hal.errors import DeviceDisconnected, DeviceError
from hal.printer.port import PrinterPort, port_lock
from hal.printer.status import QUERIES, PrinterStatus, well_formed

log = logging.getLogger(__name__)

INIT = b"\x1b@"  # ESC @
CUTS = {"full": b"\x1dVA\x00", "partial": b"\x1dVB\x00", "none": b""}  # GS V 65/66 0: feed to cutter, cut
DOTS_PER_MM = 203 / 25.4

# Default band height: 24 rows is 1152 bytes at 384 dots and 1728 at 576, below
# the ~2 KB receive buffer of the cheapest 58 mm mechanisms we pace for. Without
# flow control an overflowing buffer drops bytes and the rest of the image is
# parsed as commands, so a band must fit with room to spare; 24 rows is also
# one Font A text line, the unit those printers are built around.
DEFAULT_BAND_HEIGHT = 24
# ESC J n feeds n vertical motion units: one dot row on 203 dpi printers.
MAX_FEED = 255
# Rows the printer moves paper for a cut (print head to cutter, ~15 mm); pacing only.
CUT_FEED_ROWS = 120
# Without a cutter, feed the last line past the tear bar (~12 mm).
TEAR_FEED_ROWS = 96
STATUS_TIMEOUT = 1.0

_INVERT = bytes(255 - i for i in range(256))  # Pillow "1": 1 = white; ESC/POS: 1 = black


def raster_header(width_bytes: int, rows: int) -> bytes:
    """`GS v 0 m xL xH yL yH`, normal density."""
    return bytes((0x1D, 0x76, 0x30, 0, width_bytes & 0xFF, width_bytes >> 8, rows & 0xFF, rows >> 8))


def feed(rows: int) -> bytes:
    """`ESC J n` paper feed in dot rows, split into steps of at most 255."""
    out = bytearray()
    while rows > 0:
        n = min(rows, MAX_FEED)
        out += bytes((0x1B, 0x4A, n))
        rows -= n
    return bytes(out)


def heat(dots: int, time_: int, interval: int) -> bytes:
    """`ESC 7 n1 n2 n3` heating settings; empty when all are 0 (keep the printer's own)."""
    if not (dots or time_ or interval):
        return b""
    return bytes((0x1B, 0x37) + tuple(max(0, min(255, int(v))) for v in (dots, time_, interval)))


def status_request(n: int) -> bytes:
    """`DLE EOT n` real-time status request."""
    return bytes((0x10, 0x04, n))


@dataclass(frozen=True)
class Chunk:
    """Bytes written in one go (one band or one feed) and the dot rows they move the paper."""

    data: bytes
    rows: int


@dataclass
class RasterJob:
    """A document encoded for the printer, ready to print any number of copies."""

    chunks: list[Chunk]
    rows: int  # dot rows of paper per copy
    width: int  # dots
    image: object = field(default=None, repr=False)  # the 1-bit PIL image it came from

    @property
    def nbytes(self) -> int:
        return sum(len(c.data) for c in self.chunks)

    @property
    def length_mm(self) -> float:
        return self.rows / DOTS_PER_MM

    def to_bytes(self) -> bytes:
        return b"".join(c.data for c in self.chunks)


def encode_raster(image, band_height: int = DEFAULT_BAND_HEIGHT, *, feed_blank: bool = True,
                  trim_right: bool = True) -> RasterJob:
    """Encode a 1-bit PIL image: blank row runs become `ESC J` feeds, ink rows `GS v 0` bands.

    ``trim_right`` sends each band only as wide as its rightmost black dot.
    Both optimisations leave the printed result pixel-identical.
    """
    if band_height < 1:
        raise ValueError("band_height must be at least 1")
    img = image if image.mode == "1" else image.convert("1")
    width, height = img.size
    stride = (width + 7) // 8
    raw = bytearray(img.tobytes().translate(_INVERT))
    if width % 8:  # Pillow pads rows with 0 bits, which inverted would print black
        mask = (0xFF << (8 - width % 8)) & 0xFF
        for i in range(stride - 1, len(raw), stride):
            raw[i] &= mask
    rows = [bytes(raw[i * stride:(i + 1) * stride]) for i in range(height)]
    blank = bytes(stride)
    is_blank = [feed_blank and r == blank for r in rows]

    chunks: list[Chunk] = []
    i = 0
    while i < height:
        if is_blank[i]:
            j = i
            while j < height and is_blank[j]:
                j += 1
            chunks.append(Chunk(feed(j - i), j - i))
            i = j
            continue
        j = i
        while j < height and j - i < band_height and not is_blank[j]:
            j += 1
        band = rows[i:j]
        wb = max((len(r.rstrip(b"\0")) for r in band), default=0) if trim_right else stride
        wb = max(wb, 1)
        data = b"".join(r[:wb] for r in band)
        chunks.append(Chunk(raster_header(wb, j - i) + data, j - i))
        i = j
    return RasterJob(chunks=chunks, rows=height, width=width, image=img)


_ANSWERED: set[str] = set()  # ports whose printer answered DLE EOT in this process


class NoStatusAnswer(DeviceDisconnected):
    """The printer said nothing to DLE EOT within the status timeout."""


class EscPosPrinter:
    """An ESC/POS printer behind ``printer.port``; opens the port per job, so re-plugging just works.

    Status: a printer that has never answered DLE EOT since the agent started
    (remembered per port in this process, so the POS receipts' one-shot
    printers and the handler's agree) is status-less (USB printers without a back channel, network printers with
    status off): it prints, its paper is unknown, never a false paper-out. One
    that answered before and stops answering is offline: jobs wait.
    ``on_status`` (if set) hears every status read: a PrinterStatus, or None
    for no answer.
    """

    def __init__(self, url: str, *, baudrate: int = 19200, flow_control: str = "none",
                 write_timeout: float = 10.0, row_time_ms: float = 2.5, cut: str = "partial",
                 band_height: int = DEFAULT_BAND_HEIGHT, heat_settings: tuple[int, int, int] = (0, 0, 0),
                 status_query: bool = True, status_timeout: float = STATUS_TIMEOUT, presenter: str = "none",
                 opener: Callable | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if cut not in CUTS:
            raise ValueError(f"cut must be partial, full or none, got {cut!r}")
        self.url = url
        self.cut = cut
        self.band_height = band_height
        self.heat_settings = heat_settings
        self.status_query = status_query
        self.status_timeout = status_timeout
        if presenter not in ("none", "wait", "retract"):
            raise ValueError(f"presenter must be none, wait or retract, got {presenter!r}")
        self.presenter = presenter
        self.on_status: Callable[[PrinterStatus | None], None] | None = None
        self._port_args: dict[str, Any] = dict(baudrate=baudrate, flow_control=flow_control, write_timeout=write_timeout,
                               row_time=row_time_ms / 1000.0, opener=opener, clock=clock, sleep=sleep)

    @property
    def answered(self) -> bool:
        """The printer on this port answered DLE EOT at least once since the agent started."""
        return self.url in _ANSWERED

    @classmethod
    def from_settings(cls, cfg, **overrides) -> EscPosPrinter:
        """Build from a `[printer]` config object (any object with its attributes)."""
        args = dict(
            baudrate=cfg.baudrate, flow_control=cfg.flow_control, write_timeout=cfg.write_timeout,
            row_time_ms=cfg.row_time_ms, cut=cfg.cut, band_height=cfg.band_height,
            heat_settings=(cfg.heat_dots, cfg.heat_time, cfg.heat_interval),
            status_query=getattr(cfg, "status_query", True),
            status_timeout=getattr(cfg, "status_timeout", STATUS_TIMEOUT),
            presenter=getattr(cfg, "presenter", "none"))
        args.update(overrides)
        return cls(cfg.port, **args)

    def encode(self, image) -> RasterJob:
        return encode_raster(image, self.band_height)

    def open(self) -> PrinterPort:
        """A fresh, open connection (callers close it; `with printer.open() as port:`)."""
        return PrinterPort(self.url, **self._port_args).open()

    # -- status --------------------------------------------------------------

    def status(self, port: PrinterPort | None = None) -> PrinterStatus:
        """Ask DLE EOT 1, 2 and 4; raises DeviceDisconnected when the printer does not answer."""
        if port is None:
            with port_lock(self.url), self.open() as own:
                return self.status(own)
        answers = []
        for n in QUERIES:
            byte = port.query(status_request(n), self.status_timeout)
            if byte is not None and not well_formed(byte):
                log.debug("printer status %d: stray byte %02X, asking again", n, byte)
                byte = port.query(status_request(n), self.status_timeout)
            if byte is None:
                self._observe(None)
                raise NoStatusAnswer("printer does not answer: check its power and cable")
            if not well_formed(byte):
                raise DeviceError(f"printer status unreadable (got 0x{byte:02X}): check the baud rate",
                                  retryable=True)
            answers.append(byte)
        _ANSWERED.add(self.url)
        status = PrinterStatus.from_bytes(*answers)
        self._observe(status)
        return status

    def poll(self) -> PrinterStatus | None:
        """An idle status check for the paper watch: None when a job holds the printer or it is silent.

        Never waits for a job (the job checks status itself) and never raises.
        """
        if not self.status_query:
            return None
        lock = port_lock(self.url)
        if not lock.acquire(blocking=False):
            return None
        try:
            with self.open() as port:
                return self.status(port)
        except DeviceError as e:
            log.debug("printer status poll: %s", e)
            return None
        finally:
            lock.release()

    def _observe(self, status: PrinterStatus | None) -> None:
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:  # an observer's fault never stops a print
                log.exception("printer status observer failed")

    def check(self, port: PrinterPort) -> PrinterStatus | None:
        """Raise a retryable DeviceError unless the printer is ready (no-op without status queries).

        A printer that never answered is status-less and prints; one that answered and went silent is offline.
        """
        if not self.status_query:
            return None
        try:
            status = self.status(port)
        except NoStatusAnswer as e:
            if not self.answered:
                return None
            raise DeviceDisconnected("printer offline: it stopped answering status; check its power and cable") from e
        status.raise_unless_ready()
        if status.paper_near_end:
            log.warning("printer paper near end")
        return status

    # -- printing ------------------------------------------------------------

    def print_job(self, job: RasterJob, copies: int = 1, *, first: int = 1,
                  before_copy: Callable[[int], None] | None = None,
                  after_copy: Callable[[int], None] | None = None) -> int:
        """Print copies ``first``..``copies``; returns how many were printed.

        Status is checked before the job and after every copy: when paper ran
        out during copy k, k is not counted (``after_copy`` not called) and the
        retryable DeviceError tells the caller to print it again later.
        ``before_copy(k)`` may raise (e.g. CommandCancelled) to stop between copies.
        """
        printed = 0
        finish = CUTS[self.cut] or feed(TEAR_FEED_ROWS)
        with port_lock(self.url), self.open() as port:
            self.check(port)
            if self.presenter != "none":
                from hal.printer.presenter import clear_output

                clear_output(port, self.presenter, self.status_timeout)
            setup = INIT + heat(*self.heat_settings)
            port.write(setup)
            for k in range(first, copies + 1):
                if before_copy is not None:
                    before_copy(k)
                for chunk in job.chunks:
                    port.write(chunk.data, chunk.rows)
                port.write(finish, CUT_FEED_ROWS if CUTS[self.cut] else TEAR_FEED_ROWS)
                port.drain()
                self.check(port)
                printed += 1
                if after_copy is not None:
                    after_copy(k)
        return printed
