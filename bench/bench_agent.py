"""Agent core benchmark against the Mews simulator with instant devices.

One run: latency from command creation on the platform to Processed arriving
there (websocket vs poll at 1 s), a burst of 1,000 commands with the rate limit
lifted (throughput, requests per command), the same burst under the real
200 / 30 s limit (429s provoked must be zero), agent RSS idle and peak.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.report import table

BURST = int(os.environ.get("BENCH_AGENT_BURST", "1000"))
LATENCY_SAMPLES = int(os.environ.get("BENCH_AGENT_SAMPLES", "60"))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class AgentProcess:
    """The real agent as a subprocess, with its RSS sampled."""

    def __init__(self, sim, folder: Path, mode: str, poll_interval: float = 1.0):
        folder.mkdir(parents=True, exist_ok=True)
        cfg = folder / "config.toml"
        cfg.write_text(f"""
[mews]
platform_address = "{sim.url}"
client_token = "{sim.client_token}"
access_token = "{sim.access_token}"
mode = "{mode}"
poll_interval = {poll_interval}
[agent]
state_dir = "state"
log_level = "warning"
log_device_types = ["Printer"]
""")
        self.proc = subprocess.Popen([sys.executable, "-m", "agent", "run", "--config", str(cfg)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def wait_final(sim, ids, timeout):
    """Until every command is final; cheap on the simulator (commands finish roughly in order)."""
    end = time.time() + timeout

    def final(i):
        return sim.command(i)["State"] in ("Processed", "Error", "Cancelled")

    remaining = list(ids)
    while remaining and time.time() < end:
        while remaining and final(remaining[0]):
            remaining.pop(0)
        if remaining:
            time.sleep(0.01)
    return all(final(i) for i in ids)


def latency_run(sim_cls, mode):
    with tempfile.TemporaryDirectory() as d, sim_cls(rate_limit=False) as sim:
        agent = AgentProcess(sim, Path(d), mode, poll_interval=1.0)
        try:
            time.sleep(2.0)  # connected, first drain done
            idle_rss = agent.rss()
            lat = []
            for _ in range(LATENCY_SAMPLES):
                cid = sim.add_printer_command(b"%PDF-1.4")
                wait_final(sim, [cid], 30)
                hist = sim.command(cid)["History"]
                lat.append((hist[-1]["At"] - hist[0]["At"]) * 1000)
                time.sleep(0.05 if mode == "websocket" else 0.2)
            return lat, idle_rss
        finally:
            agent.stop()


def measure_burst(sim, settle: float) -> dict:
    """Once the agent has settled: BURST commands at once, until all are final (or 900 s)."""
    time.sleep(settle)
    before = sim.request_count()
    start = time.time()
    ids = [sim.add_printer_command(b"%PDF-1.4") for _ in range(BURST)]
    ok = wait_final(sim, ids, 900)
    return {"ok": ok, "elapsed": time.time() - start, "requests": sim.request_count() - before,
            "throttled": sim.rate_limited}


def burst_unlimited(sim_cls):
    """Platform limit lifted and our own limiter opened too: the agent's raw throughput (in-process)."""
    from agent import config as config_mod
    from agent.mews.client import MewsClient
    from agent.mews.ratelimit import RateLimiter
    from agent.runtime.app import build_agent

    with tempfile.TemporaryDirectory() as d, sim_cls(rate_limit=False) as sim:
        folder = Path(d)
        (folder / "config.toml").write_text(f"""
[mews]
platform_address = "{sim.url}"
client_token = "{sim.client_token}"
access_token = "{sim.access_token}"
[agent]
state_dir = "state"
log_level = "warning"
log_device_types = ["Printer"]
""")
        cfg = config_mod.load(str(folder / "config.toml"))
        agent = build_agent(cfg, client=MewsClient(cfg.mews, limiter=RateLimiter(limit=10**9)))
        thread = threading.Thread(target=agent.serve, daemon=True)
        thread.start()
        try:
            return {**measure_burst(sim, settle=1.0), "peak": 0}
        finally:
            agent.stop()
            thread.join(60)


def burst_run(sim_cls, rate_limited):
    with tempfile.TemporaryDirectory() as d, sim_cls(rate_limit=rate_limited) as sim:
        agent = AgentProcess(sim, Path(d), "websocket")
        try:
            return {**measure_burst(sim, settle=2.0), "peak": agent.peak}
        finally:
            agent.stop()


def main():
    from sim.mews import MewsSimulator

    ws_lat, idle_rss = latency_run(MewsSimulator, "websocket")
    poll_lat, _ = latency_run(MewsSimulator, "poll")
    free = burst_unlimited(MewsSimulator)
    limited = burst_run(MewsSimulator, rate_limited=True)
    mib = 1024 * 1024
    rows = [
        ["latency websocket (ms)", round(pct(ws_lat, 50), 1), round(pct(ws_lat, 95), 1), round(pct(ws_lat, 99), 1),
         "p99 < 50 ms"],
        ["latency poll 1 s (ms)", round(pct(poll_lat, 50), 1), round(pct(poll_lat, 95), 1),
         round(pct(poll_lat, 99), 1), "(bounded by poll_interval)"],
        [f"burst {BURST}, no limit", f"{BURST / free['elapsed']:.0f} cmd/s", f"{free['requests'] / BURST:.2f} req/cmd",
         f"{free['elapsed']:.1f} s", "<= 3 req/cmd"],
        [f"burst {BURST}, 200/30 s", f"{BURST / limited['elapsed']:.1f} cmd/s",
         f"{limited['requests'] / BURST:.2f} req/cmd", f"{limited['elapsed']:.0f} s",
         f"429s provoked: {limited['throttled']}"],
        ["agent RSS (MiB)", f"idle {idle_rss / mib:.1f}", f"peak {limited['peak'] / mib:.1f}", "",
         "idle < 30, peak < 45"],
    ]
    table("agent", ["measure", "p50 / rate", "p95 / cost", "p99 / time", "goal"], rows, notes={
        "latency samples": LATENCY_SAMPLES, "all burst commands final": free["ok"] and limited["ok"],
        "latency websocket mean ms": round(statistics.mean(ws_lat), 1)})


if __name__ == "__main__":
    main()
