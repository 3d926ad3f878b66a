"""`kiosk-agent config check` and the annotated example config."""

import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

from agent import config

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kiosk-agent.toml"


def _check(path, env=None):
    return subprocess.run([sys.executable, "-m", "agent", "config", "check", "--config", str(path)],
                          capture_output=True, text=True, timeout=60, env=env)


def test_example_loads_with_every_table_and_key():
    cfg = config.load(str(EXAMPLE))
    data = tomllib.loads(EXAMPLE.read_text())
    assert set(data) == set(config.sections())
    for name, cls in config.sections().items():
        assert set(data[name]) == {f.name for f in fields(cls)}, name
        assert getattr(cfg, name) is not None


def test_example_every_table_commented():
    headers = [line for line in EXAMPLE.read_text().splitlines() if line.startswith("[")]
    assert sorted(h.split("]")[0] + "]" for h in headers) == sorted(f"[{name}]" for name in config.sections())
    assert all("#" in h for h in headers), headers


def test_config_check_prints_effective_config_masked(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "SECRET-TOKEN-77"\n'
                 '[pos]\ninstance = "v"\napi_key = "POS-KEY-99"\n[agent]\nstate_dir = "st"\nlog_level = "DEBUG"\n')
    r = _check(p)
    assert r.returncode == 0, r.stderr
    assert "SECRET-TOKEN-77" not in r.stdout + r.stderr and "POS-KEY-99" not in r.stdout + r.stderr
    shown = tomllib.loads(r.stdout)   # the output is TOML itself
    assert shown["mews"]["connector_token"] == "***" and shown["pos"]["api_key"] == "***"
    assert shown["agent"]["state_dir"] == str(tmp_path / "st")  # resolved
    assert shown["agent"]["log_level"] == "debug"
    assert shown["mews"]["mode"] == "websocket"  # defaults filled in
    assert not (tmp_path / "st").exists()  # offline: nothing created


def test_config_check_invalid_exits_2_listing_every_problem(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[mews]\nplatform_address = "http://x"\ngeneration = "seed"\nconnector_token = "T"\nmode = "socket"\n'
                 '[display]\naddress = "0x3C"\n')
    r = _check(p)
    assert r.returncode == 2 and r.stdout == ""
    assert "c.toml: mews.mode:" in r.stderr and "c.toml: display.address:" in r.stderr
