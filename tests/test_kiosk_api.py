"""The kiosk JSON API (Bottle on waitress) and the CLI as its client, against the running KioskService."""

import json
import subprocess
import sys

import pytest

from tests.kiosk_harness import Rig, ask


@pytest.fixture
def service(tmp_path):
    rig = Rig(tmp_path)
    svc = rig.service()
    svc.start()
    yield rig, svc
    svc.stop()
    rig.close()


def test_routes_errors_and_no_store(service):
    rig, svc = service
    status, cfg, resp = ask(svc, "GET", "/api/config")
    assert status == 200 and cfg["max_keys"] == 2 and cfg["payment"] is True
    assert resp.headers.get("Cache-Control") == "no-store"
    assert ask(svc, "POST", "/api/sessions", {"flow": "dance"})[:2] == (400, {"error": {"id": "error.bad_request",
                                                                                        "params": {}}})
    assert ask(svc, "GET", "/api/sessions/nope")[0] == 404
    status, screen, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in", "language": "en"})
    assert status == 201 and screen["screen"] == "find" and "find" in screen["actions"]
    sid = screen["session"]
    assert ask(svc, "POST", f"/api/sessions/{sid}/input", {"action": "keys", "count": 1})[0] == 409
    assert ask(svc, "POST", f"/api/sessions/{sid}/input", {"nothing": 1})[0] == 400
    status, screen, _ = ask(svc, "POST", f"/api/sessions/{sid}/staff", {})
    assert status == 200 and screen["message"]["id"] == "staff.called" and rig.ent.tasks
    assert ask(svc, "DELETE", f"/api/sessions/{sid}")[0] == 204
    assert ask(svc, "GET", f"/api/sessions/{sid}")[0] == 404


def test_a_new_session_ends_and_wipes_the_previous(service):
    rig, svc = service
    _, first, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in"})
    ask(svc, "POST", f"/api/sessions/{first['session']}/input", {"action": "find", "number": "1001",
                                                                 "last_name": "Walker"})
    ask(svc, "POST", "/api/sessions", {"flow": "check-out"})
    assert ask(svc, "GET", f"/api/sessions/{first['session']}")[0] == 404


def cli(rig, *args):
    proc = subprocess.run([sys.executable, "-m", "agent", "kiosk", *args, "--config", str(rig.tmp / "config.toml"),
                           "--json"], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_cli_check_in_and_refusal_through_the_running_api(service):
    rig, svc = service
    text = (rig.tmp / "config.toml").read_text().replace('listen = "127.0.0.1:0"', f'listen = "{svc.url[7:]}"')
    (rig.tmp / "config.toml").write_text(text)
    code, out, err = cli(rig, "check-in", "--number", "1002", "--last-name", "fernandez", "--keys", "1")
    result = json.loads(out)
    assert code == 0, out + err
    assert (result["result"], result["reservation"], result["room"], result["keys"], result["printed"]) == (
        "checked in", "1002", "104", 1, True)
    code, out, _ = cli(rig, "check-in", "--number", "1003", "--last-name", "Dubois")
    assert code == 1 and json.loads(out)["result"] == "refused"
    assert "being prepared" in json.loads(out)["message"]


def test_cli_without_a_running_agent_exits_2(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:1"\ngeneration = "seed"\nconnector_token = "t"\n'
                   '[kiosk]\nenabled = true\nlisten = "127.0.0.1:1"\n')
    proc = subprocess.run([sys.executable, "-m", "agent", "kiosk", "check-out", "--room", "201", "--last-name", "X",
                           "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no agent with the kiosk enabled" in proc.stderr


def test_an_idle_session_is_wiped_and_stop_is_quick(service):
    import time

    rig, svc = service
    _, screen, _ = ask(svc, "POST", "/api/sessions", {"flow": "check-in"})
    session = svc.get(screen["session"])
    ask(svc, "POST", f"/api/sessions/{screen['session']}/input", {"action": "find", "number": "1001",
                                                                  "last_name": "Walker"})
    session.wait_idle(30)
    assert session.data["guest"]["last_name"] == "Walker"
    svc.reap()
    assert svc.get(screen["session"]) is session  # not idle yet
    from agent.kiosk.service import ACTIVITY_SLACK, COUNTDOWN

    session.last_input -= rig.cfg.kiosk.idle_timeout + COUNTDOWN + ACTIVITY_SLACK + 1
    svc.reap()
    assert ask(svc, "GET", f"/api/sessions/{screen['session']}")[0] == 404
    assert session.data == {} and session.stay is None  # guest data wiped
    t = time.monotonic()
    svc.stop()
    assert time.monotonic() - t < 2.0
