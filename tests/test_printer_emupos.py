"""Proof against emupos, an independent ESC/POS emulator: what it renders is what we rasterized.

Four documents (the registration card PDF, a long text receipt, the kiosk's
welcome slip and folio) go through each transport into emupos, and its PNG is
compared with our own raster pixel by pixel: 0 differing pixels in the printed
area, and nothing but white below it (emupos drops trailing feeds).

Transports: tcp:// (emupos's TCP port), a tty (emupos's pty), and a path that is
not a tty. For the last we have no USB gadget; the stand-in is a regular file
(read-write, not a tty, answers nothing: the status-less case) whose bytes are
relayed to emupos after the job, plus the same descriptor code over one end of
a Unix socketpair relayed both ways to emupos, so status answers come back the
way a USB printer-class device gives them.

Faults (paper near end, paper out, cover open) are set through emupos's control API.
"""

from __future__ import annotations

import socket
import threading
from types import SimpleNamespace

import pytest
from PIL import Image, ImageChops

from agent.devices.printer.handler import render
from hal.errors import DeviceError
from hal.printer import escpos
from hal.printer.port import PrinterPort
from hal.printer.transport import FileLink
from tests.emupos_harness import EmuPos, ensure_venv

CFG = SimpleNamespace(width_dots=576, max_pages=5, max_length_mm=2000.0, band_height=24)


@pytest.fixture(scope="session")
def emupos_exe():
    exe, why = ensure_venv()
    if exe is None:
        print(f"SKIP emupos: {why}")
        pytest.skip(why)
    return exe


@pytest.fixture(scope="module")
def emupos(emupos_exe, tmp_path_factory):
    try:
        emu = EmuPos(emupos_exe, tmp_path_factory.mktemp("emupos"))
    except RuntimeError as e:
        print(f"SKIP emupos: {e}")
        pytest.skip(str(e))
    yield emu
    emu.stop()


def _long_receipt() -> bytes:
    lines = ["HOTEL BEAU SEJOUR - BAR", "Table 12   Server: Ana", "-" * 32]
    for i in range(40):
        lines.append(f"{i + 1:2d} x Espresso doppio{'':4s}{(i + 1) * 2.8:8.2f}")
    lines += ["-" * 32, f"TOTAL EUR{'':15s}{sum((i + 1) * 2.8 for i in range(40)):8.2f}", "Merci, à bientôt !"]
    return "\n".join(lines).encode()


def _documents():
    from agent.kiosk.receipts import folio, welcome_slip
    from sim.printer.sample import registration_card_pdf

    slip = welcome_slip(hotel="Hotel Beau Séjour", guest="Zoë Müller", room="204", floor="2",
                        arrival="2026-12-05T15:00", departure="2026-12-07T11:00",
                        lines=["Breakfast 7:00-10:30", "Wi-Fi: BeauSejour"], qr_url="https://example.org/k/204")
    fol = folio(hotel="Hotel Beau Séjour", guest="Zoë Müller", number="R-10452", room="204",
                items=[{"date": "2026-12-05", "name": "Night", "amount": {"Currency": "EUR", "Value": 148}},
                       {"date": "2026-12-06", "name": "Minibar", "amount": {"Currency": "EUR", "Value": 7.5}}],
                balance={"Currency": "EUR", "Value": 0}, printed_at="2026-12-07 10:02")
    return {
        "registration card": ("application/pdf", registration_card_pdf()),
        "long receipt": ("text/plain", _long_receipt()),
        "kiosk slip": ("image/png", slip),
        "folio": ("image/png", fol),
    }


@pytest.fixture(scope="module")
def jobs():
    return {name: render(CFG, mime, data) for name, (mime, data) in _documents().items()}


def differing_pixels(ours: Image.Image, png_path) -> int:
    """Pixels that differ in the printed area, plus any ink of ours emupos did not print below it."""
    with Image.open(png_path) as theirs:
        theirs = theirs.convert("1")
    assert theirs.width == ours.width, (theirs.width, ours.width)
    assert theirs.height <= ours.height, (theirs.height, ours.height)
    area = ours.convert("1").crop((0, 0, ours.width, theirs.height))
    diff = ImageChops.logical_xor(area, theirs)
    count = diff.histogram()[255]  # "1" images count their set pixels at 255
    below = ours.convert("1").crop((0, theirs.height, ours.width, ours.height))
    return count + below.histogram()[0]  # ink below what emupos printed


def print_and_compare(emupos, printer, job) -> int:
    before = emupos.receipt_count()
    assert printer.print_job(job) == 1
    return differing_pixels(job.image, emupos.next_receipt(before))


class SocketpairPrinter(escpos.EscPosPrinter):
    """The non-tty descriptor code (FileLink) over a socketpair end, relayed both ways to emupos's TCP port."""

    def __init__(self, emu, **kw):
        super().__init__("socketpair-usb-stand-in", **kw)
        self.emu = emu

    def open(self) -> PrinterPort:
        ours, theirs = socket.socketpair()
        upstream = socket.create_connection(("127.0.0.1", self.emu.tcp_port))
        for src, dst in ((theirs, upstream), (upstream, theirs)):
            threading.Thread(target=_pump, args=(src, dst), daemon=True).start()
        ours.setblocking(False)
        port = PrinterPort(self.url)
        port._link = FileLink(self.url, ours.detach(), write_timeout=5.0)
        return port


def _pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# -- rendering: 0 differing pixels on every transport ----------------------------------

