import logging
import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory
from PIL import Image

from agent import config
from agent.panel import screens
from agent.runtime.jobs import Outcome, OutcomeState
from agent.panel.frontpanel import SHIFT_PATH, FrontPanel, PanelTiming, Painter
from agent.runtime.health import BUSY, DISPLACED, FAULT, IDLE, OFFLINE, ONLINE, WAITING, DeviceHealth, Health
from hal.display import BRIGHT, DIM, PngDisplay
from hal.gpio import PanelParts

FAST = PanelTiming(reprint_hold=0.3, clear_hold=0.4, frame_interval=0.0, beep=0.005, blink=0.005)
PINS = {"green_led": 17, "red_led": 27, "buzzer": 22, "button_a": 5, "button_b": 6}

CONFIG = """
[mews]
platform_address = "https://api.mews-demo.com"
generation = "seed"
connector_token = "T"
[agent]
state_dir = "state"
[display]
driver = "png"
frames_dir = "frames"
"""


class Actions:
    """What the buttons may do, recorded."""

    def __init__(self, on_clear=None, fail=False):
        self.reprinted = threading.Event()
        self.cleared = threading.Event()
        self.on_clear, self.fail = on_clear, fail

    def reprint_last(self, on_progress=None):
        if self.fail:
            raise RuntimeError("no receipt printed yet")
        self.reprinted.set()
        return Outcome(OutcomeState.DONE, "reprinted")

    def clear_dead_letters(self):
        if self.on_clear:
            self.on_clear()
        self.cleared.set()
        return 3


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.t = 10_000.0

    def __call__(self):
        return self.t


def wait_states(pin, count, timeout=3.0):
    deadline = time.monotonic() + timeout
    while len(pin.states) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(pin.states) >= count, f"only {[s.state for s in pin.states]}"


