"""Mews simulator lifecycle: repeated start/stop, restart on the same port, seeds, and the CLI."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading

import pytest
import websocket

from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator
from sim.mews.seed import DEFAULT_SEED, SeedError, load


def default_seed():
    return json.loads(DEFAULT_SEED.read_text(encoding="utf-8"))


def get_spaces(port, token=DEMO_CONNECTOR_TOKEN):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/connector/v1/spaces/getAll", body=json.dumps({"AccessToken": token}))
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_many_simulators_start_and_stop_in_one_process():
    ports = set()
    for _ in range(5):
        sim = MewsSimulator(generation="seed")
        sim.start()
        assert sim.port and sim.url == f"http://127.0.0.1:{sim.port}"
        assert get_spaces(sim.port)[0] == 200
        ports.add(sim.port)
        sim.stop()
        sim.stop()  # twice is harmless
        with pytest.raises(OSError):
            get_spaces(sim.port)
    assert threading.active_count() < 20


def test_restart_keeps_port_and_state():
    sim = MewsSimulator(generation="seed")
    with sim:
        command_id = sim.add_printer_command(b"x")
        port = sim.port
        with pytest.raises(RuntimeError):
            sim.start()
    with sim:
        assert sim.port == port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/api/connector/v1/commands/getAllActive", body=json.dumps({"AccessToken": DEMO_CONNECTOR_TOKEN}))
        assert [c["Id"] for c in json.loads(conn.getresponse().read())["Commands"]] == [command_id]
        conn.close()


def test_helpers_work_before_start_and_from_many_threads():
    sim = MewsSimulator(generation="seed")
    first = sim.add_printer_command(b"early")
    with sim:
        threads = [threading.Thread(target=lambda: [sim.add_printer_command(b"t") for _ in range(20)]) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(sim.all_commands()) == 81 and sim.all_commands()[0]["Id"] == first


def test_stop_closes_connected_websockets():
    sim = MewsSimulator(generation="seed").start()
    ws = websocket.create_connection(f"ws://127.0.0.1:{sim.port}/ws/connector?AccessToken={DEMO_CONNECTOR_TOKEN}",
                                     timeout=5)
    sim.stop()
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    ws.shutdown()


def test_port_in_use_raises_in_the_caller():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        with pytest.raises(OSError):
            MewsSimulator(generation="seed", port=holder.getsockname()[1]).start()
    finally:
        holder.close()


def test_seed_from_dict_and_file(tmp_path):
    data = default_seed()
    data["Enterprise"]["Name"] = "Seaside Inn"
    data["Spaces"].append(dict(data["Spaces"][0], Id="new-room", Number="999"))
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for seed in (data, str(path)):
        with MewsSimulator(generation="seed", seed=seed) as sim:
            assert get_spaces(sim.port)[1]["Spaces"][-1]["Number"] == "999"
            assert sim.enterprise.info["Name"] == "Seaside Inn"


@pytest.mark.parametrize("mutate, word", [
    (lambda d: d["Spaces"][0].update(State="Sparkling"), "State"),
    (lambda d: d["Reservations"][0].update(AssignedSpaceId="nowhere"), "AssignedSpaceId"),
    (lambda d: d["Reservations"][0].update(StartUtc="soon"), "StartUtc"),
    (lambda d: d.pop("Enterprise"), "Enterprise"),
    (lambda d: d["Devices"][0].update(Type="Toaster"), "Type"),
])
def test_bad_seed_names_the_problem(mutate, word):
    data = default_seed()
    mutate(data)
    with pytest.raises(SeedError) as e:
        MewsSimulator(generation="seed", seed=data)
    assert word in str(e.value)


def test_relative_seed_times_resolve_around_now():
    from datetime import datetime, timezone

    now = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)
    data = load(None, now=now)
    r = next(r for r in data["Reservations"] if r["Number"] == "1001")
    assert r["StartUtc"] == datetime(2030, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert r["EndUtc"] == datetime(2030, 5, 3, 12, 0, tzinfo=timezone.utc)


def test_bad_seed_file_is_reported(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(SeedError) as e:
        load(str(path))
    assert "broken.json" in str(e.value) and "JSON" in str(e.value)


def run_cli(*args):
    return subprocess.Popen([sys.executable, "-m", "agent", "sim", "mews", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_address_first_and_exits_0_on_signal(sig):
    proc = run_cli("--port", "0", "--generation", "seed", "--connector-token", "cli-token", "--no-rate-limit",
                   "--space-events")
    try:
        first = proc.stdout.readline().strip()
        address, token = first.split(" ")
        assert token == "token=cli-token"
        host, port = address.removeprefix("address=http://").rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        assert get_spaces(int(port), "cli-token")[0] == 200
        assert get_spaces(int(port))[0] == 401
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == ""  # only the address line goes to stdout
    assert "cli-token" not in err and "spaces/getAll" in err


def test_cli_serves_todays_generation_by_default():
    proc = run_cli("--port", "0", "--client-token", "the-client", "--access-token", "the-property")
    try:
        address, token, client_token = proc.stdout.readline().strip().split(" ")
        assert token == "token=the-property" and client_token == "client_token=the-client"
        port = int(address.rsplit(":", 1)[1])
        assert get_spaces(port, "the-property")[0] == 404  # retired in 2020: resources/getAll
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "the-property" not in err and "the-client" not in err


def test_cli_bad_seed_exits_2(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text("[]", encoding="utf-8")
    proc = run_cli("--port", "0", "--seed", str(path))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == "" and "seed.json" in err
