"""`kiosk-agent mews OPERATION` end to end: a subprocess against the simulator on loopback."""

import json
import os
import re
import subprocess
import sys

import pytest

from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator

CLIENT_TOKEN = "CLI-CLIENT-TOKEN-0042"


@pytest.fixture(scope="module")
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


@pytest.fixture(scope="module")
def cfg(sim, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "config.toml"
    path.write_text(f'[mews]\nplatform_address = "{sim.url}"\ngeneration = "seed"\nconnector_token = "{DEMO_CONNECTOR_TOKEN}"\n'
                    f'client_token = "{CLIENT_TOKEN}"\ntimeout = 5.0\n[agent]\nlog_level = "debug"\n')
    return str(path)


def kiosk(*args):
    env = dict(os.environ)
    env.pop("KIOSK_AGENT_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "agent", "mews", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_spaces_get_all_prints_the_json_response(sim, cfg):
    r = kiosk("spaces/getAll", "--config", cfg)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["Spaces"] and answer["SpaceCategories"]
    assert r.stdout.startswith("{\n  ")  # indent 2
    assert sim.last_client["Client"].startswith("kiosk-agent ") and sim.last_client["ClientToken"] == CLIENT_TOKEN
    for secret in (DEMO_CONNECTOR_TOKEN, CLIENT_TOKEN, sim.sessions.current):
        assert secret not in r.stderr and secret not in r.stdout  # even at log_level debug


def test_operation_fields_come_from_json(sim, cfg):
    body = {"StartUtc": "2000-01-01T00:00:00Z", "EndUtc": "2100-01-01T00:00:00Z", "States": ["Started"]}
    r = kiosk("reservations/getAll", "--config", cfg, "--json", json.dumps(body))
    assert r.returncode == 0, r.stderr
    states = {x["State"] for x in json.loads(r.stdout)["Reservations"]}
    assert states == {"Started"}


def test_api_error_prints_class_message_and_request_id_and_exits_1(cfg):
    r = kiosk("reservations/start", "--config", cfg, "--json", '{"ReservationId": "no-such-reservation"}')
    assert r.returncode == 1 and r.stdout == ""
    assert re.search(r"^BadRequest: .+ \(Request-Id [0-9a-f-]{8,}\)$", r.stderr, re.M), r.stderr


def test_sign_in_prints_the_new_access_token(sim, cfg):
    r = kiosk("app/signIn", "--config", cfg)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["AccessToken"] == sim.sessions.current and answer["Enterprise"]["Id"]
    assert answer["AccessToken"] not in r.stderr  # printed for the technician, never logged


def test_unobfuscated_card_is_refused_before_anything_is_sent(sim, cfg):
    before = sim.request_count()
    body = {"CustomerId": "x", "Amount": {"Currency": "GBP", "Value": 5},
            "CreditCard": {"Type": "Visa", "Number": "4111111111111111", "Expiration": "12/2030", "Name": "J"}}
    r = kiosk("payments/addCreditCard", "--config", cfg, "--json", json.dumps(body))
    assert r.returncode == 2 and "obfuscated" in r.stderr
    assert "4111111111111111" not in r.stderr + r.stdout
    assert sim.request_count() == before


@pytest.mark.parametrize("args,expected", [
    (["spaces/getall"], "did you mean spaces/getAll"),
    (["rooms/teleport"], "unknown operation"),
    (["reservations/start", "--json", "{not json"], "--json is not valid JSON"),
    (["reservations/start", "--json", "[1]"], "--json must be a JSON object"),
    (["reservations/start"], "reservations/start needs ReservationId"),
])
def test_usage_errors_exit_2_with_a_clear_message(sim, cfg, args, expected):
    before = sim.request_count()
    r = kiosk(*args, "--config", cfg)
    assert r.returncode == 2 and expected in r.stderr and r.stdout == ""
    assert sim.request_count() == before


def test_config_error_exits_2(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[mews]\nplatform_address = "ftp://x"\ngeneration = "seed"\nconnector_token = "t"\n')
    r = kiosk("spaces/getAll", "--config", str(bad))
    assert r.returncode == 2 and "mews.platform_address" in r.stderr


def test_unreachable_platform_is_retryable_exit_1(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "config.toml"
    path.write_text(f'[mews]\nplatform_address = "http://127.0.0.1:{port}"\ngeneration = "seed"\nconnector_token = "T-1234"\n'
                    f'sign_in = false\ntimeout = 2.0\n')
    r = kiosk("spaces/getAll", "--config", str(path))
    assert r.returncode == 1 and r.stderr.startswith("Retryable: ") and "network error" in r.stderr


def test_operation_names_match_the_client():
    from agent.commands.mews import OPERATION_NAMES
    from agent.mews.operations import CURRENT_OPERATIONS, SEED_OPERATIONS
    OPERATIONS = {**SEED_OPERATIONS, **CURRENT_OPERATIONS}

    assert list(OPERATION_NAMES) == list(OPERATIONS)
