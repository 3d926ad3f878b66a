"""``kiosk-agent sim encoder``: the encoder simulator's command line (the simulator is in the sim extra)."""

from __future__ import annotations

from agent.devices.kind import Simulator


def _encoder_arguments(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pty", action="store_true", help="listen on a new pty (default)")
    g.add_argument("--port", type=int, default=None, help="listen on this TCP port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--log", default=None, help="JSONL file of keys issued")
    p.add_argument("--card-delay", type=float, default=0.5, help="seconds until a card is presented")


SIMULATORS = (
    Simulator("encoder", "sim.encoder.cli", "virtual key-card encoder (PMS Industry Standard) on a pty or TCP port", _encoder_arguments),
)
