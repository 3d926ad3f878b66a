"""Driver -> virtual printer over real channels (pty, TCP): pixels, status, unplug, timeouts, CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from hal.errors import DeviceDisconnected, DeviceError
from hal.printer import escpos, raster
from sim.printer.sample import registration_card_pdf
from sim.printer.virtual import VirtualPrinter

FAST = dict(baudrate=921600, row_time_ms=0.0)  # paced, but quick enough for tests


@pytest.fixture(scope="module")
def card():
    return raster.rasterize("application/pdf", registration_card_pdf(), 384)


@pytest.mark.parametrize("tcp", [False, True], ids=["pty", "tcp"])
def test_printed_png_is_pixel_identical_to_the_rasterized_image(tmp_path, card, tcp):
    with VirtualPrinter(out_dir=tmp_path, tcp=tcp) as vp:
        printer = escpos.EscPosPrinter(vp.url, **FAST)
        assert printer.print_job(printer.encode(card), 2) == 2
        assert vp.wait_receipts(2)
    assert [p.name for p in vp.receipt_paths] == ["receipt-0001.png", "receipt-0002.png"]
    for path in vp.receipt_paths:
        with Image.open(path) as png:
            assert png.size == card.size
            assert png.convert("1").tobytes() == card.tobytes()
    assert vp.unknown_commands == []
    assert vp.mechanism.cuts == 2


def test_receipt_numbering_continues_in_an_existing_folder(tmp_path, card):
    (tmp_path / "receipt-0007.png").write_bytes(b"old")
    with VirtualPrinter(out_dir=tmp_path) as vp:
        printer = escpos.EscPosPrinter(vp.url, **FAST)
        printer.print_job(printer.encode(card), 1)
    assert vp.receipt_paths == [tmp_path / "receipt-0008.png"]
    assert (tmp_path / "receipt-0007.png").read_bytes() == b"old"


@pytest.mark.parametrize("state,word", [({"paper_out": True}, "paper"), ({"cover_open": True}, "cover")])
def test_status_problem_stops_the_job_before_printing(card, state, word):
    with VirtualPrinter() as vp:
        vp.set_state(**state)
        printer = escpos.EscPosPrinter(vp.url, **FAST)
        with pytest.raises(DeviceError) as e:
            printer.print_job(printer.encode(card), 1)
        assert e.value.retryable and word in str(e.value)
        assert vp.bytes_received == 9  # only the status queries (DLE EOT 1, 2, 4) went out
        vp.set_state(**{k: False for k in state})
        assert printer.status().ready
        printer.print_job(printer.encode(card), 1)
        assert len(vp.receipts) == 1


def test_paper_running_out_mid_copy_is_detected_after_that_copy(card):
    with VirtualPrinter() as vp:
        vp.set_state(paper_rows=card.height + card.height // 2)  # copy 2 runs out half way
        printer = escpos.EscPosPrinter(vp.url, **FAST)
        done = []
        with pytest.raises(DeviceError, match="paper"):
            printer.print_job(printer.encode(card), 3, after_copy=done.append)
        assert done == [1] and len(vp.receipts) == 1
        assert vp.state["paper_out"]


def test_unplug_mid_job_is_an_error_not_a_hang_and_replug_is_picked_up(tmp_path, card):
    link = tmp_path / "printer"  # like /dev/serial/by-id/...: the name stays, the device changes
    first = VirtualPrinter().start()
    link.symlink_to(first.path)
    printer = escpos.EscPosPrinter(str(link), **FAST)
    job = printer.encode(card)

    def unplug(k):
        if k == 2:
            first.stop()
    start = time.monotonic()
    with pytest.raises(DeviceDisconnected) as e:
        printer.print_job(job, 3, before_copy=unplug)
    assert e.value.retryable and time.monotonic() - start < 10
    with pytest.raises(DeviceDisconnected):
        printer.status()  # still unplugged
    with VirtualPrinter() as second:  # plugged in again
        link.unlink()
        link.symlink_to(second.path)
        assert printer.print_job(job, 1) == 1
        assert second.receipts[0].tobytes() == card.tobytes()


def test_printer_holding_off_hits_the_write_timeout(card):
    with VirtualPrinter() as vp:
        printer = escpos.EscPosPrinter(vp.url, flow_control="xonxoff", write_timeout=0.3, status_query=False)
        vp.hold()
        start = time.monotonic()
        with pytest.raises(DeviceError) as e:
            printer.print_job(printer.encode(card), 40)  # far more than any pty buffer holds
        assert "stopped accepting data" in str(e.value) and e.value.retryable
        assert time.monotonic() - start < 10
        vp.hold(False)


def test_network_printer_answers_status_over_tcp():
    with VirtualPrinter(tcp=True) as vp:
        vp.set_state(paper_near_end=True)
        status = escpos.EscPosPrinter(vp.url).status()
        assert status.ready and status.paper_near_end
        assert vp.url.startswith("socket://127.0.0.1:")


def test_heat_settings_reach_the_printer(card):
    with VirtualPrinter() as vp:
        printer = escpos.EscPosPrinter(vp.url, heat_settings=(7, 80, 2), **FAST)
        printer.print_job(printer.encode(card), 1)
        assert vp.mechanism.heat == (7, 80, 2)


def test_cut_none_feeds_past_the_tear_bar_and_the_paper_ends_up_in_one_receipt(card):
    with VirtualPrinter() as vp:
        printer = escpos.EscPosPrinter(vp.url, cut="none", **FAST)
        printer.print_job(printer.encode(card), 2)
    assert len(vp.receipts) == 1  # no cut: written when the printer stops
    assert vp.receipts[0].height == 2 * (card.height + escpos.TEAR_FEED_ROWS)


def test_text_mode_bytes_from_other_software_still_print():
    with VirtualPrinter() as vp:
        fd = os.open(vp.path, os.O_WRONLY | os.O_NOCTTY)
        os.write(fd, b"\x1b@Hello from a shell\n\x1bd\x02\x1dVB\x00")
        os.close(fd)
        assert vp.wait_receipts(1)
        img = vp.receipts[0]
        assert img.height == 30 + 2 * 30 and img.convert("L").histogram()[0] > 0


def test_cli_prints_the_pty_first_and_toggles_paper_out_by_signal(tmp_path, card):
    proc = subprocess.Popen([sys.executable, "-m", "agent", "sim", "printer", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/")
        printer = escpos.EscPosPrinter(path, **FAST)
        printer.print_job(printer.encode(card), 1)
        assert proc.stdout.readline().strip() == str(tmp_path / "receipt-0001.png")
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not printer.status().paper_out:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with Image.open(tmp_path / "receipt-0001.png") as png:
        assert png.convert("1").tobytes() == card.tobytes()


def test_cli_tcp_announces_the_port(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "agent", "sim", "printer", "--port", "0", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("port=") and int(line[5:]) > 0
        assert escpos.EscPosPrinter(f"socket://127.0.0.1:{line[5:]}").status().ready
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
