"""Shared test plumbing: a config for a simulator, an agent running in a thread, waiting helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from agent import config as config_mod

FINAL = ("Processed", "Cancelled", "Error")


def mews_tokens(sim) -> str:
    """The [mews] keys naming the simulator's generation and the tokens it accepts."""
    if getattr(sim, "generation", "seed") == "current":
        return f'generation = "current"\nclient_token = "{sim.client_token}"\naccess_token = "{sim.access_token}"'
    return f'generation = "seed"\nconnector_token = "{sim.connector_token}"\nclient_token = "client-token-for-tests"'


def write_config(tmp_path: Path, sim, *, mode="websocket", extra="", mews_extra="", log_types=("Printer",),
                 step_delay=0.0, poll_interval=0.3) -> Path:
    types = ", ".join(f'"{t}"' for t in log_types)
    text = f"""
[mews]
platform_address = "{sim.url}"
{mews_tokens(sim)}
mode = "{mode}"
poll_interval = {poll_interval}
timeout = 5.0
{mews_extra}
[agent]
state_dir = "state"
log_device_types = [{types}]
log_step_delay = {step_delay}
device_timeout = 30.0
{extra}
"""
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


class AgentThread:
    """An agent (built by build_agent) serving in a background thread (no signal handlers)."""

    def __init__(self, config_path: Path, **kw):
        from agent.runtime.app import build_agent

        self.cfg = config_mod.load(str(config_path))
        self.supervisor = build_agent(self.cfg, **kw)
        self.thread = threading.Thread(target=self.supervisor.serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.supervisor

    def __exit__(self, *exc):
        self.supervisor.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "agent did not stop"


def wait_until(pred, timeout=20.0, interval=0.02, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s")


def states(sim, command_id) -> list[str]:
    return [h["State"] for h in sim.command(command_id)["History"]]


def final_state(sim, command_id) -> str | None:
    state = sim.command(command_id)["State"]
    return state if state in FINAL else None


def all_final(sim, ids) -> bool:
    return all(final_state(sim, i) for i in ids)


def start_agent(config, env=None):
    # The log goes to a file, never a pipe: an unread pipe fills (64 KiB) and blocks the agent.
    log_path = config.parent / "agent-stderr.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "agent", "run", "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=log_file, env={**os.environ, **(env or {})})
    proc.log_path, proc.log_start = log_path, log_path.stat().st_size
    return proc


def agent_log(proc) -> str:
    with open(proc.log_path, "rb") as f:
        f.seek(proc.log_start)
        return f.read().decode(errors="replace")


def wait_running(tmp_path, since):
    """Until the agent wrote a health snapshot after ``since`` (its signal handlers are in place)."""
    path = tmp_path / "state" / "health.json"
    wait_until(lambda: path.exists() and json.loads(path.read_text() or "{}").get("updated_at", 0) > since,
               timeout=30, what="agent running")
