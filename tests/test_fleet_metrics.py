"""The unit's Prometheus textfile: written atomically from the health snapshot and agent.db, read back
with prometheus_client's own text parser (what node_exporter's textfile collector accepts)."""

import os
import stat
import subprocess
import sys
import time

import pytest

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from agent.fleet import metrics  # noqa: E402
from agent.fleet.versions import record_start  # noqa: E402
from agent.runtime.health import DeviceHealth, Health  # noqa: E402
from agent.runtime.store import Store  # noqa: E402


def _families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(fams, name, **labels):
    fam = fams[name]
    for s in fam.samples:
        if s.labels == labels and s.name in (name, name + "_total"):
            return s.value
    raise AssertionError(f"{name}{labels} not in {[(s.name, s.labels) for s in fam.samples]}")


def _unit(state, *, connection="online", age=1.0, paper="paper near end"):
    store = Store(state)
    store.outbox.enqueue_report("c1", "Processed")
    store.outbox.enqueue_report("c2", "Received")
    rid = store.outbox.enqueue_report("c3", "Processed")
    store.outbox.dead_letter(rid, "BadRequest: no")
    store.journal.begin("k1", "KeyCutter")
    store.journal.finish("k1", "KeyCutter")
    store.journal.begin("p1", "Printer")
    record_start(store, "1.2.0", "A", clock=lambda: 1000.0)
    record_start(store, "1.3.0", "B", clock=lambda: 2000.0)
    store.close()
    h = Health(connection=connection, outbox_depth=99, storage="ok",
               devices={"printer": DeviceHealth("printer", state="fault", fault=paper),
                        "encoder": DeviceHealth("encoder", state="idle")},
               counters={"commands_processed": 7, "commands_failed": 2, "kiosk_checkin_checked_in": 3,
                         "kiosk_checkin_refused": 1},
               services={"kiosk": "ok"}, updated_at=time.time() - age)
    h.write(state / "health.json")


def _config(tmp_path, state, textfile):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n'
                   f'[agent]\nstate_dir = "{state}"\n'
                   f'[fleet]\nmetrics = true\nmetrics_textfile = "{textfile}"\nmetrics_interval = 1\n')
    return cfg


