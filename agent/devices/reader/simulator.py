"""``kiosk-agent sim reader``: the reader simulator's command line (the simulator is in the sim extra)."""

from __future__ import annotations

from agent.devices.kind import Simulator


def _reader_arguments(p) -> None:
    p.add_argument("--framing", default="cr", choices=("cr", "stx"), help="cr: lines ended by CR; stx: STX .. ETX")
    p.add_argument("--present", default="", help='present this every --every seconds (e.g. "passport", "qr ID")')
    p.add_argument("--every", type=float, default=5.0)


SIMULATORS = (
    Simulator("reader", "sim.reader.cli", "document reader on a pty: passports, ID cards, booking QR codes (lines on stdin)", _reader_arguments),
)
