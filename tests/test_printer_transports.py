"""Printer transports (tcp://, a non-tty path, ttys), exclusive use, status-less vs offline printers.

Real channels only: a loopback TCP printer stand-in that answers DLE EOT, a
regular file as a path that is not a tty, ptys. The emupos proof is in
test_printer_emupos.py.
"""

from __future__ import annotations

import fcntl
import os
import socket

import pytest

from agent.config import parse
from agent.config.ports import port_problem
from hal.errors import DeviceDisconnected
from hal.printer import escpos
from hal.printer.port import PrinterPort

from tests.printer_harness import NEAR_END, PAPER_OUT, small_job, tcp_printer  # noqa: F401 (a fixture)


def expected_bytes(job, cut="partial") -> bytes:
    return escpos.INIT + job.to_bytes() + escpos.CUTS[cut]


# -- config --------------------------------------------------------------------

def test_printer_port_accepts_tcp_in_config():
    cfg = parse('[mews]\nplatform_address = "http://127.0.0.1:1"\nclient_token = "c"\naccess_token = "a"\n'
                '[printer]\nport = "tcp://192.168.1.50:9100"\n')
    assert cfg.printer.port == "tcp://192.168.1.50:9100"
    assert "tcp://HOST:PORT" in port_problem("tcp://printer", tcp=True)
    assert port_problem("tcp://192.168.1.50:9100") is not None  # an encoder is never on tcp://


# -- tcp:// ----------------------------------------------------------------------

def test_tcp_printer_prints_and_answers_status(tcp_printer):
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.5)
    job = small_job()
    assert printer.print_job(job) == 1
    assert printer.answered
    printer.status()  # one more connection: the first one is closed, so all bytes arrived
    assert bytes(tcp_printer.received) == expected_bytes(job)


def test_tcp_printer_paper_near_end_and_out(tcp_printer):
    seen = []
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.5)
    printer.on_status = seen.append
    tcp_printer.answers[4] = NEAR_END
    assert printer.print_job(small_job()) == 1  # near end still prints
    assert {s.paper for s in seen} == {"low"}
    tcp_printer.answers[4] = PAPER_OUT
    with pytest.raises(escpos.DeviceError, match="out of paper") as e:
        printer.print_job(small_job())
    assert e.value.retryable and seen[-1].paper == "out"


def test_tcp_printer_that_never_answers_is_status_less_and_prints(tcp_printer):
    tcp_printer.silent = True
    seen = []
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.1)
    printer.on_status = seen.append
    job = small_job()
    assert printer.print_job(job) == 1  # never a false paper-out
    assert seen and all(s is None for s in seen) and not printer.answered


def test_printer_that_answered_then_went_silent_is_offline_and_jobs_wait(tcp_printer):
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.1)
    printer.print_job(small_job())
    tcp_printer.silent = True
    with pytest.raises(DeviceDisconnected, match="offline") as e:
        printer.print_job(small_job())
    assert e.value.retryable


def test_tcp_printer_absent_is_retryable():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(DeviceDisconnected) as e:
        escpos.EscPosPrinter(f"tcp://127.0.0.1:{port}").print_job(small_job())
    assert e.value.retryable and "printer.port" in str(e.value)


# -- a path that is not a tty (USB printer class) -----------------------------------

def test_non_tty_path_prints_and_is_status_less(tmp_path):
    lp = tmp_path / "lp0"  # a regular file: read-write, not a tty, answers nothing (EOF)
    lp.write_bytes(b"")
    printer = escpos.EscPosPrinter(str(lp), status_timeout=0.2)
    job = small_job()
    assert printer.print_job(job) == 1
    assert lp.read_bytes().replace(b"\x10\x04\x01", b"") == expected_bytes(job)
    assert not printer.answered


def test_non_tty_path_in_use_by_another_process(tmp_path):
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    other = os.open(lp, os.O_RDWR)  # another open file description: flock conflicts as across processes
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DeviceDisconnected, match="in use by another process.*printer.port"):
            escpos.EscPosPrinter(str(lp)).print_job(small_job())
    finally:
        os.close(other)


def test_tty_is_held_exclusively():
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        with PrinterPort(path):
            with pytest.raises(DeviceDisconnected, match="in use by another process"):
                PrinterPort(path).open()
    finally:
        os.close(master)
        os.close(slave)


# -- doctor ----------------------------------------------------------------------------

def test_doctor_calls_a_silent_usb_or_network_printer_status_less(tcp_printer, tmp_path):
    from agent.doctor import OK
    from agent.devices.printer.doctor import check_printer

    tcp_printer.silent = True
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    for port in (tcp_printer.url, str(lp)):
        cfg = parse('[mews]\nplatform_address = "http://127.0.0.1:1"\nclient_token = "c"\naccess_token = "a"\n'
                    f'[printer]\nport = "{port}"\nstatus_timeout = 0.1\n')
        result = check_printer(cfg)
        assert result.status == OK and "status-less" in result.detail, result


def test_a_one_shot_printer_knows_the_port_answered_before(tcp_printer):
    # POS receipts print through a fresh EscPosPrinter each time: a printer gone silent is offline for it too
    escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.1).print_job(small_job())
    tcp_printer.silent = True
    with pytest.raises(DeviceDisconnected, match="offline"):
        escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.1).print_job(small_job())