def test_tcp_renders_pixel_identical(emupos, jobs):
    printer = escpos.EscPosPrinter(emupos.tcp_url, status_timeout=1.0)
    diffs = {name: print_and_compare(emupos, printer, job) for name, job in jobs.items()}
    assert diffs == {name: 0 for name in jobs}
    assert printer.answered  # emupos answers DLE EOT over TCP


def test_the_comparison_sees_one_pixel(emupos, jobs, tmp_path):
    job = jobs["kiosk slip"]
    emupos_png = tmp_path / "theirs.png"
    theirs = job.image.convert("1").copy()
    theirs.putpixel((100, 10), 0 if theirs.getpixel((100, 10)) else 255)
    theirs.save(emupos_png)
    assert differing_pixels(job.image, emupos_png) == 1


def test_pty_renders_pixel_identical(emupos, jobs):
    printer = escpos.EscPosPrinter(str(emupos.pty_link), baudrate=115200, row_time_ms=0.0, status_timeout=1.0)
    diffs = {name: print_and_compare(emupos, printer, job) for name, job in jobs.items()
             if name in ("kiosk slip", "folio")}  # the pty is paced: two documents keep the test short
    assert diffs == {"kiosk slip": 0, "folio": 0}
    assert printer.answered


def test_non_tty_file_relayed_renders_pixel_identical(emupos, jobs, tmp_path):
    lp = tmp_path / "lp0"
    lp.write_bytes(b"")
    printer = escpos.EscPosPrinter(str(lp), status_timeout=0.2)
    job = jobs["registration card"]
    assert printer.print_job(job) == 1  # status-less: it prints
    assert not printer.answered
    before = emupos.receipt_count()
    emupos.send_tcp(lp.read_bytes())
    assert differing_pixels(job.image, emupos.next_receipt(before)) == 0


def test_non_tty_descriptor_with_status_renders_and_reads_paper(emupos, jobs):
    printer = SocketpairPrinter(emupos, status_timeout=1.0)
    assert print_and_compare(emupos, printer, jobs["kiosk slip"]) == 0
    assert printer.answered
    emupos.fault("paper-near-end")
    try:
        assert printer.status().paper == "low"
    finally:
        emupos.fault("paper-near-end", False)


# -- faults through emupos's control -------------------------------------------------------

def test_paper_near_end_out_and_cover_open_from_emupos(emupos, jobs):
    seen = []
    printer = escpos.EscPosPrinter(emupos.tcp_url, status_timeout=1.0)
    printer.on_status = seen.append
    job = jobs["kiosk slip"]
    emupos.fault("paper-near-end")
    try:
        assert print_and_compare(emupos, printer, job) == 0  # near end still prints
        assert seen[-1].paper == "low"
    finally:
        emupos.fault("paper-near-end", False)
    before = emupos.receipt_count()
    for fault, words in (("paper-out", "out of paper"), ("cover-open", "cover open")):
        emupos.fault(fault)
        try:
            with pytest.raises(DeviceError, match=words) as e:
                printer.print_job(job)
            assert e.value.retryable
        finally:
            emupos.fault(fault, False)
    assert seen[-1].paper in ("ok", "out")
    assert emupos.receipt_count() == before  # nothing was sent while it could not print
    assert printer.status().paper == "ok"


# -- the running agent: status --json, STATUS=, one staff task per roll -------------------

def test_running_agent_reports_paper_low_once_per_roll(emupos, tmp_path, capsys):
    import argparse
    import json

    from agent.commands import status as status_cmd
    from sim.mews import MewsSimulator
    from sim.printer.sample import registration_card_pdf
    from tests.agent_harness import AgentThread, final_state, wait_until, write_config

    def paper_tasks(sim):
        return [t["Name"] for t in sim.enterprise.tasks if "paper" in t["Name"]]

    def status_json(path):
        status_cmd.main(argparse.Namespace(config=str(path), json=True))
        return json.loads(capsys.readouterr().out)

    extra = (f'\n[printer]\nport = "{emupos.tcp_url}"\nwidth_dots = 576\n'
             'status_interval = 1.0\nstatus_timeout = 0.5\n')
    with MewsSimulator(rate_limit=False) as sim:
        path = write_config(tmp_path, sim, log_types=(), extra=extra)
        with AgentThread(path) as agent:
            before = emupos.receipt_count()
            cid = sim.add_printer_command(registration_card_pdf())
            wait_until(lambda: final_state(sim, cid), timeout=20)
            assert sim.command(cid)["State"] == "Processed"
            emupos.next_receipt(before)
            wait_until(lambda: agent.health.devices["printer"].paper == "ok", what="paper ok")
            emupos.fault("paper-near-end")
            try:
                wait_until(lambda: paper_tasks(sim), timeout=10, what="paper-low task")
                assert paper_tasks(sim) == [f"Printer at kiosk {socket.gethostname()}: paper low"]
                assert "printer paper low" in agent.status_line()
                wait_until(lambda: status_json(path)["devices"]["printer"]["paper"] == "low", timeout=10,
                           what="status --json paper low")
                agent.companions[0]._wake.set()  # another status read on the same roll raises nothing more
                wait_until(lambda: agent.health.devices["printer"].paper == "low")
                assert len(paper_tasks(sim)) == 1
            finally:
                emupos.fault("paper-near-end", False)
            wait_until(lambda: agent.health.devices["printer"].paper == "ok", timeout=10, what="new roll")
            emupos.fault("paper-near-end")
            try:
                wait_until(lambda: len(paper_tasks(sim)) == 2, timeout=10, what="the next roll's task")
            finally:
                emupos.fault("paper-near-end", False)
