"""Doctor: the printer answers DLE EOT; ``--print-test`` prints a short receipt.

While an agent runs it owns the printer: both go through it (``agent.doctor.owner``); the
port is opened here only when no agent runs.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

from agent.devices.printer.jobdata import print_data
from agent.doctor import FAIL, NOT_IN_BUILD, OK, SKIP, Result, owner, reason


def add_arguments(parser) -> None:
    parser.add_argument("--print-test", action="store_true", help="also print a short test receipt")


def check(cfg, options) -> Iterator[Result]:
    """The printer's line, then the test receipt's when asked for."""
    printer = check_through_agent(cfg) or check_printer(cfg)
    yield printer
    if getattr(options, "print_test", False):
        if printer.status == OK:
            yield print_test_through_agent(cfg, test_receipt_text()) or print_test_receipt(cfg)
        else:
            yield Result("print-test", SKIP, "printer not ready")


def check_through_agent(cfg) -> Result | None:
    if cfg.printer is None:
        return None
    return owner.check(cfg, "printer", cfg.printer.port,
                  f"check the printer's power and cable, printer.port and printer.baudrate ({cfg.printer.baudrate})")


def print_test_through_agent(cfg, text: str) -> Result | None:
    """The test receipt as a print job of the agent's printer (queued behind its work)."""
    answer = owner.job(cfg, "print-test", "print_document", print_data("text/plain", text.encode()), owner.JOB_SLACK)
    if answer is None or isinstance(answer, Result):
        return answer
    if answer.status == "done":
        return Result("print-test", OK, f"test receipt {answer.detail} by {owner.by(answer)}: check it is readable")
    return Result("print-test", FAIL, answer.detail, "see the printer line above")



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
