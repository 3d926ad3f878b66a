"""The status OLED: a 128x64 monochrome panel behind a luma device.

``open_display("ssd1306" | "sh1106", ...)`` talks I2C through luma.oled;
``"png"`` renders the same frames on luma.core's dummy device and saves the
latest one as a PNG (and, when asked, every distinct frame); ``"none"`` is no
display. luma and Pillow load only when a display is opened.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from common.atomic import write_atomically
from hal.errors import DeviceDisconnected, DeviceError

WIDTH, HEIGHT = 128, 64
DRIVERS = ("ssd1306", "sh1106", "png", "none")
BRIGHT, DIM = 0xCF, 0x08  # SSD1306 contrast levels: luma's power-on default, and dimmed


class Display:
    """A luma device (given from outside) showing 1-bit 128x64 frames."""

    def __init__(self, device):
        self.device = device
        self.contrast = BRIGHT

    def show(self, image) -> None:
        """Put ``image`` (mode "1", 128x64) on the panel."""
        self.device.display(image)

    def set_contrast(self, level: int) -> None:
        """Brightness 0-255; the panel dims to spare its pixels."""
        level = max(0, min(255, int(level)))
        self.device.contrast(level)
        self.contrast = level

    def close(self) -> None:
        """Release the device (luma blanks the panel unless told to persist)."""
        self.device.cleanup()


class PngDisplay(Display):
    """Frames on luma's dummy device, saved as ``path``; every distinct frame kept in ``frames_dir``."""

    def __init__(self, path: str | os.PathLike, frames_dir: str | os.PathLike | None = None,
                 max_frames: int = 2000, device=None):
        if device is None:
            from luma.core.device import dummy

            device = dummy(width=WIDTH, height=HEIGHT, mode="1")
        super().__init__(device)
        self.path = Path(path)
        self.frames_dir = Path(frames_dir) if frames_dir else None
        self.max_frames = max_frames
        self.frames: list[Path] = []  # distinct frames written, in order
        self._seen: set[str] = set()

    def show(self, image) -> None:
        self.device.display(image)
        frame = self.device.image
        _save_png(frame, self.path)
        if self.frames_dir is None or len(self.frames) >= self.max_frames:
            return
        digest = hashlib.sha1(frame.tobytes()).hexdigest()
        if digest in self._seen:
            return
        self._seen.add(digest)
        target = self.frames_dir / f"frame-{len(self.frames) + 1:04d}.png"
        _save_png(frame, target)
        self.frames.append(target)

    def set_contrast(self, level: int) -> None:
        # A PNG has no backlight: remember the level so observers can check it.
        self.contrast = max(0, min(255, int(level)))

    def close(self) -> None:
        pass


def _save_png(image, path: Path) -> None:
    """Write atomically so a viewer never opens half a file."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write_atomically(path, buffer.getvalue(), mode=0o644)


def open_display(driver: str, *, i2c_port: int = 1, address: int = 0x3C, rotate: int = 0,
                 png_path: str | os.PathLike | None = None,
                 frames_dir: str | os.PathLike | None = None) -> Display | None:
    """Open the configured display; None for ``"none"``.

    Raises DeviceDisconnected when the panel does not answer on the bus.
    """
    if driver == "none":
        return None
    if driver == "png":
        if png_path is None:
            raise DeviceError("png display: no file to write (png_path)", retryable=False)
        return PngDisplay(png_path, frames_dir)
    if driver not in ("ssd1306", "sh1106"):
        raise DeviceError(f'unknown display driver "{driver}"; known: {", ".join(DRIVERS)}', retryable=False)
    from luma.core.interface.serial import i2c
    from luma.oled import device as oled

    where = f"{driver} on I2C bus {i2c_port} address 0x{address:02X}"
    try:
        interface = i2c(port=i2c_port, address=address)
        return Display(getattr(oled, driver)(interface, width=WIDTH, height=HEIGHT, rotate=rotate))
    except Exception as e:  # luma raises DeviceNotFoundError, DevicePermissionError, OSError
        raise DeviceDisconnected(f"OLED {where} not available: {e}") from None
