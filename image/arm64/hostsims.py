"""arm64 image test, host side: the Mews simulator, the virtual printer and encoder.

    python image/arm64/hostsims.py --work DIR MEWS_PORT ENCODER_PORT PRINTER_PORT

They listen on 127.0.0.1, which the guest reaches as 10.0.2.2 through QEMU user
networking; the guest's checker makes the commands. Runs until SIGTERM; receipts
and the key log land in DIR.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from sim.encoder.device import VirtualEncoder
from sim.mews.server import MewsSimulator
from sim.printer.virtual import VirtualPrinter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("ports", type=int, nargs=3)
    args = parser.parse_args()
    mews_port, encoder_port, printer_port = args.ports
    (args.work / "receipts").mkdir(parents=True, exist_ok=True)
    MewsSimulator(host="127.0.0.1", port=mews_port, rate_limit=False).start()
    VirtualEncoder(card_delay=0.5, log_path=str(args.work / "keys.jsonl"), port=encoder_port).start()
    VirtualPrinter(out_dir=args.work / "receipts", tcp=True, port=printer_port).start()
    print("hostsims: ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()


if __name__ == "__main__":
    main()
