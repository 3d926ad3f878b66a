"""`kiosk-agent sim printer [--pty | --port N] --out DIR`: a virtual ESC/POS printer.

stdout: the first line is the pty path (or ``port=N``), then one line per
receipt PNG written. Signals change the printer's state like a technician
would: SIGUSR1 toggles "paper out", SIGUSR2 toggles "cover open".
SIGINT/SIGTERM stop it (pending paper is written as a last receipt).
"""

from __future__ import annotations

import signal
import sys

from sim.serving import serve_until_signalled


def run(args) -> int:
    from sim.printer.virtual import VirtualPrinter

    def announce(image, path):
        print(path if path is not None else f"receipt {image.width}x{image.height}", flush=True)

    tcp = args.port is not None
    vp = VirtualPrinter(width_dots=args.width_dots, out_dir=args.out, tcp=tcp, host=args.host,
                        port=args.port or 0, on_receipt=announce)
    try:
        vp.start()
    except OSError as e:
        print(f"sim printer: cannot listen: {e}", file=sys.stderr)
        return 1
    print(f"sim printer: {vp.url}, {args.width_dots} dots, receipts in {args.out}; "
          "SIGUSR1 toggles paper out, SIGUSR2 cover open", file=sys.stderr, flush=True)

    def toggle(key):
        def handler(signum, frame):
            value = not vp.state[key]
            vp.set_state(**{key: value})
            print(f"sim printer: {key.replace('_', ' ')} = {value}", file=sys.stderr, flush=True)
        return handler

    signal.signal(signal.SIGUSR1, toggle("paper_out"))
    signal.signal(signal.SIGUSR2, toggle("cover_open"))
    serve_until_signalled(vp.stop, f"port={vp.port}" if tcp else vp.path)
    return 0
