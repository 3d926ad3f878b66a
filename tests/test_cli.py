import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_subcommands():
    r = run("--help")
    assert r.returncode == 0
    for name in ("run", "status", "queue", "mews", "pos", "doctor", "sim", "demo"):
        assert name in r.stdout


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("kiosk-agent ")


def test_config_error_exits_2_and_names_key(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\nmode = "socket"\n')
    r = run("mews", "spaces/getAll", "--config", str(cfg))
    assert r.returncode == 2
    assert 'config.toml: mews.mode: expected "websocket" or "poll", got "socket"' in r.stderr


def test_help_stays_light():
    code = "import sys, agent.cli; agent.cli.build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL','pypdfium2','luma','gpiozero','aiohttp','sim','serial','websocket')))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stdout


def test_unusable_state_dir_is_a_clear_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "SECRET-TOKEN-9"\n'
                   f'[agent]\nstate_dir = "{blocker}/state"\n')
    for args in (["run"], ["queue", "list"]):
        r = run(*args, "--config", str(cfg))
        assert r.returncode == 2, r.stderr
        assert "cannot use the state folder" in r.stderr and "agent.state_dir" in r.stderr
        assert "Traceback" not in r.stderr and "SECRET-TOKEN-9" not in r.stderr


def test_status_reads_the_outbox_depth_live_from_the_store(tmp_path):
    """health.json is written every 2 s; the outbox counts come from the store itself."""
    import json
    import time

    from agent.runtime.health import Health
    from agent.runtime.store import Store

    state = tmp_path / "state"
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "t"\n'
                   f'[agent]\nstate_dir = "{state}"\n')
    store = Store(state)
    rid = store.outbox.enqueue_report("c-1", "Processed", notes="ok")
    store.outbox.enqueue_report("c-2", "Processed", notes="ok")
    store.outbox.dead_letter(rid, "BadRequest")
    store.close()
    Health(connection="online", outbox_depth=5, dead_letters=0, updated_at=time.time()).write(state / "health.json")
    r = run("status", "--config", str(cfg), "--json")
    assert r.returncode == 0, r.stderr
    snap = json.loads(r.stdout)
    assert (snap["outbox_depth"], snap["dead_letters"]) == (1, 1)
    assert "outbox:       1 pending, 1 dead" in run("status", "--config", str(cfg)).stdout
