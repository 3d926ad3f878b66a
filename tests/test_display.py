import logging

import pytest
from PIL import Image

from agent.panel import screens
from agent.panel.frontpanel import SHIFT_PATH, FrontPanel, Painter
from agent.runtime.health import ONLINE, OFFLINE, Health
from hal.display import BRIGHT, Display, PngDisplay, open_display
from hal.errors import DeviceDisconnected, DeviceError


def frame(text: str) -> Image.Image:
    return screens.render(screens.notice(text))


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.convert("1").tobytes() == b.convert("1").tobytes()


def test_png_driver_writes_latest_frame(tmp_path):
    display = open_display("png", png_path=tmp_path / "display.png")
    display.show(frame("ONE"))
    display.show(frame("TWO"))
    with Image.open(tmp_path / "display.png") as saved:
        assert saved.size == (128, 64)
        assert same(saved, frame("TWO")) and not same(saved, frame("ONE"))
    assert display.frames == []  # no frames folder asked for


def test_png_driver_keeps_every_distinct_frame(tmp_path):
    display = PngDisplay(tmp_path / "display.png", tmp_path / "frames")
    for text in ("ONE", "ONE", "TWO", "ONE", "THREE"):
        display.show(frame(text))
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == ["frame-0001.png", "frame-0002.png", "frame-0003.png"]
    for path, text in zip(display.frames, ("ONE", "TWO", "THREE")):
        with Image.open(path) as saved:
            assert same(saved, frame(text))


def test_drivers_none_unknown_and_missing_bus():
    assert open_display("none") is None
    with pytest.raises(DeviceError, match="png_path"):
        open_display("png")
    with pytest.raises(DeviceError, match="unknown display driver"):
        open_display("st7735")
    with pytest.raises(DeviceDisconnected, match="ssd1306 on I2C bus 99 address 0x3D"):
        open_display("ssd1306", i2c_port=99, address=0x3D)


def test_display_drives_a_luma_device():
    from luma.core.device import dummy

    device = dummy(width=128, height=64, mode="1")
    display = Display(device)
    display.show(frame("HELLO"))
    display.set_contrast(300)
    assert same(device.image, frame("HELLO")) and display.contrast == 255


class BrokenDevice:
    """A luma device whose bus has gone: every call raises."""

    def __init__(self):
        self.calls = 0

    def display(self, image):
        self.calls += 1
        raise OSError(121, "Remote I/O error")

    def contrast(self, level):
        raise OSError(121, "Remote I/O error")

    def cleanup(self):
        raise OSError(121, "Remote I/O error")


def test_failing_display_never_reaches_the_caller(caplog):
    device = BrokenDevice()
    panel = FrontPanel(painter=Painter(lambda: Display(device), frame_interval=0.0))
    with caplog.at_level(logging.WARNING):
        for i in range(5):
            panel.update(Health(connection=ONLINE, outbox_depth=i))
            assert panel.flush(5.0)
        panel.close()
    assert device.calls == 5  # it kept trying each new frame
    faults = [r for r in caplog.records if "Remote I/O error" in r.getMessage()]
    assert len(faults) == 1  # ... but said so once


def test_display_that_cannot_open_is_logged_once(caplog):
    def opener():
        raise DeviceDisconnected("OLED ssd1306 on I2C bus 1 address 0x3C not available: no bus")

    panel = FrontPanel(painter=Painter(opener, frame_interval=0.0))
    with caplog.at_level(logging.WARNING):
        panel.update(Health(connection=ONLINE))
        panel.update(Health(connection=OFFLINE))
        assert panel.flush(5.0)
    panel.close()
    assert caplog.text.count("not available") == 1


def test_renders_only_on_change(tmp_path):
    painter = Painter(lambda: PngDisplay(tmp_path / "display.png"), frame_interval=0.0)
    panel = FrontPanel(painter=painter)
    online = Health(connection=ONLINE, enterprise="Demo")
    for _ in range(3):
        panel.update(online)
        panel.flush()
    assert painter.frames_shown == 1
    panel.update(Health(connection=OFFLINE))
    panel.flush()
    assert painter.frames_shown == 2
    panel.close()


def test_burst_of_changes_ends_on_the_latest(tmp_path):
    painter = Painter(lambda: PngDisplay(tmp_path / "display.png"), frame_interval=0.05)
    panel = FrontPanel(painter=painter, ticks=lambda: 0.0)  # time stands still: no burn-in shift
    for depth in range(40):
        panel.update(Health(connection=ONLINE, outbox_depth=depth))
    assert panel.flush(5.0)
    with Image.open(tmp_path / "display.png") as saved:
        assert same(saved, screens.render(panel.screen, SHIFT_PATH[0]))
    assert panel.screen.rows[-1].text == "queue 39"
    assert 1 <= painter.frames_shown <= 40
    assert painter.display.contrast == BRIGHT
    panel.close()
