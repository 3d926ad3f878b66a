"""Request budget benchmark: a Mews print command's latency idle and under a kiosk flood.

The agent (built as `run` builds it, kiosk enabled) against the Mews simulator
enforcing the platform's real limit, 200 requests per 30 s per token. The print
device is the log handler with BENCH_BUDGET_PRINT_S (1 s) of device time per copy,
like a receipt printer. The flood is BENCH_BUDGET_THREADS threads looking a
reservation up through the kiosk's own client as fast as it lets them, for at
least one window. Two rows: "one shared lane" is the limiter with no reserve
(`reserved=0`: the kiosk may take the whole window, as before issue 21 item 11),
"reserved share" is the default (40 of 200 kept for device-command work).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.report import table

PRINTS = int(os.environ.get("BENCH_BUDGET_PRINTS", "3"))
THREADS = int(os.environ.get("BENCH_BUDGET_THREADS", "4"))
PRINT_S = float(os.environ.get("BENCH_BUDGET_PRINT_S", "1.0"))
PDF = b"%PDF-1.4 budget bench"


class Flood:
    """Threads calling the kiosk's client as its lookups would, as fast as they can."""

    def __init__(self, client, threads: int):
        from agent.mews.errors import MewsError

        self.client, self.error = client, MewsError
        self.served = self.refused = 0
        self.last_served = time.monotonic()
        self.started = self.ended = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        while not self._stop.is_set():
            try:
                self.client.get_reservations_v2(numbers=["1001"], states=["Confirmed"], limit=5)
            except self.error:
                with self._lock:
                    self.refused += 1
                self._stop.wait(0.05)
                continue
            with self._lock:
                self.served += 1
                self.last_served = time.monotonic()

    def held_back(self) -> bool:
        return self.served > 0 and time.monotonic() - self.last_served >= 0.5

    def start(self):
        self.started = time.monotonic()
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        self.ended = time.monotonic()
        for t in self._threads:
            t.join(0.1)  # a thread in a limiter wait ends on its own (at most mews.timeout)

    def per_window(self) -> float:
        return self.served * 30.0 / max(self.ended - self.started, 1e-9)


def wait_for(pred, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    raise TimeoutError("condition not reached")


def print_latency(sim) -> float:
    cid = sim.add_printer_command(PDF)
    wait_for(lambda: sim.command(cid)["State"] in ("Processed", "Error", "Cancelled"), 120.0)
    history = sim.command(cid)["History"]
    if history[-1]["State"] != "Processed":
        raise RuntimeError(f"print ended {history[-1]['State']}")
    return history[-1]["At"] - history[0]["At"]


def scenario(reserved: int | None) -> dict:
    from agent import config as config_mod
    from agent.mews.client import MewsClient
    from agent.mews.ratelimit import RateLimiter
    from agent.runtime.app import build_agent
    from sim.mews import MewsSimulator

    with tempfile.TemporaryDirectory() as tmp, MewsSimulator(rate_limit=True) as sim:
        path = Path(tmp) / "config.toml"
        path.write_text(f"""
[mews]
platform_address = "{sim.url}"
connector_token = "{sim.connector_token}"
[agent]
state_dir = "{tmp}/state"
log_level = "warning"
log_device_types = ["Printer"]
log_step_delay = {PRINT_S}
[kiosk]
enabled = true
listen = "127.0.0.1:0"
""")
        cfg = config_mod.load(str(path))
        limiter = RateLimiter() if reserved is None else RateLimiter(reserved=reserved)
        agent = build_agent(cfg, client=MewsClient(cfg.mews, limiter=limiter))
        runner = threading.Thread(target=agent.serve, daemon=True)
        runner.start()
        try:
            wait_for(lambda: agent.listener is not None and agent.listener.connected, 30.0)
            print_latency(sim)  # warm up: sign-in, connections
            idle = [print_latency(sim) for _ in range(PRINTS)]
            flood = Flood(agent.kiosk.ctx.client, THREADS)
            flood.start()
            wait_for(flood.held_back, 60.0)
            loaded = [print_latency(sim) for _ in range(PRINTS)]
            # Served per window is measured over at least one whole window of flood.
            time.sleep(max(0.0, flood.started + 31.0 - time.monotonic()))
            flood.stop()
            return {"idle": idle, "loaded": loaded, "served_30s": flood.per_window(), "refused": flood.refused,
                    "rate_limited": sim.rate_limited, "reserved": limiter.reserved}
        finally:
            agent.stop()
            runner.join(30)


def main():
    rows = []
    for name, reserved in (("one shared lane (reserved=0)", 0), ("reserved share (default)", None)):
        r = scenario(reserved)
        idle, loaded = statistics.median(r["idle"]), statistics.median(r["loaded"])
        rows.append([name, r["reserved"], round(idle, 2), round(loaded, 2), round(max(r["loaded"]), 2),
                     round(loaded / idle, 1), round(r["served_30s"]), r["refused"], r["rate_limited"]])
    table("budget", ["budget", "device slots reserved", "print idle p50 (s)", "print under flood p50 (s)",
                     "under flood max (s)", "ratio", "kiosk served per 30 s", "kiosk failed fast", "429s"],
          rows, notes={"limit": "200 requests / 30 s per token (client counts 31 s)",
                       "print device": f"log handler, {PRINT_S:g} s per copy",
                       "flood": f"{THREADS} threads of reservations lookups on the kiosk's client",
                       "prints per row": PRINTS, "goal": "print under flood <= 2x idle"})


if __name__ == "__main__":
    main()
