"""Printer transports side by side: serial at 19200 and 115200 baud, and raw TCP (``tcp://``).

The same documents as ``bench_printer`` (rendered once at 576 dots), sent for
real by ``EscPosPrinter.print_job`` to our virtual printer running as a
separate process (``kiosk-agent sim printer``), so this process's CPU time is
the agent's alone: opening the link, status before and after, writing, pacing.

- bytes: on the wire per copy (ESC @, bands, feeds, cut; status requests excluded).
- wire s: serial, bytes x 10 / baud (8N1; the pty does not enforce a baud rate,
  our pacer does, so elapsed time matches it); TCP, the time measured from
  open to the printer's last status answer (loopback: the printer's own
  processing), and bytes at 10 Mbit/s (a printer's NIC) as a floor.
- agent cpu ms: process time of print_job, best of RUNS. The goal is agent CPU
  <= 10 % of wire time on every transport. Rendering (PDF, text) is measured
  by ``bench_printer`` against python-escpos and is the same for every link.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

RUNS = 2
WIDTH = 576
BAUDS = (19200, 115200)
NIC_BITS_PER_S = 10_000_000
GOAL_CPU_SHARE = 0.10


def _sim(args: list[str], out: str) -> tuple[subprocess.Popen, str]:
    exe = os.path.join(os.path.dirname(sys.executable), "kiosk-agent")
    proc = subprocess.Popen([exe, "sim", "printer", "--out", out, "--width-dots", str(WIDTH), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = proc.stdout.readline().strip()
    return proc, first


def _best(printer, job) -> tuple[float, float]:
    """(agent cpu s, elapsed s), each the best of RUNS."""
    cpu, wall = float("inf"), float("inf")
    for _ in range(RUNS):
        c0, w0 = time.process_time(), time.perf_counter()
        printer.print_job(job)
        cpu, wall = min(cpu, time.process_time() - c0), min(wall, time.perf_counter() - w0)
    return cpu, wall


def measure(documents) -> tuple[list[list], float]:
    """Rows for the table and the worst CPU share."""
    from agent.devices.printer.handler import render
    from hal.printer import escpos
    from types import SimpleNamespace

    cfg = SimpleNamespace(width_dots=WIDTH, max_pages=5, max_length_mm=2000.0, band_height=24)
    jobs = [(name, render(cfg, mime, data)) for name, mime, data, _ in documents]
    rows, worst = [], 0.0
    with tempfile.TemporaryDirectory() as out:
        pty_proc, pty_path = _sim(["--pty"], os.path.join(out, "pty"))
        tcp_proc, port_line = _sim(["--port", "0"], os.path.join(out, "tcp"))
        try:
            tcp_url = f"tcp://127.0.0.1:{port_line.removeprefix('port=')}"
            for name, job in jobs:
                nbytes = len(escpos.INIT) + job.nbytes + len(escpos.CUTS["partial"])
                for baud in BAUDS:
                    printer = escpos.EscPosPrinter(pty_path, baudrate=baud, row_time_ms=0.0, status_timeout=2.0)
                    cpu, wall = _best(printer, job)
                    wire = nbytes * 10 / baud
                    worst = max(worst, cpu / wire)
                    rows.append([name, f"serial {baud}", nbytes, round(wire, 3), round(wall, 3),
                                 round(cpu * 1000, 1), f"{100 * cpu / wire:.2f}%"])
                printer = escpos.EscPosPrinter(tcp_url, status_timeout=2.0)
                cpu, wall = _best(printer, job)
                wire = max(wall, nbytes * 8 / NIC_BITS_PER_S)
                worst = max(worst, cpu / wire)
                rows.append([name, "tcp", nbytes, round(wire, 4), round(wall, 4),
                             round(cpu * 1000, 2), f"{100 * cpu / wire:.2f}%"])
        finally:
            for proc in (pty_proc, tcp_proc):
                proc.terminate()
                proc.wait(10)
    return rows, worst


def report(documents) -> None:
    from bench.report import table

    rows, worst = measure(documents)
    table("printer_transports",
          ["document", "transport", "bytes", "wire s", "elapsed s", "agent cpu ms", "cpu/wire"],
          rows,
          {"goal cpu": f"agent CPU <= {GOAL_CPU_SHARE:.0%} of wire time on every transport "
                       f"(worst {worst:.2%}): {'met' if worst <= GOAL_CPU_SHARE else 'MISSED'}",
           "wire": "serial: bytes x 10 / baud; tcp: elapsed from open to the last status answer "
                   "(at least bytes at 10 Mbit/s)",
           "peer": "our virtual printer in its own process (kiosk-agent sim printer --pty / --port)",
           "cpu": f"process time of print_job (open, status, write, pacing, close), best of {RUNS}"})