def test_the_textfile_holds_the_units_health_with_stable_names_and_help(tmp_path):
    state = tmp_path / "state"
    _unit(state)
    textfile = tmp_path / "node-exporter" / "kiosk_agent.prom"
    textfile.parent.mkdir()
    cfg = _config(tmp_path, state, textfile)
    out = subprocess.run([sys.executable, "-m", "agent", "metrics", "--once", "--config", str(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = textfile.read_text()
    fams = _families(text)
    assert _value(fams, "kiosk_up") == 1
    assert _value(fams, "kiosk_online") == 1
    assert _value(fams, "kiosk_connection_state", state="online") == 1
    assert _value(fams, "kiosk_connection_state", state="offline") == 0
    assert _value(fams, "kiosk_storage_ok") == 1
    assert _value(fams, "kiosk_outbox_depth") == 2  # read live from agent.db, not the snapshot's 99
    assert _value(fams, "kiosk_dead_letters") == 1
    assert _value(fams, "kiosk_device_state", device="printer", state="fault") == 1
    assert _value(fams, "kiosk_device_state", device="encoder", state="idle") == 1
    assert _value(fams, "kiosk_paper_low", device="printer") == 1
    assert _value(fams, "kiosk_commands", outcome="processed") == 7
    assert _value(fams, "kiosk_commands", outcome="failed") == 2
    assert _value(fams, "kiosk_checkins", outcome="checked_in") == 3
    assert _value(fams, "kiosk_journal_commands", device_type="KeyCutter", state="done") == 1
    assert _value(fams, "kiosk_journal_commands", device_type="Printer", state="executing") == 1
    assert _value(fams, "kiosk_service_ok", service="kiosk") == 1
    assert _value(fams, "kiosk_state_schema_version") >= 2
    assert _value(fams, "kiosk_last_update_timestamp_seconds") == 2000.0
    assert _value(fams, "kiosk_rollback") == 0
    info = fams["kiosk_info"].samples[0]
    assert info.labels["version"] and info.labels["slot"] == ""  # no rauc.slot= on this host's command line
    for fam in fams.values():
        assert fam.documentation, f"{fam.name} has no help text"
    assert fams["kiosk_commands"].type == "counter" and fams["kiosk_outbox_depth"].type == "gauge"
    assert stat.S_IMODE(os.stat(textfile).st_mode) == 0o644  # node_exporter runs as another user
    assert sorted(os.listdir(textfile.parent)) == ["kiosk_agent.prom"]  # no temporary file left behind


def test_no_agent_running_says_down_and_a_rollback_shows(tmp_path):
    state = tmp_path / "state"
    _unit(state, age=600)
    store = Store(state)
    record_start(store, "1.2.0", "A", clock=lambda: 3000.0)  # back to the older version
    store.close()
    snap = metrics.read_snapshot(state, version="1.2.0", slot="A")
    fams = _families(metrics.render(snap).decode())
    assert _value(fams, "kiosk_up") == 0 and _value(fams, "kiosk_online") == 0
    assert _value(fams, "kiosk_rollback") == 1 and _value(fams, "kiosk_rollbacks") == 1
    assert _value(fams, "kiosk_info", version="1.2.0", slot="A") == 1


def test_an_empty_or_broken_state_folder_still_gives_a_parseable_file(tmp_path):
    (tmp_path / "health.json").write_text("{not json")
    snap = metrics.read_snapshot(tmp_path, version="9", slot="")
    fams = _families(metrics.render(snap).decode())
    assert _value(fams, "kiosk_up") == 0
    assert "cannot read health.json" in snap.health_error


def test_the_writer_loop_rewrites_the_file_and_survives_a_missing_folder(tmp_path):
    import threading

    from agent.config import parse

    state = tmp_path / "state"
    _unit(state)
    textfile = tmp_path / "gone" / "kiosk_agent.prom"
    cfg = parse(_config(tmp_path, state, textfile).read_text(), str(tmp_path / "config.toml"))
    stop = threading.Event()
    t = threading.Thread(target=metrics.run, args=(cfg, stop), daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 10
        while not stop.wait(0.05) and time.monotonic() < deadline:
            if t.is_alive() and not textfile.parent.exists():
                textfile.parent.mkdir()  # the writer failed at least once; now it can write
            if textfile.exists():
                break
        assert textfile.exists() and t.is_alive()
    finally:
        stop.set()
        t.join(5)


def test_request_budget_use_reaches_the_textfile(tmp_path):
    from agent.mews.ratelimit import RateLimiter

    now = [100.0]
    limiter = RateLimiter(limit=10, window=30.0, clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(4):
        limiter.acquire("token-a")
    limiter.acquire("token-b")
    assert limiter.used() == 4
    now[0] += 31
    assert limiter.used() == 0  # the window moved on without another request
    now[0] -= 31
    h = Health(counters={"mews_budget_used": limiter.used(), "mews_budget_limit": limiter.limit},
               updated_at=time.time())
    h.write(tmp_path / "health.json")
    fams = _families(metrics.render(metrics.read_snapshot(tmp_path, version="1", slot="")).decode())
    assert _value(fams, "kiosk_request_budget_used_ratio") == pytest.approx(0.4)


def _emitted_names(tmp_path):
    state = tmp_path / "full"
    _unit(state)
    h = Health.read(state / "health.json")
    h.counters.update({"mews_budget_used": 1, "mews_budget_limit": 10})
    h.write(state / "health.json")
    text = metrics.render(metrics.read_snapshot(state, version="1", slot="A")).decode()
    return {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_the_dashboard_and_alert_rules_use_only_metrics_the_unit_writes(tmp_path):
    import json
    import re
    from pathlib import Path

    yaml = pytest.importorskip("yaml")
    docs = Path(__file__).resolve().parents[1] / "docs" / "fleet"
    emitted = _emitted_names(tmp_path)
    rules = yaml.safe_load((docs / "alert-rules.yml").read_text())["groups"][0]["rules"]
    alerts = {r["alert"] for r in rules}
    assert {"KioskUnitOffline", "KioskPaperLow", "KioskOutboxGrowing", "KioskRollbackHappened"} <= alerts
    dash = json.loads((docs / "grafana-dashboard.json").read_text())
    exprs = [r["expr"] for r in rules] + [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {name for e in exprs for name in re.findall(r"\bkiosk_[a-z_]+", e)}
    assert used and used <= emitted, used - emitted
    assert dash["uid"] and dash["__inputs"][0]["pluginId"] == "prometheus"  # importable with a data source choice


def test_promtool_accepts_the_rules_their_unit_tests_and_the_textfile(tmp_path):
    import shutil
    from pathlib import Path

    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (apt-get install prometheus; .ci/run installs it)")
    docs = Path(__file__).resolve().parents[1] / "docs" / "fleet"
    for args in (["check", "rules", "alert-rules.yml"], ["test", "rules", "alert-rules.test.yml"]):
        done = subprocess.run(["promtool", *args], cwd=docs, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
    state = tmp_path / "state"
    _unit(state)
    text = metrics.render(metrics.read_snapshot(state, version="1", slot="A"))
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr  # names, help and types as Prometheus' linter wants


def test_the_running_agent_publishes_its_budget_use_and_records_its_version(tmp_path):
    from agent import __version__
    from agent.config import parse
    from agent.fleet.versions import read_history
    from agent.runtime import lifecycle
    from agent.runtime.app import build_agent

    cfg = parse(_config(tmp_path, tmp_path / "state", tmp_path / "m.prom").read_text(), str(tmp_path / "config.toml"))
    agent = build_agent(cfg)
    try:
        for _ in range(3):
            agent.client._limiter.acquire("a-token")
        lifecycle.update_health(agent)
        assert agent.health.counters["mews_budget_used"] == 3
        assert agent.health.counters["mews_budget_limit"] == agent.client._limiter.limit
    finally:
        agent.store.close()
        agent.client.close()
    history = read_history(tmp_path / "state")
    assert history.current.version == __version__  # recorded at start, for doctor and the metrics
