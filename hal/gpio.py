"""Front-panel GPIO parts on gpiozero: green and red LEDs, a buzzer, buttons A and B.

The pin factory comes from outside (``open_pin_factory("lgpio")`` on a Pi,
``MockFactory`` in tests and the demo), so the same code runs everywhere.
gpiozero loads only when parts are opened.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence

from hal.errors import DeviceError

log = logging.getLogger(__name__)

FACTORY_CLASSES = {
    "mock": ("gpiozero.pins.mock", "MockFactory"),
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
}
GREEN_MODES = ("off", "on", "blink")


class GpioUnavailable(DeviceError):
    """No pin factory could be loaded, or a pin could not be claimed."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


def open_pin_factory(names: Sequence[str] | str):
    """The first gpiozero pin factory in ``names`` that loads on this machine."""
    names = [names] if isinstance(names, str) else list(names)
    problems = []
    for name in names:
        if name not in FACTORY_CLASSES:
            problems.append(f'{name}: unknown (known: {", ".join(FACTORY_CLASSES)})')
            continue
        module, cls = FACTORY_CLASSES[name]
        try:
            return getattr(importlib.import_module(module), cls)()
        except Exception as e:  # ImportError when the library is missing, OSError off a Pi
            problems.append(f"{name}: {type(e).__name__}: {e}")
    raise GpioUnavailable("no usable GPIO pin factory (" + "; ".join(problems) + ")")


class PushButton:
    """A button to ground that tells a short press from a hold of ``hold_time`` seconds.

    ``on_press`` fires on every press, ``on_hold`` once the hold time is reached,
    ``on_short`` on a release before that. Callbacks run in gpiozero's threads.
    """

    def __init__(self, pin: int, factory, hold_time: float, bounce_time: float | None = None):
        from gpiozero import Button

        self.button = Button(pin, pull_up=True, hold_time=hold_time, bounce_time=bounce_time,
                             pin_factory=factory)
        self.on_press: Callable[[], None] | None = None
        self.on_short: Callable[[], None] | None = None
        self.on_hold: Callable[[], None] | None = None
        self._held = False
        self.button.when_pressed = self._pressed
        self.button.when_held = self._hold
        self.button.when_released = self._released

    @property
    def pin(self):
        return self.button.pin

    def _pressed(self) -> None:
        self._held = False
        self._fire(self.on_press)

    def _hold(self) -> None:
        self._held = True
        self._fire(self.on_hold)

    def _released(self) -> None:
        if not self._held:
            self._fire(self.on_short)
        self._held = False

    def _fire(self, callback) -> None:
        if callback is None:
            return
        try:
            callback()
        except Exception:  # a failing action must not kill gpiozero's event thread
            log.exception("button on GPIO %s: action failed", self.button.pin)

    def close(self) -> None:
        self.button.close()


class PanelParts:
    """The LEDs, buzzer and buttons of one front panel."""

    def __init__(self, pins: Mapping[str, int], factory, *, hold_a: float = 5.0, hold_b: float = 10.0,
                 beep_time: float = 0.1, blink_time: float = 0.5):
        from gpiozero import LED, Buzzer

        self.factory = factory
        self.beep_time, self.blink_time = beep_time, blink_time
        self._green = "off"
        opened = []
        try:
            self.green_led = LED(pins["green_led"], pin_factory=factory)
            opened.append(self.green_led)
            self.red_led = LED(pins["red_led"], pin_factory=factory)
            opened.append(self.red_led)
            self.buzzer = Buzzer(pins["buzzer"], pin_factory=factory)
            opened.append(self.buzzer)
            self.button_a = PushButton(pins["button_a"], factory, hold_a)
            opened.append(self.button_a)
            self.button_b = PushButton(pins["button_b"], factory, hold_b)
        except Exception as e:
            for part in opened:
                part.close()
            raise GpioUnavailable(f"cannot claim front-panel pins {dict(pins)}: {e}") from None

    @property
    def green(self) -> str:
        return self._green

    def set_green(self, mode: str) -> None:
        """``off``, ``on`` or ``blink``; repeating the current mode changes nothing."""
        if mode not in GREEN_MODES:
            raise ValueError(f"green LED mode must be one of {GREEN_MODES}, got {mode!r}")
        if mode == self._green:
            return
        self._green = mode
        if mode == "blink":
            self.green_led.blink(on_time=self.blink_time, off_time=self.blink_time)
        elif mode == "on":
            self.green_led.on()
        else:
            self.green_led.off()

    def set_red(self, on: bool) -> None:
        if bool(on) != bool(self.red_led.value):
            self.red_led.value = bool(on)

    def beep(self, times: int = 1, length: float | None = None, wait: bool = False) -> None:
        """``times`` beeps of ``length`` seconds (default ``beep_time``); in the background unless ``wait``."""
        length = self.beep_time if length is None else length
        self.buzzer.beep(on_time=length, off_time=length, n=times, background=not wait)

    def close(self) -> None:
        for part in (self.button_a, self.button_b, self.buzzer, self.red_led, self.green_led):
            try:
                part.close()
            except Exception:
                pass
