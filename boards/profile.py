"""Load board profiles (``boards/*.toml``) into typed ``Board`` values.

A profile is data: serial paths, I2C bus, BCM pin numbers for the front-panel
parts and the gpiozero pin factories to try. ``[gpio]`` in the agent config
picks one by name or ``"auto"`` (read from ``/proc/device-tree/model``) and may
override any pin.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODEL_PATH = "/proc/device-tree/model"
AUTO = "auto"
FALLBACK = "sim"
PIN_ROLES = ("green_led", "red_led", "buzzer", "button_a", "button_b")
FACTORIES = ("lgpio", "rpigpio", "pigpio", "native", "mock")
# BCM GPIO lines on the 40-pin header.
HEADER_PINS = range(0, 28)
# I2C1 (the OLED) and the UART (the printer): a profile must leave them alone.
RESERVED_PINS = {2: "I2C SDA", 3: "I2C SCL", 14: "UART TX", 15: "UART RX"}


class BoardError(ValueError):
    """A board profile or a pin override is unusable."""


class UnknownBoard(BoardError):
    """No profile has this name."""


def _serial_ports(table, source: str) -> dict[str, str]:
    """[serial]: device table name -> port path, for whichever device kinds the board wires."""
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise BoardError(f"{source}: expected device = \"/dev/...\" lines")
    return dict(table)


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    models: tuple[str, ...]  # /proc/device-tree/model prefixes this profile matches
    pin_factories: tuple[str, ...]  # gpiozero pin factories, first that loads wins
    i2c_bus: int
    serial: dict[str, str]  # device table -> the port a device of that kind usually has on this board
    green_led: int
    red_led: int
    buzzer: int
    button_a: int
    button_b: int

    @property
    def pin_factory(self) -> str:
        """The preferred gpiozero pin factory."""
        return self.pin_factories[0]

    @property
    def pins(self) -> dict[str, int]:
        """Role -> BCM pin number."""
        return {role: getattr(self, role) for role in PIN_ROLES}


def _profiles() -> dict[str, Traversable]:
    """Profile name -> resource of its TOML file."""
    folder = resources.files(__package__ or "boards")
    return {Path(p.name).stem: p for p in folder.iterdir() if p.name.endswith(".toml")}


def known_boards() -> list[str]:
    """Names of every board profile, sorted."""
    return sorted(_profiles())


def _need(data: dict, key: str, kind: type, where: str):
    value = data.get(key)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise BoardError(f"{where}: {key}: expected {kind.__name__}, got {value!r}")
    return value


def parse_board(text: str, source: str = "board.toml") -> Board:
    """Parse and validate one profile's TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BoardError(f"{source}: not valid TOML: {e}") from None
    serial = _need(data, "serial", dict, source)
    pins = _need(data, "pins", dict, source)
    factories = data.get("pin_factory")
    if isinstance(factories, str):
        factories = [factories]
    if not factories or not isinstance(factories, list) or any(f not in FACTORIES for f in factories):
        raise BoardError(f"{source}: pin_factory: expected names from {', '.join(FACTORIES)}, got {factories!r}")
    models = _need(data, "models", list, source)
    if not all(isinstance(m, str) and m for m in models):
        raise BoardError(f"{source}: models: expected a list of model name prefixes")
    board = Board(
        name=_need(data, "name", str, source),
        description=_need(data, "description", str, source),
        models=tuple(models),
        pin_factories=tuple(factories),
        i2c_bus=_need(data, "i2c_bus", int, source),
        serial=_serial_ports(serial, source + " [serial]"),
        **{role: _need(pins, role, int, source + " [pins]") for role in PIN_ROLES},
    )
    unknown = set(pins) - set(PIN_ROLES)
    if unknown:
        raise BoardError(f"{source} [pins]: unknown roles {', '.join(sorted(unknown))}; known: {', '.join(PIN_ROLES)}")
    check_pins(board, source)
    for role, pin in board.pins.items():
        if pin in RESERVED_PINS:
            raise BoardError(f"{source}: {role}: GPIO {pin} is the {RESERVED_PINS[pin]} line")
    return board


def check_pins(board: Board, where: str) -> None:
    """Every pin is a header GPIO and no two roles share one."""
    seen: dict[int, str] = {}
    for role, pin in board.pins.items():
        if pin not in HEADER_PINS:
            raise BoardError(f"{where}: {role}: GPIO {pin} is not on the 40-pin header (0-27)")
        if pin in seen:
            raise BoardError(f"{where}: {role}: GPIO {pin} is already used by {seen[pin]}")
        seen[pin] = role


def load_board(name: str) -> Board:
    """The profile called ``name``; an unknown name lists the known ones."""
    profiles = _profiles()
    if name not in profiles:
        raise UnknownBoard(f'unknown board "{name}"; known boards: {", ".join(sorted(profiles))}'
                           f' (or "{AUTO}")')
    board = parse_board(profiles[name].read_text(encoding="utf-8"), f"boards/{name}.toml")
    if board.name != name:
        raise BoardError(f'boards/{name}.toml: name: expected "{name}", got "{board.name}"')
    return board


def detect(model_text: str) -> Board | None:
    """The profile whose model prefix matches ``model_text`` best, or None."""
    model = model_text.replace("\x00", "").strip()
    best: tuple[int, Board] | None = None
    for name in known_boards():
        board = load_board(name)
        for prefix in board.models:
            if model.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), board)
    return best[1] if best else None


def read_model(path: str = MODEL_PATH) -> str | None:
    """The device-tree model string, or None off a Raspberry Pi."""
    try:
        return Path(path).read_bytes().decode("utf-8", "replace").replace("\x00", "").strip() or None
    except OSError:
        return None


def auto_board(model_path: str = MODEL_PATH) -> Board:
    """Detect the board; off a Pi (or on an unknown model) fall back to ``sim`` with a warning."""
    model = read_model(model_path)
    board = detect(model) if model else None
    if board is None:
        found = f'"{model}" has no board profile' if model else f"{model_path} not readable (not a Raspberry Pi?)"
        log.warning("board auto-detection: %s; using the %s board (mock pins, no GPIO)", found, FALLBACK)
        return load_board(FALLBACK)
    log.info('board auto-detection: "%s" -> %s', model, board.name)
    return board


def with_overrides(board: Board, where: str = "gpio", **pins: int) -> Board:
    """``board`` with the given pins replaced; values below 0 keep the board's pin."""
    unknown = set(pins) - set(PIN_ROLES)
    if unknown:
        raise BoardError(f"{where}: unknown pin roles {', '.join(sorted(unknown))}")
    chosen: dict[str, Any] = {role: pin for role, pin in pins.items() if pin is not None and pin >= 0}
    if not chosen:
        return board
    result = dataclasses.replace(board, **chosen)
    check_pins(result, where)
    return result


def resolve(gpio_cfg, model_path: str = MODEL_PATH) -> Board:
    """The board for a ``[gpio]`` config table: named or auto-detected, with pin and factory overrides."""
    name = (gpio_cfg.board or AUTO).strip()
    board = auto_board(model_path) if name == AUTO else load_board(name)
    board = with_overrides(board, "gpio", **{role: getattr(gpio_cfg, role) for role in PIN_ROLES})
    if gpio_cfg.pin_factory:
        if gpio_cfg.pin_factory not in FACTORIES:
            raise BoardError(f'gpio.pin_factory: expected one of {", ".join(FACTORIES)}, '
                             f'got "{gpio_cfg.pin_factory}"')
        board = dataclasses.replace(board, pin_factories=(gpio_cfg.pin_factory,))
    return board