def settle(pin, quiet=0.05, timeout=3.0):
    """Wait until a pin stops changing (a background beep has finished)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        if len(pin.states) == seen:
            return
        seen = len(pin.states)
        time.sleep(quiet)


def press(button, until=None):
    """Press and release; with ``until`` (an Event), hold the button until it is set."""
    button.pin.drive_low()
    if until is not None:
        assert until.wait(5.0), "the hold was not recognised"
    button.pin.drive_high()


@pytest.fixture
def made(tmp_path):
    panels = []

    def make(actions=None, *, dim_after=300.0, ticks=None, display=True):
        painter = Painter(lambda: PngDisplay(tmp_path / "display.png"), frame_interval=0.0) if display else None
        parts = PanelParts(PINS, MockFactory(), hold_a=FAST.reprint_hold, hold_b=FAST.clear_hold,
                           beep_time=FAST.beep, blink_time=FAST.blink)
        kw = {"ticks": ticks} if ticks else {}
        panel = FrontPanel(painter=painter, parts=parts, actions=actions, dim_after=dim_after, timing=FAST, **kw)
        panels.append(panel)
        return panel

    yield make
    for p in panels:
        p.close()


def online(**kw):
    return Health(connection=ONLINE, enterprise="Demo Hotel", ip_address="10.0.0.5", **kw)


def test_from_config_png_and_mock_pins(tmp_path):
    path = tmp_path / "config.toml"
    cfg = config.parse(CONFIG + '[gpio]\nboard = "sim"\n', str(path))
    panel = FrontPanel.from_config(cfg, Actions(), timing=FAST)
    try:
        assert isinstance(panel.parts.factory, MockFactory)
        panel.update(online())
        assert panel.flush()
        assert (tmp_path / "state" / "display.png").exists()
        assert [p.name for p in (tmp_path / "frames").iterdir()] == ["frame-0001.png"]
        assert panel.parts.green_led.pin.state is True
    finally:
        panel.close()


def test_green_led_follows_connection_and_work(made):
    panel = made()
    pin = panel.parts.green_led.pin
    panel.update(Health())  # booting: off
    panel.update(online())
    panel.update(online())  # no change
    pin.assert_states([False, True])
    assert len(pin.states) == 2
    panel.update(online(devices={"printer": DeviceHealth("printer", BUSY, done=0, total=2)}))
    wait_states(pin, 6)
    pin.assert_states([False, True, False, True, False, True])
    panel.update(Health(connection=OFFLINE))
    assert pin.state is False and panel.parts.green == "off"


def test_red_led_and_three_beeps_on_new_fault(made):
    panel = made()
    red, buzzer = panel.parts.red_led.pin, panel.parts.buzzer.pin
    paper_out = {"printer": DeviceHealth("printer", FAULT, fault="paper out")}
    panel.update(online())
    panel.update(online(devices=paper_out))
    wait_states(buzzer, 7)
    settle(buzzer)
    buzzer.assert_states([False, True, False, True, False, True, False])
    assert len(buzzer.states) == 7
    panel.update(online(devices=paper_out))  # the same fault again: no new beeps
    settle(buzzer)
    assert len(buzzer.states) == 7
    panel.update(online())
    red.assert_states([False, True, False])
    panel.update(Health(connection=DISPLACED))  # a new fault needing a person
    wait_states(buzzer, 13)
    settle(buzzer)
    assert len(buzzer.states) == 13 and red.state is True


def test_short_beep_when_a_key_is_ready(made):
    panel = made()
    buzzer = panel.parts.buzzer.pin

    def encoder(state, done):
        return online(devices={"encoder": DeviceHealth("encoder", state, done=done, total=2,
                                                      deadline=time.time() + 30)})
    panel.update(encoder(WAITING, 0))
    panel.update(encoder(BUSY, 0))
    settle(buzzer)
    assert len(buzzer.states) == 1  # nothing yet
    panel.update(encoder(WAITING, 1))  # first key done: take it
    wait_states(buzzer, 3)
    settle(buzzer)
    buzzer.assert_states([False, True, False])
    assert len(buzzer.states) == 3
    panel.update(encoder(IDLE, 2))
    wait_states(buzzer, 5)
    settle(buzzer)
    assert len(buzzer.states) == 5


def test_button_a_short_press_shows_status_page(made):
    panel = made(Actions())
    panel.update(online())
    assert panel.screen.name == "online"
    press(panel.parts.button_a)
    panel.update(online())
    assert panel.screen.name == "status"
    assert panel.flush()
    assert not panel.actions.reprinted.is_set()


def test_button_a_hold_reprints(made):
    panel = made(Actions())
    press(panel.parts.button_a, until=panel.actions.reprinted)
    assert panel.wait_action()
    panel.update(online())
    assert panel.screen.name == "notice" and "reprinted" in panel.screen.text
    settle(panel.parts.buzzer.pin)
    panel.parts.buzzer.pin.assert_states([False, True, False])  # one beep: the hold was heard
    assert len(panel.parts.buzzer.pin.states) == 3


def test_button_b_hold_beeps_then_clears(made):
    seen_at_clear = []
    panel = made()
    panel.actions = Actions(on_clear=lambda: seen_at_clear.append([s.state for s in panel.parts.buzzer.pin.states]))
    press(panel.parts.button_b)  # a short press does nothing
    assert not panel.actions.cleared.is_set()
    press(panel.parts.button_b, until=panel.actions.cleared)
    assert seen_at_clear == [[False, True, False, True, False]]  # confirmation beeps came first
    assert panel.wait_action()
    panel.update(online())
    assert "3 dead letters removed" in panel.screen.text.replace("\n", " ")


def test_failing_action_shows_and_logs_but_does_not_raise(made, caplog):
    panel = made(Actions(fail=True))
    failed = threading.Event()
    panel.parts.button_a.on_hold = lambda: (FrontPanel.reprint_last(panel), failed.set())
    with caplog.at_level(logging.WARNING):
        press(panel.parts.button_a, until=failed)
        assert panel.wait_action()
    assert "reprint failed: no receipt printed yet" in caplog.text
    panel.update(online())
    assert "failed: no receipt printed yet" in panel.screen.text.replace("\n", " ")


def test_no_actions_available(made):
    panel = made(None)
    noticed = threading.Event()
    panel.parts.button_b.on_hold = lambda: (FrontPanel.clear_dead_letters(panel), noticed.set())
    press(panel.parts.button_b, until=noticed)
    panel.update(online())
    assert "not available" in panel.screen.text


def test_dims_when_idle_and_wakes_on_press(made):
    ticks = Ticks()
    panel = made(dim_after=60.0, ticks=ticks)
    panel.update(online())
    panel.flush()
    assert panel.painter.display.contrast == BRIGHT
    ticks.t += 61
    panel.update(online())
    panel.flush()
    assert panel.painter.display.contrast == DIM
    press(panel.parts.button_b)
    panel.update(online())
    panel.flush()
    assert panel.painter.display.contrast == BRIGHT


def test_faults_and_waiting_guests_never_dim(made):
    ticks = Ticks()
    panel = made(dim_after=1.0, ticks=ticks)
    card = online(devices={"encoder": DeviceHealth("encoder", WAITING, total=1, deadline=None)})
    panel.update(card)
    ticks.t += 3600
    panel.update(card)
    panel.flush()
    assert panel.painter.display.contrast == BRIGHT


def test_content_shifts_over_time(made, tmp_path):
    ticks = Ticks()
    ticks.t = 0.0
    panel = made(ticks=ticks)
    boxes = []
    for step in range(3):
        ticks.t = step * FAST.shift_every
        panel.update(online())
        panel.flush()
        with Image.open(tmp_path / "display.png") as im:
            boxes.append(im.getbbox())
    moves = [(b[0] - boxes[0][0], b[1] - boxes[0][1]) for b in boxes]
    expected = [(x - SHIFT_PATH[0][0], y - SHIFT_PATH[0][1]) for x, y in SHIFT_PATH[:3]]
    assert moves == expected and len(set(moves)) == 3


def test_update_never_raises_on_odd_health(made):
    panel = made()
    odd = Health(connection=ONLINE)
    odd.devices = {"printer": "not a device"}  # a caller bug must not stop the agent
    panel.update(odd)
    panel.update(online())
    assert panel.screen.name == "online"


def test_unknown_board_disables_gpio_but_keeps_display(tmp_path, caplog):
    cfg = config.parse(CONFIG + '[gpio]\nboard = "pi-6"\n', str(tmp_path / "config.toml"))
    with caplog.at_level(logging.ERROR):
        panel = FrontPanel.from_config(cfg, Actions(), timing=FAST)
    try:
        assert panel.parts is None and "known boards" in caplog.text
        panel.update(online())
        assert panel.flush() and (tmp_path / "state" / "display.png").exists()
    finally:
        panel.close()


def test_auto_detected_pi5_without_lgpio_is_logged(tmp_path, caplog):
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    cfg = config.parse(CONFIG + "[gpio]\n", str(tmp_path / "config.toml"))
    try:
        import lgpio  # noqa: F401
        pytest.skip("lgpio is installed here")
    except ImportError:
        pass
    with caplog.at_level(logging.ERROR):
        panel = FrontPanel.from_config(cfg, Actions(), timing=FAST, model_path=str(model))
    panel.close()
    assert panel.parts is None and "lgpio" in caplog.text


def test_nothing_configured_is_quiet(tmp_path):
    cfg = config.parse(CONFIG.replace('driver = "png"', 'driver = "none"'), str(tmp_path / "config.toml"))
    panel = FrontPanel.from_config(cfg, None)
    panel.update(online())
    assert panel.painter is None and panel.parts is None and panel.screen.name == "online"
    assert panel.flush()
    panel.close()
    assert not (tmp_path / "state").exists()


def test_present_card_frame_is_what_the_screen_says(made, tmp_path):
    ticks = Ticks()
    ticks.t = 0.0
    panel = made(ticks=ticks)
    health = online(devices={"encoder": DeviceHealth("encoder", WAITING, total=2, deadline=time.time() + 600)})
    panel.update(health)
    panel.flush()
    with Image.open(tmp_path / "display.png") as im:
        assert im.tobytes() == screens.render(panel.screen, SHIFT_PATH[0]).tobytes()
    assert panel.screen.name == "present_card"
