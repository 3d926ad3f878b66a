"""Front panel checks: the OLED (I2C address) and the GPIO pins (device kinds check themselves: agent/devices)."""

from __future__ import annotations

import errno

from agent.doctor import FAIL, NOT_IN_BUILD, OK, SKIP, Result, reason

ENQ_TIMEOUT = 2.0
RUNNING_AGENT_HINT = ("if kiosk-agent is running it may hold the device: sudo systemctl stop kiosk-agent, "
                      "run doctor again, then sudo systemctl start kiosk-agent")


# ---- display ------------------------------------------------------------------------

def _open_bus(port: int):
    from smbus2 import SMBus

    return SMBus(port)


def check_display(cfg, open_bus=None) -> Result:
    """The OLED's address answers on the I2C bus (a read: the panel's picture is not touched)."""
    d = cfg.display
    if d.driver == "none":
        return Result("display", SKIP, 'display.driver = "none"')
    if d.driver == "png":
        return Result("display", SKIP, 'display.driver = "png": no hardware')
    where = f"I2C bus {d.i2c_port} address 0x{d.address:02X}"
    try:
        bus = (open_bus or _open_bus)(d.i2c_port)
    except ImportError:
        return Result("display", SKIP, NOT_IN_BUILD)
    except FileNotFoundError:
        return Result("display", FAIL, f"/dev/i2c-{d.i2c_port} missing",
                      "enable I2C: dtparam=i2c_arm=on in config.txt and the i2c-dev module, then reboot")
    except OSError as e:
        return Result("display", FAIL, f"I2C bus {d.i2c_port}: {e.strerror or e}",
                      "run doctor as root or a member of the i2c group")
    try:
        bus.read_byte(d.address)
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.EREMOTEIO, errno.EIO):
            return Result("display", FAIL, f"no device answers at {where}",
                          "check the OLED's wiring (SDA GPIO2, SCL GPIO3, 3.3 V, GND) and display.address "
                          "(0x3C or 0x3D; i2cdetect -y 1 lists what answers)")
        return Result("display", FAIL, f"{where}: {e.strerror or e}", "check the OLED's wiring")
    finally:
        try:
            bus.close()
        except Exception:
            pass
    return Result("display", OK, f"{d.driver} answers at {where}")


# ---- gpio ---------------------------------------------------------------------------

def check_gpio(cfg, pin_factory=None, agent_running: bool = False) -> Result:
    """The board's front-panel pins can be claimed (then released at once)."""
    if cfg.gpio is None:
        return Result("gpio", SKIP, "no [gpio] table")
    try:
        import boards
        from hal.errors import DeviceError
        from hal.gpio import PanelParts, open_pin_factory
    except ImportError:
        return Result("gpio", SKIP, NOT_IN_BUILD)
    try:
        board = boards.resolve(cfg.gpio)
    except boards.BoardError as e:
        return Result("gpio", FAIL, reason(e), "fix the [gpio] table (board name, pin numbers)")
    factory = pin_factory
    try:
        factory = factory or open_pin_factory(board.pin_factories)
        PanelParts(board.pins, factory).close()
    except DeviceError as e:
        if agent_running:
            return Result("gpio", SKIP, f"board {board.name}: pins held by the running agent "
                          "(stop it to test them: sudo systemctl stop kiosk-agent)")
        return Result("gpio", FAIL, f"board {board.name}: {reason(e)}",
                      f"another program holds these pins; {RUNNING_AGENT_HINT}")
    finally:
        if pin_factory is None and factory is not None:
            factory.close()  # release the GPIO chip for the agent
    pins = ", ".join(f"{role} {pin}" for role, pin in board.pins.items())
    return Result("gpio", OK, f"board {board.name}: pins free ({pins})")
