"""`kiosk-agent sim pos`: serve the simulated ConcertPOS gateway until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading


def _ports(text: str) -> list[int]:
    ports = [int(p) for p in text.split(",") if p.strip()]
    if not ports or any(not 0 <= p < 65536 for p in ports):
        raise ValueError(text)
    return ports


def run(args: argparse.Namespace) -> int:
    from sim.pos.server import PosGatewaySimulator

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    try:
        ports = _ports(args.ports)
    except ValueError:
        print(f"kiosk-agent sim pos: --ports: expected comma-separated port numbers, got {args.ports!r}",
              file=sys.stderr)
        return 2
    seed = None
    if args.seed:
        try:
            with open(args.seed, encoding="utf-8") as f:
                seed = json.load(f)
            if not isinstance(seed, dict):
                raise ValueError("expected a JSON object")
        except (OSError, ValueError) as e:
            print(f"kiosk-agent sim pos: --seed {args.seed}: {e}", file=sys.stderr)
            return 2
    sim = PosGatewaySimulator(host=args.host, ports=ports, instance=args.instance, api_key=args.api_key, seed=seed)
    try:
        sim.start()
    except OSError as e:
        print(f"kiosk-agent sim pos: cannot listen on {args.host} ports {args.ports}: {e.strerror or e}",
              file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"urls={','.join(sim.urls)} url_template={sim.url_template} shards={','.join(sim.shards)} "
              f"instance={sim.instance} api_key={sim.api_key}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sim.stop()
    logging.getLogger("sim.pos").info("stopped")
    return 0
