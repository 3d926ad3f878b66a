"""`kiosk-agent sim pos`: serve the simulated ConcertPOS gateway until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from sim.serving import serve_until_signalled


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
    serve_until_signalled(sim.stop, f"urls={','.join(sim.urls)} url_template={sim.url_template} "
                                    f"shards={','.join(sim.shards)} instance={sim.instance} api_key={sim.api_key}")
    logging.getLogger("sim.pos").info("stopped")
    return 0
