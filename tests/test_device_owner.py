"""One owner per device: `doctor` beside a running agent goes through it and never touches its devices.

A real `kiosk-agent run` process cuts a 3-key command on the virtual encoder (a pty); while the
guest presents card 2, a technician runs `kiosk-agent doctor`. Before issue 24 the doctor opened the
encoder's tty itself, flushed its input and wrote ENQ into the agent's exchange.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.agent_harness import final_state, wait_until, write_config

pytest.importorskip("aiohttp", reason="the Mews simulator needs the [sim] extra (aiohttp)")
import sim.mews as sim_mews  # noqa: E402  (after the extra's guard: our own ImportError must fail)
from sim.encoder import VirtualEncoder  # noqa: E402


def _start_agent(config):
    log = config.parent / "agent-stderr.log"
    with open(log, "ab") as f:
        proc = subprocess.Popen([sys.executable, "-m", "agent", "run", "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=f)
    proc.log_path = log
    return proc


def _stop(proc) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.log_path.read_text(errors="replace")


def _doctor(config, *flags):
    return subprocess.run([sys.executable, "-m", "agent", "doctor", "--config", str(config), *flags],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "KIOSK_AGENT_CONFIG": ""})


@pytest.mark.timeout(90)
def test_doctor_during_a_three_key_job_leaves_every_key_made_once_and_the_job_processed(tmp_path):
    encoder = VirtualEncoder(card_delay=0.8).start()
    try:
        with sim_mews.MewsSimulator(rate_limit=False) as sim:
            extra = f'\n[encoder]\nport = "{encoder.url}"\nreply_timeout = 10.0\n'
            config = write_config(tmp_path, sim, log_types=(), extra=extra)
            proc = _start_agent(config)
            try:
                wait_until(lambda: (tmp_path / "state" / "health.json").exists(), timeout=30, what="agent up")
                cid = sim.add_key_cutter_command(key_count=3)
                wait_until(lambda: len(encoder.keys) >= 1, timeout=30, what="first key made")
                doctor = _doctor(config)  # while card 2 is awaited
                wait_until(lambda: final_state(sim, cid), timeout=40, what="command final")
            finally:
                log = _stop(proc)
            cmd = sim.command(cid)
            assert cmd["State"] == "Processed", (cmd["History"][-1], doctor.stdout, log[-3000:])
            assert [k["copy"] for k in encoder.keys] == [0, 1, 2], encoder.keys  # each key once, in order
            # the doctor asked the agent instead of opening the port, and says so
            encoder_line = next(line for line in doctor.stdout.splitlines() if " encoder " in f" {line} ")
            assert "running agent" in encoder_line, doctor.stdout
    finally:
        encoder.stop()


def test_a_port_held_by_one_owner_is_refused_to_another_naming_the_key():
    from hal.encoder.encoder import open_serial
    from hal.errors import DeviceError
    from hal.printer.port import PrinterPort

    with VirtualEncoder() as device:  # a pty: the same tty the agent would hold
        first = open_serial(device.url, 9600)
        try:
            with pytest.raises(DeviceError) as enc:
                open_serial(device.url, 9600)
            with pytest.raises(DeviceError) as prn:
                PrinterPort(device.url).open()
        finally:
            first.close()
        assert type(enc.value).__name__ == type(prn.value).__name__ == "PortInUse"
        assert "in use by another process (encoder.port)" in str(enc.value)
        assert "in use by another process (printer.port)" in str(prn.value)
        assert enc.value.retryable  # the other program may let go
        open_serial(device.url, 9600).close()  # released with its owner
