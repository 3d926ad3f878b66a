"""A dead POS gateway (every shard a black hole: TCP accepted, no handshake) fails `pos status`
within pos.timeout overall, not pos.timeout per shard (issue 13 item 13)."""

import socket
import time

import pytest

from agent.cli import main as cli_main

SHARDS = 5
TIMEOUT = 2.0


@pytest.fixture
def black_holes():
    socks = []
    for _ in range(SHARDS):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)  # the kernel completes the TCP handshake; nobody ever answers the websocket upgrade
        socks.append(s)
    yield [str(s.getsockname()[1]) for s in socks]
    for s in socks:
        s.close()


def test_pos_status_on_a_dead_gateway_fails_within_the_timeout(black_holes, tmp_path, capsys):
    shards = ", ".join(f'"{p}"' for p in black_holes)
    path = tmp_path / "config.toml"
    path.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "t"\n'
                    f'[agent]\nstate_dir = "{tmp_path / "state"}"\n'
                    f'[pos]\ninstance = "v"\napi_key = "k"\nshards = [{shards}]\n'
                    f'url_template = "ws://127.0.0.1:{{shard}}/{{instance}}"\ntimeout = {TIMEOUT}\n')
    started = time.monotonic()
    code = cli_main(["pos", "status", "--config", str(path)])
    elapsed = time.monotonic() - started
    assert code == 1
    assert "GatewayUnavailable" in capsys.readouterr().err
    # per shard it would take SHARDS x TIMEOUT = 10 s; overall it is TIMEOUT (generous bound)
    assert elapsed < 3 * TIMEOUT, elapsed
