"""`kiosk-agent sim terminal [--port N] [--mode M]`: serve a simulated payment terminal until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from sim.serving import serve_until_signalled
from sim.terminal.server import TerminalSimulator


def run(args) -> int:
    try:
        sim = TerminalSimulator(args.host, args.port, mode=args.mode).start()
    except OSError as e:
        print(f"kiosk-agent sim terminal: cannot listen: {e}", file=sys.stderr)
        return 1
    serve_until_signalled(sim.stop, f"port={sim.port}")
    return 0
