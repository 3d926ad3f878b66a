"""`kiosk-agent sim reader [--framing cr|stx] [--present WHAT --every S]`: a document reader on a pty.

Prints the pty path (for ``reader.port``) on its first stdout line. Each line on
stdin presents one thing: ``passport [SURNAME [GIVEN]]``, ``id``, ``expired``
(the ICAO specimen), ``td1``/``td2`` (ICAO specimens), ``bad`` (a zone whose check
digit is wrong), ``qr RESERVATION_ID``, or any other text as it is.
"""

from __future__ import annotations

import sys
import threading

from sim.reader import specimens
from sim.reader.device import VirtualReader
from sim.serving import serve_until_signalled


def scan_for(line: str) -> str | None:
    """What the reader sends for one command line (None for an empty line)."""
    words = line.split()
    if not words:
        return None
    what, rest = words[0].lower(), words[1:]
    if what == "passport":
        return specimens.passport(*(rest[:2] or []))
    if what == "id":
        return specimens.id_card(*(rest[:2] or []))
    if what in ("expired", "td3"):
        return specimens.ICAO_TD3
    if what == "td1":
        return specimens.ICAO_TD1
    if what == "td2":
        return specimens.ICAO_TD2
    if what == "bad":
        zone = specimens.passport()
        return zone[:-1] + str((int(zone[-1]) + 1) % 10)
    if what == "qr" and rest:
        return specimens.booking_qr(rest[0])
    return line.strip()


def run(args) -> int:
    reader = VirtualReader(args.framing).start()
    stop = threading.Event()

    def from_stdin() -> None:
        for line in sys.stdin:
            scan = scan_for(line)
            if scan is not None:
                reader.present(scan)
                print(f"reader: presented {line.split()[0]}", file=sys.stderr, flush=True)

    def repeat() -> None:
        while not stop.wait(args.every):
            reader.present(scan_for(args.present))

    threading.Thread(target=from_stdin, daemon=True).start()
    if args.present:
        threading.Thread(target=repeat, daemon=True).start()
    serve_until_signalled(lambda: (stop.set(), reader.stop()), reader.path)
    return 0
