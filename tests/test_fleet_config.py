"""The [fleet] table: defaults, errors naming the key, and the journal-upload files rendered from it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, parse
from agent.fleet import journal_upload

REPO = Path(__file__).resolve().parents[1]
FIRSTBOOT_SH = REPO / "image/stage-kiosk/00-kiosk-agent/files/kiosk-firstboot"
BASE = '[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n'


@pytest.fixture
def pki(tmp_path):
    for name in ("unit.crt", "unit.key", "ca.crt"):
        (tmp_path / name).write_text("-----BEGIN X-----\n")
    return tmp_path


def _fleet(tmp_path, body):
    return parse(BASE + "[fleet]\n" + body, str(tmp_path / "config.toml"))


def _problems(tmp_path, body):
    with pytest.raises(ConfigError) as e:
        _fleet(tmp_path, body)
    return {err.key: err.problem for err in e.value.errors}


def test_fleet_is_off_by_default(tmp_path):
    cfg = parse(BASE, str(tmp_path / "config.toml"))
    assert not cfg.fleet.metrics and not cfg.fleet.journal_upload_url and not cfg.fleet.update_url
    assert cfg.fleet.metrics_textfile.endswith(".prom") and cfg.fleet.metrics_interval == 15.0
    assert journal_upload.render_upload_conf(cfg.fleet) is None


def test_config_errors_name_the_key(tmp_path, pki):
    got = _problems(tmp_path, 'metrics = "yes"\nmetrics_interval = 0.1\nupdate_url = "ftp://x"\nmetrics_textfil = "x"\n')
    assert set(got) == {"fleet.metrics", "fleet.metrics_interval", "fleet.metrics_textfil"}
    got = _problems(tmp_path, 'update_url = "ftp://updates"\njournal_upload_url = "https://logs:19532"\n'
                              f'client_cert = "{pki}/unit.crt"\n')
    assert "fleet.update_url" in got and "https://" in got["fleet.update_url"]
    assert "fleet.client_key" in got and "client_cert" in got["fleet.client_key"]
    assert "fleet.ca_file" in got and "mutual TLS" in got["fleet.ca_file"]
    got = _problems(tmp_path, 'client_key = "missing.key"\n')
    assert "file not found" in got["fleet.client_key"]
    got = _problems(tmp_path, 'metrics = true\nmetrics_textfile = "/var/lib/prometheus/node-exporter/kiosk.txt"\n')
    assert ".prom" in got["fleet.metrics_textfile"]


def test_the_journal_upload_drop_in_is_rendered_from_the_config(tmp_path, pki):
    cfg = _fleet(tmp_path, 'journal_upload_url = "https://logs.chain.example:19532"\n'
                           'client_cert = "unit.crt"\nclient_key = "unit.key"\nca_file = "ca.crt"\n')
    text = journal_upload.render_upload_conf(cfg.fleet)
    lines = text.splitlines()
    assert "[Upload]" in lines
    assert "URL=https://logs.chain.example:19532" in lines
    assert f"ServerKeyFile={pki}/unit.key" in lines  # paths resolved next to the config file
    assert f"ServerCertificateFile={pki}/unit.crt" in lines
    assert f"TrustedCertificateFile={pki}/ca.crt" in lines
    unit = journal_upload.render_service_dropin()
    assert "RequiresMountsFor=/var/lib/private/systemd/journal-upload" in unit.splitlines()


def test_apply_writes_both_drop_ins_and_removes_them_when_the_url_goes(tmp_path, pki):
    conf_dir, unit_dir = tmp_path / "journal-upload.conf.d", tmp_path / "unit.d"
    cfg = tmp_path / "config.toml"
    cfg.write_text(BASE + '[fleet]\njournal_upload_url = "http://logs.lan:19532"\n')
    args = [sys.executable, "-m", "agent.fleet.journal_upload", "--config", str(cfg),
            "--conf-dir", str(conf_dir), "--unit-dir", str(unit_dir)]
    on = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert on.returncode == 0 and on.stdout.startswith("on: "), on.stderr
    assert "URL=http://logs.lan:19532" in (conf_dir / "kiosk-agent.conf").read_text()
    assert (unit_dir / "kiosk-agent.conf").is_file()
    cfg.write_text(BASE)
    off = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert off.returncode == 0 and off.stdout.startswith("off")
    assert not (conf_dir / "kiosk-agent.conf").exists() and not (unit_dir / "kiosk-agent.conf").exists()


def test_a_value_that_would_break_the_file_is_refused(tmp_path):
    from dataclasses import replace

    cfg = parse(BASE, str(tmp_path / "config.toml"))
    bad = replace(cfg.fleet, journal_upload_url="https://x\n[Upload]\nURL=https://evil")
    with pytest.raises(journal_upload.UnsafeValue, match="fleet.journal_upload_url"):
        journal_upload.render_upload_conf(bad)
    assert _problems(tmp_path, 'journal_upload_url = "https://x\\nURL=https://evil"\n')["fleet.journal_upload_url"]


def test_firstboot_sets_up_the_upload_from_the_installed_config(tmp_path):
    """kiosk-firstboot's setup_journal_upload step with a stand-in venv (no data partition mounted here)."""
    venv = tmp_path / "venv/bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "config.toml").write_text(BASE + '[fleet]\njournal_upload_url = "http://logs.lan"\n')
    src = FIRSTBOOT_SH.read_text()
    script = src[:src.index("main() {")] + "setup_journal_upload\n"
    env = {**os.environ, "AGENT_VENV": str(tmp_path / "venv"), "CONFIG_DIR": str(etc), "PYTHONPATH": str(REPO),
           "DATA_MNT": str(tmp_path / "no-data"), "JOURNAL_UPLOAD_CONF_DIR": str(tmp_path / "conf.d"),
           "JOURNAL_UPLOAD_UNIT_DIR": str(tmp_path / "unit.d"), "JOURNAL_UPLOAD_STATE": str(tmp_path / "state"),
           "SYSTEMCTL": "true"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "URL=http://logs.lan" in (tmp_path / "conf.d/kiosk-agent.conf").read_text()
    assert "cursor is kept in RAM" in done.stderr  # says so rather than pretend
