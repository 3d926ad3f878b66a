"""`kiosk-agent sim encoder` as a process: first stdout line, keys served, JSONL log, clean exit."""

import json
import signal
import subprocess
import sys
from datetime import datetime

import pytest

from hal.encoder import KeyCard, KeyEncoder

CARD = KeyCard(("310",), datetime(2024, 8, 1, 15, 0), datetime(2024, 8, 4, 11, 0), ("Ines Faure",))


@pytest.mark.parametrize("mode", [["--pty"], ["--port", "0"]])
def test_sim_encoder_cli(tmp_path, mode):
    log = tmp_path / "keys.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "agent", "sim", "encoder", *mode, "--log", str(log),
                             "--card-delay", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().strip()
        if mode[0] == "--pty":
            assert first.startswith("/dev/")
            url = first
        else:
            assert first.startswith("port=") and int(first[5:]) > 0
            url = f"socket://127.0.0.1:{first[5:]}"
        with KeyEncoder(url, reply_timeout=5.0, ack_timeout=1.0) as enc:
            enc.encode_new(CARD)
            enc.copy(CARD)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    keys = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(k["command"], k["rooms"], k["valid_from"], k["valid_until"], k["copy"], k["text"]) for k in keys] == [
        ("CN", ["310"], "2024-08-01T15:00", "2024-08-04T11:00", 0, ["Ines Faure"]),
        ("CC", ["310"], "2024-08-01T15:00", "2024-08-04T11:00", 1, ["Ines Faure"]),
    ]
    assert "new key for room 310" in err and "copy 1 for room 310" in err
