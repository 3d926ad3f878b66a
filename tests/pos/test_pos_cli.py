"""`kiosk-agent pos ...` and `kiosk-agent sim pos` as subprocesses against the gateway simulator."""

import json
import signal
import subprocess
import sys

import pytest

from tests.pos.pos_harness import API_KEY, config_text, make_client


def run(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cfg(sim, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(config_text(sim, tmp_path / "state"))
    return str(path)


@pytest.fixture
def quick_cfg(sim, tmp_path):
    """Short timeouts, for the tests where every shard is down."""
    path = tmp_path / "quick.toml"
    path.write_text(config_text(sim, tmp_path / "state", timeout=0.4))
    return str(path)


def pos(cfg, *args):
    return run("pos", *args, "--config", cfg)


def test_status_json(cfg):
    r = pos(cfg, "status", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["version"] == "1.0.1" and data["status"] == "success" and data["license_active"] is True
    assert "DEMO-0000-1111" not in r.stdout  # the license key is shortened
    assert API_KEY not in r.stdout + r.stderr


def test_catalogue_commands(cfg):
    r = pos(cfg, "products", "--json")
    assert r.returncode == 0, r.stderr
    assert [p["ID"] for p in json.loads(r.stdout)] == [3, 5, 7, 9]
    r = pos(cfg, "methods", "--json")
    assert [m["Payment"] for m in json.loads(r.stdout)] == ["Cash", "Card"]
    r = pos(cfg, "deposit", "--json")
    assert json.loads(r.stdout)["Price"] == 1.0
    r = pos(cfg, "products")  # text mode: one line per product
    assert r.returncode == 0 and "Parking day ticket" in r.stdout and len(r.stdout.splitlines()) == 4


def test_pay_json_booked_then_listed(sim, cfg):
    r = pos(cfg, "pay", "--pos", "1", "--method", "1", "--item", "3x2", "--item", "7x1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["result"] == "booked"
    assert out["transactions"] == [t["ID"] for t in sim.transactions]
    assert out["total"] == "23.00" and out["receipt"].startswith("not printed")
    r = pos(cfg, "transactions", "--json", "--limit", "5")
    assert [t["ID"] for t in json.loads(r.stdout)] == sorted(out["transactions"], reverse=True)
    assert sim.ratelimit_answers == 0


def test_pay_prints_the_receipt(sim, tmp_path):
    from sim.printer.virtual import VirtualPrinter

    with VirtualPrinter(tcp=True) as vp:
        path = tmp_path / "config.toml"
        path.write_text(config_text(sim, tmp_path / "state",
                                    printer=f'port = "{vp.url}"\nbaudrate = 921600\nrow_time_ms = 0.0'))
        r = run("pos", "pay", "--method", "2", "--item", "9x3", "--json", "--config", str(path))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["receipt"] == "printed"
        assert vp.wait_receipts(1)
    assert vp.mechanism.cuts == 1
    assert sim.requests("listpos") == 1  # the heading names the point of sale


def test_pay_survives_a_cut_connection_without_double_charging(sim, cfg):
    sim.drop_after_next("payitems", execute=True)
    r = pos(cfg, "pay", "--method", "1", "--item", "7x1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"] == "booked"
    assert sim.requests("payitems") == 1 and len(sim.transactions) == 1


def test_pay_unknown_product_is_not_booked(sim, cfg):
    r = pos(cfg, "pay", "--method", "1", "--item", "99x1", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)  # stdout holds only the result
    assert out["result"] == "not booked" and "99" in out["reason"] and "transactions" not in out
    assert sim.requests("payitems") == 0


def test_pay_gateway_down_is_not_booked(sim, quick_cfg):
    for i in range(3):
        sim.kill_shard(i)
    r = pos(quick_cfg, "pay", "--method", "1", "--item", "7x1", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["result"] == "not booked"


def test_read_with_gateway_down_exits_1(sim, quick_cfg):
    for i in range(3):
        sim.kill_shard(i)
    r = pos(quick_cfg, "products")
    assert r.returncode == 1 and r.stdout == "" and "GatewayUnavailable" in r.stderr


def test_wrong_api_key_exits_1_without_showing_it(sim, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(config_text(sim, tmp_path).replace(API_KEY, "a-wrong-secret-key"))
    r = run("pos", "status", "--config", str(path))
    assert r.returncode == 1 and "pos.api_key" in r.stderr
    assert "a-wrong-secret-key" not in r.stdout + r.stderr


@pytest.mark.parametrize("args", [["pay", "--method", "1", "--item", "3y2"], ["pay", "--item", "3x1"],
                                  ["transactions", "--limit", "-1"], ["frobnicate"]])
def test_usage_errors_exit_2(cfg, args):
    r = pos(cfg, *args)
    assert r.returncode == 2 and r.stdout == ""


def test_missing_pos_table_exits_2(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "t"\n')
    r = run("pos", "status", "--config", str(path))
    assert r.returncode == 2 and "[pos]" in r.stderr


def test_sim_pos_command_serves_and_prints_its_urls():
    proc = subprocess.Popen([sys.executable, "-m", "agent", "sim", "pos", "--ports", "0,0", "--api-key", API_KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        fields = dict(part.split("=", 1) for part in line.split())
        urls = fields["urls"].split(",")
        assert len(urls) == 2 and all(u.startswith("ws://127.0.0.1:") and u.endswith("/my-venue") for u in urls)

        class Shim:  # what make_client needs from a simulator
            shards = fields["shards"].split(",")
            url_template = fields["url_template"]

        with make_client(Shim()) as c:
            assert c.version() == "1.0.1"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    assert proc.returncode == 0


def test_sim_pos_bad_ports_exit_2():
    r = run("sim", "pos", "--ports", "90x1")
    assert r.returncode == 2 and "--ports" in r.stderr


def test_pay_interrupted_after_sending_waits_for_the_outcome(sim, tmp_path):
    """Ctrl-C (a real SIGINT) while payitems is on the wire: the sale's outcome is learned and
    printed, then exit 130; a booked sale is not lost, nor sent twice (issue 13 item 12)."""
    import time

    path = tmp_path / "config.toml"
    path.write_text(config_text(sim, tmp_path / "state", timeout=20.0))
    sim.delay_next("payitems", 3.0)
    proc = subprocess.Popen([sys.executable, "-m", "agent", "pos", "pay", "--method", "1", "--item", "7x1",
                             "--json", "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while sim.requests("payitems") == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert sim.requests("payitems") == 1, "payitems never reached the gateway"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "waiting for the sale's outcome" in err
    result = json.loads(out)
    assert result["result"] == "booked" and len(result["transactions"]) == 1
    assert sim.requests("payitems") == 1 and len(sim.transactions) == 1
