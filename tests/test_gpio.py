import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from hal.gpio import GpioUnavailable, PanelParts, PushButton, open_pin_factory

PINS = {"green_led": 17, "red_led": 27, "buzzer": 22, "button_a": 5, "button_b": 6}


def wait_states(pin, count, timeout=3.0):
    """Wait until a mock pin has gone through ``count`` states (including its initial one)."""
    deadline = time.monotonic() + timeout
    while len(pin.states) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(pin.states) >= count, f"only {[s.state for s in pin.states]}"


def states(pin):
    return [s.state for s in pin.states]


@pytest.fixture
def parts():
    p = PanelParts(PINS, MockFactory(), hold_a=0.05, hold_b=0.1, beep_time=0.01, blink_time=0.01)
    yield p
    p.close()


def test_green_modes(parts):
    pin = parts.green_led.pin
    parts.set_green("on")
    parts.set_green("on")  # no change, no new state
    parts.set_green("off")
    pin.assert_states([False, True, False])
    assert len(pin.states) == 3
    parts.set_green("blink")
    wait_states(pin, 8)
    pin.assert_states([False, True, False, True, False, True, False, True])
    parts.set_green("off")
    assert pin.state is False and parts.green == "off"
    with pytest.raises(ValueError):
        parts.set_green("purple")


def test_red_on_off(parts):
    parts.set_red(True)
    parts.set_red(True)
    parts.set_red(False)
    parts.red_led.pin.assert_states([False, True, False])
    assert len(parts.red_led.pin.states) == 3


def test_three_beeps(parts):
    parts.beep(3)
    wait_states(parts.buzzer.pin, 7)
    time.sleep(0.05)
    parts.buzzer.pin.assert_states([False, True, False, True, False, True, False])
    assert len(parts.buzzer.pin.states) == 7


def test_button_short_press_and_hold(parts):
    calls = []
    held = threading.Event()
    parts.button_a.on_press = lambda: calls.append("press")
    parts.button_a.on_short = lambda: calls.append("short")
    parts.button_a.on_hold = lambda: (calls.append("hold"), held.set())
    pin = parts.button_a.pin
    pin.drive_low()
    pin.drive_high()
    assert calls == ["press", "short"]
    calls.clear()
    pin.drive_low()
    assert held.wait(2.0)
    pin.drive_high()
    assert calls == ["press", "hold"]  # a hold is not also a short press


def test_failing_button_action_is_contained(parts, caplog):
    parts.button_b.on_short = lambda: 1 / 0
    parts.button_b.pin.drive_low()
    parts.button_b.pin.drive_high()
    assert "action failed" in caplog.text


def test_pin_clash_is_a_clear_error():
    with pytest.raises(GpioUnavailable, match="cannot claim front-panel pins"):
        PanelParts({**PINS, "red_led": 17}, MockFactory())


def test_pin_factory_fallback_and_errors():
    assert isinstance(open_pin_factory(["wiringpi", "mock"]), MockFactory)
    with pytest.raises(GpioUnavailable) as e:
        open_pin_factory(["wiringpi"])
    assert "wiringpi: unknown" in str(e.value) and "lgpio" in str(e.value)


def test_standalone_button_on_its_own_factory():
    button = PushButton(12, MockFactory(), hold_time=1.0)
    pressed = []
    button.on_press = lambda: pressed.append(True)
    button.pin.drive_low()
    button.close()
    assert pressed == [True]
