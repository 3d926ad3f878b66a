"""Operator-facing CLI edges (issue 13 item 11): doctor on a closed pipe, grammar, POS check,
a state folder `run` would create; queue on a missing folder and unknown ids; unknown POS."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.cli import main as cli_main
from tests.pos.pos_harness import API_KEY, config_text


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, timeout=timeout)


def _config(tmp_path, state, extra=""):
    path = tmp_path / "config.toml"
    path.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "t"\ntimeout = 0.5\n'
                    f'mode = "poll"\n[agent]\nstate_dir = "{state}"\n' + extra)
    return str(path)


def test_doctor_into_a_closed_pipe_exits_quietly(tmp_path):
    cfg = _config(tmp_path, tmp_path / "state")
    proc = subprocess.Popen(f'{sys.executable} -m agent doctor --config "{cfg}" | head -1',
                            shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert out.startswith("OK   config")
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


def test_doctor_missing_but_creatable_state_folder_is_ok(tmp_path):
    from agent import config as config_mod
    from agent.doctor import host

    cfg = config_mod.parse(f'[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n'
                           f'[agent]\nstate_dir = "{tmp_path / "new" / "state"}"\n', str(tmp_path / "c.toml"))
    result = host.check_state_dir(cfg)
    assert result.status == "OK" and "run will create it" in result.detail
    assert not (tmp_path / "new").exists()  # doctor creates nothing
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = config_mod.parse(f'[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n'
                           f'[agent]\nstate_dir = "{blocker / "state"}"\n', str(tmp_path / "c.toml"))
    assert host.check_state_dir(cfg).status == "FAIL"


def test_doctor_one_check_grammar(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text('[mews]\nmode = "socket"\n')
    assert cli_main(["doctor", "--config", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "1 check: 1 failed (config)"


def test_doctor_checks_the_pos_gateway(sim, tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(config_text(sim, tmp_path / "state"))
    cli_main(["doctor", "--config", str(path)])
    out = capsys.readouterr().out
    assert "OK   pos        instance my-venue via shard" in out and "license active" in out
    path.write_text(config_text(sim, tmp_path / "state").replace(API_KEY, "wrong-key-000"))
    cli_main(["doctor", "--config", str(path)])
    out = capsys.readouterr().out
    assert "FAIL pos" in out and "check pos.api_key" in out and "wrong-key-000" not in out


def test_queue_on_a_missing_state_folder_is_an_error_not_a_new_database(tmp_path):
    cfg = _config(tmp_path, tmp_path / "nowhere")
    r = run("queue", "list", "--config", cfg)
    assert r.returncode == 2 and "agent.state_dir" in r.stderr and str(tmp_path / "nowhere") in r.stderr
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("action", ["retry", "drop"])
def test_queue_unknown_id_exits_1(tmp_path, action):
    from agent.runtime.store import Store

    store = Store(tmp_path / "state")
    rid = store.outbox.enqueue_report("c-1", "Processed", notes="ok")
    store.outbox.dead_letter(rid, "BadRequest")
    store.close()
    cfg = _config(tmp_path, tmp_path / "state")
    r = run("queue", action, str(rid + 41), "--config", cfg)
    assert r.returncode == 1 and f"no report with id {rid + 41}" in r.stderr
    r = run("queue", action, str(rid), "--config", cfg)
    assert r.returncode == 0 and "1 report(s)" in r.stdout, r.stderr


def test_pos_unknown_point_of_sale_exits_1(sim, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(config_text(sim, tmp_path / "state"))
    for action in ("products", "methods", "transactions"):
        r = run("pos", action, "--pos", "7", "--config", str(path))
        assert r.returncode == 1 and "no point of sale 7" in r.stderr, (action, r.stderr)
    assert run("pos", "products", "--pos", "1", "--config", str(path)).returncode == 0
