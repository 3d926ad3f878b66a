"""Paper low/out as a health state (status --json, STATUS=, OLED) and one staff task per roll.

The printer is a real EscPosPrinter over tcp:// to a loopback stand-in whose
paper sensor byte the test sets (the emupos proof drives the same through its
fault control in test_printer_emupos.py).
"""

from __future__ import annotations

from datetime import datetime, timezone

from agent.panel import screens
from agent.devices.printer.paper_watch import PaperWatch
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.health import IDLE, Health
from hal.printer import escpos
from tests.printer_harness import NEAR_END, OK_BYTE, PAPER_OUT, small_job, tcp_printer  # noqa: F401


class Tasks:
    def __init__(self):
        self.names: list[str] = []
        self.fail = False

    def __call__(self, name, deadline, description):
        if self.fail:
            raise OSError("platform away")
        self.names.append(name)


def watch(printer, health, state_dir, tasks):
    return PaperWatch(printer, health, state_dir, tasks, kiosk="lobby-1", interval=60.0,
                      utc_now=lambda: datetime(2026, 12, 6, tzinfo=timezone.utc))


def test_paper_states_reach_health_status_line_and_oled(tcp_printer, tmp_path):
    health = Health(connection="online")
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.3)
    w = watch(printer, health, tmp_path, Tasks())
    assert health.to_json()["devices"]["printer"]["paper"] == "unknown"  # never answered yet
    tcp_printer.answers[4] = NEAR_END
    printer.poll()
    assert health.to_json()["devices"]["printer"]["paper"] == "low"
    assert "printer paper low" in health.status_line()
    assert screens.choose(health, 0.0).name == "paper"
    tcp_printer.answers[4] = PAPER_OUT
    printer.poll()
    assert health.devices["printer"].paper == "out" and "printer paper out" in health.status_line()
    tcp_printer.answers[4] = OK_BYTE
    printer.poll()
    assert health.devices["printer"].paper == "ok" and "paper" not in health.status_line()
    assert screens.choose(health, 0.0).name == "online"
    assert w.paper == "ok"


def test_one_task_per_roll_kept_across_a_restart(tcp_printer, tmp_path):
    health, tasks = Health(), Tasks()
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.3)
    w = watch(printer, health, tmp_path, tasks)
    tcp_printer.answers[4] = NEAR_END
    printer.print_job(small_job())  # status before and after the job: both say low
    tasks.fail = True
    assert not w.raise_task()  # the platform is away: tried again later, not lost
    tasks.fail = False
    assert w.raise_task() and tasks.names == ["Printer at kiosk lobby-1: paper low"]
    printer.poll()
    assert not w._task_due  # the same roll: nothing more to raise

    # a restart on the same roll raises nothing
    printer2 = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.3)
    w2 = watch(printer2, Health(), tmp_path, tasks)
    printer2.poll()
    assert not w2._task_due and len(tasks.names) == 1

    # a new roll: ok, then the next near end raises a new task
    tcp_printer.answers[4] = OK_BYTE
    printer2.poll()
    tcp_printer.answers[4] = NEAR_END
    printer2.poll()
    assert w2._task_due and w2.raise_task() and len(tasks.names) == 2


def test_a_status_less_printer_is_unknown_never_out(tcp_printer, tmp_path):
    tcp_printer.silent = True
    health, tasks = Health(), Tasks()
    printer = escpos.EscPosPrinter(tcp_printer.url, status_timeout=0.1)
    watch(printer, health, tmp_path, tasks)
    assert printer.print_job(small_job()) == 1
    assert health.devices["printer"].paper == "unknown" and not tasks.names


def test_device_state_changes_keep_the_paper_state(tmp_path):
    class Handler:
        name = "printer"

    health = Health()
    d = Dispatcher.__new__(Dispatcher)  # only device_state is exercised: it needs nothing but health
    d.health = health
    d.device_state(Handler, IDLE)
    health.devices["printer"].paper = "low"
    d.device_state(Handler, "busy", "printing copy 1 of 1")
    assert health.devices["printer"].paper == "low"
