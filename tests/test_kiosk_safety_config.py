"""Issue 21 item 9: a kiosk listening beyond loopback needs ``kiosk.screen_token``, a secret kept out of sight."""

from __future__ import annotations

import logging
import subprocess
import sys
import tomllib

import pytest

from agent import config
from agent.config.errors import ConfigError

TOKEN = "b7f0c1d2e3a4958677f8e9d0a1b2c3d4"


def kiosk_config(tmp_path, kiosk: str):
    path = tmp_path / "config.toml"
    path.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nconnector_token = "T0KEN-X"\ngeneration = "seed"\n'
                    f'[agent]\nstate_dir = "st"\n[kiosk]\n{kiosk}\n')
    return path


@pytest.mark.parametrize("listen", ["0.0.0.0:8765", "[::]:8765", "192.168.1.20:8765", "kiosk.local:8765", ":8765x"])
def test_listening_beyond_loopback_without_a_screen_token_is_a_config_error(tmp_path, listen):
    path = kiosk_config(tmp_path, f'enabled = true\nlisten = "{listen}"')
    with pytest.raises(ConfigError) as e:
        config.load(str(path))
    key = "kiosk.listen" if listen.endswith("x") else "kiosk.screen_token"
    assert str(e.value).startswith(f"config.toml: {key}: "), str(e.value)


@pytest.mark.parametrize("listen", ["127.0.0.1:8765", "localhost:8765", "[::1]:0", "127.0.0.2:80", ":8765"])
def test_loopback_needs_no_token(tmp_path, listen):
    cfg = config.load(str(kiosk_config(tmp_path, f'enabled = true\nlisten = "{listen}"')))
    assert cfg.kiosk.screen_token == ""


def test_a_disabled_kiosk_may_keep_any_listen(tmp_path):
    config.load(str(kiosk_config(tmp_path, 'enabled = false\nlisten = "0.0.0.0:8765"')))


def test_a_weak_token_is_refused_without_echoing_it(tmp_path):
    for weak in ("short", "has spaces in it, 0123456789", "ünïcode-0123456789abcdef"):
        with pytest.raises(ConfigError) as e:
            config.load(str(kiosk_config(tmp_path, f'enabled = true\nscreen_token = "{weak}"')))
        assert "kiosk.screen_token" in str(e.value) and weak not in str(e.value)


def test_the_token_is_masked_in_config_check_and_logs(tmp_path, caplog):
    path = kiosk_config(tmp_path, f'enabled = true\nlisten = "0.0.0.0:0"\nscreen_token = "{TOKEN}"')
    cfg = config.load(str(path))
    assert cfg.kiosk.screen_token == TOKEN and TOKEN in cfg.secrets() and TOKEN not in repr(cfg)
    r = subprocess.run([sys.executable, "-m", "agent", "config", "check", "--config", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert TOKEN not in r.stdout + r.stderr
    assert tomllib.loads(r.stdout)["kiosk"]["screen_token"] == "***"
    from agent.runtime import logs

    logs.add_secret(TOKEN)  # what `run` does with cfg.secrets()
    record = logging.LogRecord("agent.kiosk", logging.INFO, __file__, 1, "opened http://x/#screen=%s", (TOKEN,), None)
    assert TOKEN not in logs.RedactingFormatter().format(record)
