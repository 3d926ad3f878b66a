"""`kiosk-agent sim printer [--pty | --port N] --out DIR`: a virtual ESC/POS printer.

stdout: the first line is the pty path (or ``port=N``; the agent's
``printer.port`` is then ``tcp://127.0.0.1:N``), then one line per receipt PNG
written. Signals change the printer's state like a technician would: SIGUSR1
toggles "paper out", SIGUSR2 "cover open", SIGHUP "paper near end" (with
``--presenter`` SIGHUP takes the receipt waiting in the mouth instead).
``--paper-rows``/``--near-end-rows`` give a finite roll whose near-end sensor
trips before it runs out.
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
    vp.set_state(paper_rows=getattr(args, "paper_rows", None), near_end_rows=getattr(args, "near_end_rows", None),
                 presenter=bool(getattr(args, "presenter", False)))
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
    if getattr(args, "presenter", False):
        def take(signum, frame):
            vp.set_state(ticket_taken=True)
            print("sim printer: receipt taken", file=sys.stderr, flush=True)
        signal.signal(signal.SIGHUP, take)
    else:
        signal.signal(signal.SIGHUP, toggle("paper_near_end"))
    serve_until_signalled(vp.stop, f"port={vp.port}" if tcp else vp.path)
    return 0
