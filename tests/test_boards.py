import logging

import pytest

import boards
from agent import config

EXPECTED = {"pi-zero-2w", "pi-3b-plus", "pi-4b", "pi-5", "sim"}

GOOD = """
[mews]
platform_address = "https://api.mews-demo.com"
generation = "seed"
connector_token = "T"
"""


def gpio_cfg(extra: str):
    return config.parse(GOOD + "[gpio]\n" + extra).gpio


def test_every_profile_loads_with_distinct_header_pins():
    assert set(boards.known_boards()) == EXPECTED
    for name in boards.known_boards():
        board = boards.load_board(name)
        assert board.name == name
        pins = list(board.pins.values())
        assert len(set(pins)) == len(pins) == 5
        assert all(0 <= p <= 27 and p not in (2, 3, 14, 15) for p in pins)
        assert board.pin_factories and board.i2c_bus >= 0


def test_pi5_uses_lgpio_and_ttyama0_others_serial0():
    pi5 = boards.load_board("pi-5")
    assert pi5.pin_factories == ("lgpio",) and pi5.serial["printer"] == "/dev/ttyAMA0"
    for name in ("pi-zero-2w", "pi-3b-plus", "pi-4b"):
        assert boards.load_board(name).serial["printer"] == "/dev/serial0"
    assert boards.load_board("sim").pin_factory == "mock"


def test_unknown_board_lists_known_ones():
    with pytest.raises(boards.UnknownBoard) as e:
        boards.load_board("pi-6")
    for name in EXPECTED:
        assert name in str(e.value)
    assert '"pi-6"' in str(e.value)


@pytest.mark.parametrize("model, name", [
    ("Raspberry Pi 5 Model B Rev 1.0", "pi-5"),
    ("Raspberry Pi 4 Model B Rev 1.4", "pi-4b"),
    ("Raspberry Pi 3 Model B Plus Rev 1.3", "pi-3b-plus"),
    ("Raspberry Pi Zero 2 W Rev 1.0", "pi-zero-2w"),
    ("Raspberry Pi Zero 2 W Rev 1.0\x00", "pi-zero-2w"),  # as read from the device tree
    ("Raspberry Pi 400 Rev 1.0", "pi-4b"),
    ("Raspberry Pi 3 Model B Rev 1.2", "pi-3b-plus"),
])
def test_detect_sample_models(model, name):
    assert boards.detect(model).name == name


@pytest.mark.parametrize("model", ["", "Raspberry Pi Model B Rev 2", "Generic x86 PC", "Raspberry Pi Zero W Rev 1.1"])
def test_detect_unknown_is_none(model):
    assert boards.detect(model) is None


def test_auto_reads_model_file(tmp_path):
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert boards.resolve(gpio_cfg(""), model_path=str(model)).name == "pi-5"


def test_auto_off_a_pi_falls_back_to_sim_with_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        board = boards.resolve(gpio_cfg('board = "auto"'), model_path=str(tmp_path / "missing"))
    assert board.name == "sim"
    assert "sim" in caplog.text and "not readable" in caplog.text


def test_config_overrides_pins_and_factory():
    board = boards.resolve(gpio_cfg('board = "pi-4b"\nred_led = 23\npin_factory = "mock"\n'))
    assert board.red_led == 23 and board.green_led == boards.load_board("pi-4b").green_led
    assert board.pin_factories == ("mock",)


def test_override_clash_names_the_key():
    with pytest.raises(boards.BoardError, match="gpio.buzzer|gpio: buzzer") as e:
        boards.resolve(gpio_cfg('board = "pi-4b"\nbuzzer = 17\n'))  # 17 is the green LED
    assert "green_led" in str(e.value)


def test_unknown_board_in_config():
    with pytest.raises(boards.UnknownBoard, match="known boards: pi-3b-plus"):
        boards.resolve(gpio_cfg('board = "pi4"'))


def test_bad_pin_factory_is_config_error():
    with pytest.raises(config.ConfigError, match="gpio.pin_factory"):
        gpio_cfg('pin_factory = "wiringpi"')


@pytest.mark.parametrize("mutate, problem", [
    (lambda t: t.replace("red_led = 27", "red_led = 17"), "already used by green_led"),
    (lambda t: t.replace("buzzer = 22", "buzzer = 14"), "UART TX"),
    (lambda t: t.replace("button_a = 5", "button_a = 40"), "not on the 40-pin header"),
    (lambda t: t.replace('pin_factory = ["lgpio"]', 'pin_factory = ["wiring"]'), "pin_factory"),
    (lambda t: t.replace("i2c_bus = 1", 'i2c_bus = "one"'), "i2c_bus"),
    (lambda t: t.replace("[pins]", "[pins]\nfan = 12"), "unknown roles fan"),
    (lambda t: t + "\n[[broken", "not valid TOML"),
])
def test_bad_profiles_are_rejected(mutate, problem):
    from importlib import resources

    text = (resources.files("boards") / "pi-5.toml").read_text()
    boards.parse_board(text)  # the original is fine
    with pytest.raises(boards.BoardError, match=problem):
        boards.parse_board(mutate(text), "pi-5.toml")
