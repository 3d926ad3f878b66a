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
    cfg.write_text('[mews]\nplatform_address = "https://x"\nconnector_token = "t"\nmode = "socket"\n')
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
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nconnector_token = "SECRET-TOKEN-9"\n'
                   f'[agent]\nstate_dir = "{blocker}/state"\n')
    for args in (["run"], ["queue", "list"]):
        r = run(*args, "--config", str(cfg))
        assert r.returncode == 2, r.stderr
        assert "cannot use the state folder" in r.stderr and "agent.state_dir" in r.stderr
        assert "Traceback" not in r.stderr and "SECRET-TOKEN-9" not in r.stderr
