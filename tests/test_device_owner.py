"""One owner per device: `doctor` beside a running agent goes through it and never touches its devices.

A real `kiosk-agent run` process cuts a 3-key command on the virtual encoder (a pty); while the
guest presents card 2, a technician runs `kiosk-agent doctor`. Before issue 24 the doctor opened the
encoder's tty itself, flushed its input and wrote ENQ into the agent's exchange.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import sys

import pytest

from tests.agent_harness import final_state, wait_until, write_config

import sim.mews as sim_mews
from sim.encoder import VirtualEncoder


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


@pytest.fixture
def owned(tmp_path):
    """An agent (in a thread) owning a virtual printer and a virtual encoder."""
    from sim.printer.virtual import VirtualPrinter
    from tests.agent_harness import AgentThread

    printer, encoder = VirtualPrinter().start(), VirtualEncoder().start()
    try:
        with sim_mews.MewsSimulator(rate_limit=False) as sim:
            extra = (f'\n[printer]\nport = "{printer.url}"\nrow_time_ms = 0.0\n'
                     f'[encoder]\nport = "{encoder.url}"\nreply_timeout = 5.0\n')
            config = write_config(tmp_path, sim, log_types=(), extra=extra)
            with AgentThread(config) as agent:
                wait_until(lambda: agent.control is not None, what="control socket up")
                yield agent, config, printer, encoder
    finally:
        printer.stop()
        encoder.stop()


def test_doctor_print_test_and_read_card_are_jobs_of_the_running_agent(owned, capsys):
    from agent.cli import main as cli_main

    agent, config, printer, encoder = owned
    code = cli_main(["doctor", "--config", str(config), "--print-test", "--read-card"])
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines() if line[:4].strip() in ("OK", "FAIL", "SKIP")}
    # opened by the doctor itself, each port would be refused: the agent holds them exclusively
    for name in ("printer", "print-test", "encoder", "read-card"):
        assert lines[name].startswith("OK") and "running agent" in lines[name], out
    assert printer.wait_receipts(1) and len(printer.receipts) == 1
    assert encoder.requests.count("LT") == 1 and encoder.keys == []
    assert code == 0, out


def test_the_control_socket_is_the_agents_users_alone_and_bad_requests_never_hurt_it(owned):
    import socket
    import stat

    from agent.control.client import ask
    from agent.control.protocol import Request

    agent, config, printer, encoder = owned
    path = agent.control.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for garbage in (b"\xff\xfe not json\n", b"[1, 2]\n", b'{"op": "job", "kind": "cut_keys"}\n',
                    b'{"op": "job", "kind": "read_card", "wait": -1}\n', b'{"op": "check", "device": "../x"}\n',
                    b"x" * 300_000, b""):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(path))
            try:
                s.sendall(garbage)
                s.shutdown(socket.SHUT_WR)
                answer = s.recv(65536)
            except (BrokenPipeError, ConnectionResetError):
                continue  # too large: the agent closed on it
        assert b'"status": "error"' in answer, (garbage[:40], answer)
    assert ask(agent.cfg.state_dir, Request(op="check", device="encoder")).status == "ok"
    assert encoder.keys == [] and printer.receipts == []


def test_pos_pay_prints_its_receipt_as_a_job_of_the_running_agent(tmp_path):
    from sim.pos import PosGatewaySimulator
    from sim.printer.virtual import VirtualPrinter
    from tests.agent_harness import AgentThread

    gateway = PosGatewaySimulator(ports=[0], instance="kiosk-test", api_key="k" * 32).start()
    printer = VirtualPrinter().start()
    try:
        with sim_mews.MewsSimulator(rate_limit=False) as sim:
            port = f'port = "{printer.url}"\nrow_time_ms = 0.0\n'
            agent_config = write_config(tmp_path, sim, log_types=(), extra=f"\n[printer]\n{port}")
            with AgentThread(agent_config) as agent:
                wait_until(lambda: agent.control is not None, what="control socket up")
                shards = ", ".join(f'"{s}"' for s in gateway.shards)
                pos_config = tmp_path / "pos.toml"
                pos_config.write_text(agent_config.read_text() + (
                    f'\n[pos]\ninstance = "kiosk-test"\napi_key = "{"k" * 32}"\nshards = [{shards}]\n'
                    f'url_template = "{gateway.url_template}"\npos_id = 1\ntimeout = 3.0\n'))
                r = subprocess.run([sys.executable, "-m", "agent", "pos", "pay", "--method", "1", "--item", "7x1",
                                    "--json", "--config", str(pos_config)], capture_output=True, text=True, timeout=60)
                assert r.returncode == 0, r.stderr
                assert '"receipt": "printed"' in r.stdout, r.stdout
                assert printer.wait_receipts(1) and len(printer.receipts) == 1
                # the agent's printer worker printed it (a job of the device's owner), not the CLI
                assert agent.health.counters.get("commands_processed") == 1, agent.health.counters
    finally:
        printer.stop()
        gateway.stop()


def test_an_agent_without_a_control_socket_keeps_its_devices_untouched(tmp_path, capsys):
    """A fresh health snapshot but no control.sock (an older agent): the doctor SKIPs its devices."""
    from agent.cli import main as cli_main
    from agent.runtime.health import Health
    from sim.printer.virtual import VirtualPrinter

    with VirtualEncoder() as encoder, VirtualPrinter() as printer, sim_mews.MewsSimulator(rate_limit=False) as sim:
        extra = (f'\n[printer]\nport = "{printer.url}"\nrow_time_ms = 0.0\n'
                 f'[encoder]\nport = "{encoder.url}"\nreply_timeout = 5.0\n')
        config = write_config(tmp_path, sim, log_types=(), extra=extra)
        (tmp_path / "state").mkdir()
        snapshot = Health()
        snapshot.updated_at = time.time()
        snapshot.write(tmp_path / "state" / "health.json")
        cli_main(["doctor", "--config", str(config), "--print-test", "--read-card"])
        captured = capsys.readouterr()
        out = captured.out
        assert "present a key card" not in captured.err
        for name in ("printer", "encoder"):
            line = next(x for x in out.splitlines() if x.split()[1:2] == [name])
            assert line.startswith("SKIP") and "held by the running agent" in line, out
        assert encoder.requests == [] and encoder.stats["enq"] == 0 and printer.receipts == []
