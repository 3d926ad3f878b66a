"""Device checks: printer (DLE EOT), encoder (ENQ), OLED (I2C address), GPIO pins.

Only status queries go to the devices; ``print_test_receipt`` and ``read_card``
run when the technician asks for them.
"""

from __future__ import annotations

import errno
import socket
import time

from agent.doctor import FAIL, NOT_IN_BUILD, OK, SKIP, Result, reason

ENQ_TIMEOUT = 2.0
RUNNING_AGENT_HINT = ("if kiosk-agent is running it may hold the device: sudo systemctl stop kiosk-agent, "
                      "run doctor again, then sudo systemctl start kiosk-agent")


# ---- printer ------------------------------------------------------------------------

def _printer(cfg):
    from hal.printer.escpos import EscPosPrinter

    return EscPosPrinter.from_settings(cfg.printer)


def check_printer(cfg) -> Result:
    """The port opens and the printer answers DLE EOT 1/2/4 with a ready status."""
    if cfg.printer is None:
        return Result("printer", SKIP, "no [printer] table")
    try:
        from hal.errors import DeviceDisconnected, DeviceError

        printer = _printer(cfg)
    except ImportError:
        return Result("printer", SKIP, NOT_IN_BUILD)
    port = cfg.printer.port
    try:
        status = printer.status()
    except DeviceDisconnected as e:
        from hal.printer.escpos import NoStatusAnswer
        from hal.printer.transport import may_be_status_less

        if isinstance(e, NoStatusAnswer) and may_be_status_less(port):
            # a USB or network printer without a back channel: it prints, the agent cannot see its paper
            return Result("printer", OK, f"{port}: opens, answers no status (status-less: prints, paper unknown)")
        return Result("printer", FAIL, reason(e),
                      f"check the printer's power and cable, printer.port ({port}) and printer.baudrate "
                      f"({cfg.printer.baudrate})")
    except DeviceError as e:
        return Result("printer", FAIL, reason(e), f"check printer.baudrate ({cfg.printer.baudrate}) "
                      "against the printer's self-test page")
    if not status.ready:
        return Result("printer", FAIL, f"{port}: {status.describe()}", status.problem)
    return Result("printer", OK, f"{port}: {status.describe()}")


def test_receipt_text() -> str:
    import agent

    return (f"kiosk-agent {agent.__version__}\nprinter test from doctor\n{socket.gethostname()}\n"
            f"{time.strftime('%Y-%m-%d %H:%M')}\n")


def print_test_receipt(cfg) -> Result:
    """Print a short test receipt (only with --print-test)."""
    try:
        from hal.errors import DeviceError, InvalidInput
        from hal.printer.text import render_text

        printer = _printer(cfg)
    except ImportError:
        return Result("print-test", SKIP, NOT_IN_BUILD)
    text = test_receipt_text()
    try:
        job = printer.encode(render_text(text, cfg.printer.width_dots, 2000))
        printer.print_job(job, 1)
    except (DeviceError, InvalidInput) as e:
        return Result("print-test", FAIL, reason(e), "see the printer line above")
    return Result("print-test", OK, f"test receipt printed ({job.length_mm:.0f} mm): check it is readable")


# ---- encoder ------------------------------------------------------------------------

def check_encoder(cfg) -> Result:
    """The encoder port opens and the encoder answers ENQ with ACK."""
    if cfg.encoder is None:
        return Result("encoder", SKIP, "no [encoder] table")
    try:
        from hal.encoder.encoder import open_serial
        from hal.encoder.frame import ACK, ENQ, NAK
        from hal.errors import DeviceDisconnected
    except ImportError:
        return Result("encoder", SKIP, NOT_IN_BUILD)
    enc = cfg.encoder
    try:
        port = open_serial(enc.port, enc.baudrate)
    except DeviceDisconnected as e:
        return Result("encoder", FAIL, reason(e), f"check the encoder's cable and encoder.port ({enc.port})")
    answer = None
    try:
        port.reset_input_buffer()
        port.write(bytes([ENQ]))
        deadline = time.monotonic() + ENQ_TIMEOUT
        while time.monotonic() < deadline and answer not in (ACK, NAK):
            data = port.read(1)
            answer = data[0] if data else None
    except Exception as e:  # port vanished under us
        return Result("encoder", FAIL, f"{enc.port}: {reason(e)}", "check the encoder's cable")
    finally:
        try:
            port.close()
        except Exception:
            pass
    if answer == ACK:
        return Result("encoder", OK, f"{enc.port}: answers ENQ with ACK")
    if answer == NAK:
        return Result("encoder", FAIL, f"{enc.port}: answers NAK (not ready)",
                      "the encoder is busy or in an error state: remove any card, power-cycle it")
    return Result("encoder", FAIL, f"{enc.port}: no answer to ENQ within {ENQ_TIMEOUT:g} s",
                  f"check the encoder's power and cable, encoder.port and encoder.baudrate ({enc.baudrate})")


def read_card(cfg, prompt=print) -> Result:
    """Read the card in the encoder with LT (only with --read-card); writes nothing to it."""
    try:
        from hal.encoder import EncoderError, KeyEncoder
        from hal.errors import DeviceError
    except ImportError:
        return Result("read-card", SKIP, NOT_IN_BUILD)
    enc = cfg.encoder
    prompt(f"present a key card to the encoder (waiting up to {enc.reply_timeout:g} s) ...")
    encoder = KeyEncoder(enc.port, baudrate=enc.baudrate, encoder_id=enc.encoder_id,
                         reply_timeout=enc.reply_timeout)
    try:
        info = encoder.read_card()
    except (EncoderError, DeviceError) as e:
        return Result("read-card", FAIL, reason(e), "present a programmed key card and try again")
    finally:
        encoder.close()
    if not info.rooms and info.valid_until is None:
        return Result("read-card", OK, "card read: blank (no key on it)")
    rooms = ", ".join(info.rooms) or "none"
    until = info.valid_until.strftime("%Y-%m-%d %H:%M") if info.valid_until else "?"
    return Result("read-card", OK, f"card for room(s) {rooms}, valid until {until}")


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
