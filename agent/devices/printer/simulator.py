"""``kiosk-agent sim printer``: the printer simulator's command line (the simulator is in the sim extra)."""

from __future__ import annotations

from agent.devices.kind import Simulator


def _printer_arguments(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pty", action="store_true", help="listen on a new pty (default)")
    g.add_argument("--port", type=int, default=None, help="listen on this TCP port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--out", default="printer-output", help="folder for receipt PNGs")
    p.add_argument("--width-dots", type=int, default=384)
    p.add_argument("--paper-rows", type=int, default=None, help="dot rows on the roll (default: endless)")
    p.add_argument("--near-end-rows", type=int, default=None,
                   help="the near-end sensor trips when this many rows are left")
    p.add_argument("--presenter", action="store_true",
                   help="a Custom-style presenter: a receipt waits in the mouth (DLE EOT 20) until taken")


SIMULATORS = (
    Simulator("printer", "sim.printer.cli", "virtual ESC/POS printer on a pty or TCP port; receipts as PNG", _printer_arguments),
)
