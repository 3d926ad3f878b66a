"""Kiosk web limits: does the screen still get answers while slow-loris or idle connections pile up?

Side by side on loopback, the same kiosk app behind
- "before": waitress as the kiosk created it until issue 21 (``create_server`` with
  threads=4 and waitress's defaults: connection_limit 100, select(), one accept per turn);
- "now": ``KioskService.start()``'s server (agent/kiosk/httpserver.py: never stops
  accepting, closes the oldest idle connection past 250, batch accept, poll()).
Each attack keeps its connections open, reopening every one the server closes; the
screen's probe is a fresh connection with ``GET /api/config`` that must be answered in
full within 1 s. Figures: the share answered in time and the median time of those.
Goal (issue 21 item 10): >= 95 % under 150 slow-loris or 1000 idle connections.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
from pathlib import Path

from bench.report import table

PROBES = int(os.environ.get("BENCH_KIOSK_WEB_PROBES", "30"))
EVERY = 0.2
ATTACKS = (("none", 0, None), ("slow-loris", 150, 2.0), ("idle", 1000, None))


def _kiosk(tmp: Path):
    from agent import config as config_mod
    from agent.kiosk.service import KioskService

    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "config.toml"
    path.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nconnector_token = "bench"\n'
                    f'[agent]\nstate_dir = "{tmp / "state"}"\n'
                    '[kiosk]\nenabled = true\nlisten = "127.0.0.1:0"\nhotel_name = "Bench Hotel"\n')
    return KioskService(config_mod.load(str(path)), client=None, jobs=None)


def _before(kiosk):
    """The server as KioskService.start() built it before issue 21."""
    from waitress.server import create_server

    from agent.kiosk.web import build_app

    server = create_server(build_app(kiosk), host="127.0.0.1", port=0, threads=4, ident="kiosk-agent",
                           clear_untrusted_proxy_headers=True)
    def serve():
        try:
            server.run()
        except (OSError, ValueError):  # closed under it at stop, as KioskService._serve allows
            pass

    threading.Thread(target=serve, daemon=True).start()
    return server, int(server.effective_port), lambda: (server.task_dispatcher.shutdown(timeout=1.0),
                                                        server.close())


def _now(kiosk):
    kiosk.start()
    return kiosk._server, int(kiosk.address[1]), kiosk.stop


def measure(server_kind: str, attack: str, count: int, trickle, tmp: Path) -> list:
    from sim.web_attack import Attack, probes, share

    kiosk = _kiosk(tmp)
    server, port, stop = (_before if server_kind == "before" else _now)(kiosk)
    try:
        if count:
            with Attack("127.0.0.1", port, count, trickle=trickle) as flood:
                results = probes("127.0.0.1", port, PROBES, EVERY)
            opened = flood.opened
        else:
            results, opened = probes("127.0.0.1", port, PROBES, EVERY), 0
    finally:
        stop()
    answered = [r for r in results if r is not None]
    median_ms = round(statistics.median(answered) * 1000, 1) if answered else None
    return [attack, count, server_kind, round(share(results) * 100, 1), median_ms if median_ms is not None else "-",
            opened, getattr(server, "evicted", "-")]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for attack, count, trickle in ATTACKS:
            for kind in ("before", "now"):
                rows.append(measure(kind, attack, count, trickle, Path(tmp) / f"{attack}-{kind}"))
    table("kiosk_web", ["attack", "connections", "server", "probes answered <= 1 s (%)", "median probe (ms)",
                        "attack connections opened", "closed to make room"], rows,
          notes={"probes per row": PROBES, "probe": "fresh connection, GET /api/config, whole answer",
                 "goal": ">= 95 % under 150 slow-loris or 1000 idle connections"})


if __name__ == "__main__":
    main()
