"""Our virtual printer's finite roll (near end before out) and Custom-style presenter; the agent's handling.

The agent talks to the virtual printer over tcp:// (its raw-TCP mode).
"""

from __future__ import annotations

import pytest

from agent.devices.printer.paper_watch import PaperWatch
from agent.runtime.health import Health
from hal.errors import DeviceError
from hal.printer import escpos
from hal.printer.presenter import FullStatus
from sim.printer.mechanism import Mechanism
from sim.printer.virtual import VirtualPrinter
from tests.printer_harness import small_job


@pytest.fixture
def vp():
    with VirtualPrinter(width_dots=384, tcp=True) as printer:
        yield printer


def test_finite_roll_trips_near_end_before_out_and_a_new_roll_clears_it():
    mech = Mechanism(384)
    mech.set_state(paper_rows=1000, near_end_rows=300)
    job = escpos.encode_raster(small_job().image)
    assert mech.status_byte(4) & 0x0C == 0
    while not mech.paper_near_end:
        mech.feed_bytes(job.to_bytes() + b"\x1dVB\x00")
    assert mech.status_byte(4) & 0x6C == 0x0C and not mech.paper_out  # near end, paper still there
    mech.set_state(paper_rows=5000)
    assert not mech.paper_near_end


def test_demo_roll_running_low_shows_paper_low(vp, tmp_path):
    vp.set_state(paper_rows=330, near_end_rows=250)
    health, tasks = Health(connection="online"), []
    printer = escpos.EscPosPrinter(vp.tcp_url, status_timeout=0.5)
    PaperWatch(printer, health, tmp_path, lambda *a: tasks.append(a[0]), kiosk="demo")
    printer.print_job(small_job())
    assert health.devices["printer"].paper == "ok"
    printer.print_job(small_job())  # 60 rows each: 330 -> 270 -> 210, below 250
    assert health.devices["printer"].paper == "low"


def test_full_status_parse():
    st = FullStatus.parse(bytes((0x10, 0x0F, 0x24, 0, 0, 0)))
    assert st.ticket_in_output and st.paper_near_end and not st.paper_out
    assert FullStatus.parse(b"\x12") is None


def test_presenter_wait_holds_the_next_job_until_the_receipt_is_taken(vp):
    vp.set_state(presenter=True)
    printer = escpos.EscPosPrinter(vp.tcp_url, presenter="wait", status_timeout=0.5)
    assert printer.print_job(small_job()) == 1
    assert vp.state["ticket_in_output"]
    with pytest.raises(DeviceError, match="not taken") as e:
        printer.print_job(small_job())
    assert e.value.retryable and len(vp.receipts) == 1
    vp.set_state(ticket_taken=True)
    assert printer.print_job(small_job()) == 1
    assert vp.wait_receipts(2)


def test_presenter_retract_takes_the_receipt_back_and_prints(vp):
    vp.set_state(presenter=True)
    printer = escpos.EscPosPrinter(vp.tcp_url, presenter="retract", status_timeout=0.5)
    printer.print_job(small_job())
    printer.print_job(small_job())
    assert vp.state["retracted"] == 1 and vp.wait_receipts(2)


def test_presenter_setting_on_a_printer_without_one_prints(vp):
    printer = escpos.EscPosPrinter(vp.tcp_url, presenter="wait", status_timeout=0.2)
    assert printer.print_job(small_job()) == 1
    assert printer.print_job(small_job()) == 1
