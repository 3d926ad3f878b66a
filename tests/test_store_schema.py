"""agent.db's schema version: migrations forward on open, each step back and forth, a newer file refused."""

import sqlite3
import subprocess
import sys

import pytest

from agent.runtime import schema
from agent.runtime.schema import BASELINE, LATEST, MIGRATIONS, SchemaTooNew
from agent.runtime.store import SCHEMA, Store


def _legacy_db(tmp_path):
    """agent.db as the agent before versioning left it: baseline tables, user_version 0, one pending report."""
    db = sqlite3.connect(tmp_path / "agent.db")
    db.executescript(SCHEMA)
    db.execute("INSERT INTO counters (name, value) VALUES ('db_created', 1)")
    db.execute("INSERT INTO outbox (kind, command_id, state, payload, created) "
               "VALUES ('command', 'c1', 'Processed', '{\"CommandId\": \"c1\"}', 1.0)")
    db.commit()
    db.close()


def _shape(path):
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    finally:
        db.close()


def _user_version(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_an_unversioned_database_is_migrated_forward_on_open_and_keeps_its_rows(tmp_path):
    _legacy_db(tmp_path)
    store = Store(tmp_path)
    assert [r.command_id for r in store.outbox.next_reports("command")] == ["c1"]
    assert not store.lost_state
    store.close()
    assert _user_version(tmp_path / "agent.db") == LATEST
    assert any(name == "versions" for _, name, _ in _shape(tmp_path / "agent.db"))


def test_a_new_database_starts_at_the_latest_version(tmp_path):
    Store(tmp_path).close()
    assert _user_version(tmp_path / "agent.db") == LATEST


@pytest.mark.parametrize("step", MIGRATIONS, ids=lambda m: f"v{m.version}")
def test_each_step_goes_down_to_exactly_the_schema_before_and_up_again(tmp_path, step):
    _legacy_db(tmp_path)
    path = tmp_path / "agent.db"
    db = sqlite3.connect(path, isolation_level=None)
    schema.migrate(db, step.version - 1, path=path)
    before = _shape(path)
    assert schema.migrate(db, step.version, path=path) == step.version
    after = _shape(path)
    assert after != before, f"step {step.version} changed nothing"
    assert schema.migrate(db, step.version - 1, path=path) == step.version - 1
    assert _shape(path) == before and _user_version(path) == step.version - 1
    assert db.execute("SELECT command_id FROM outbox").fetchall() == [("c1",)]  # the outbox survives both ways
    assert schema.migrate(db, step.version, path=path) == step.version and _shape(path) == after
    db.close()


def test_downgrade_to_the_baseline_then_an_older_agent_reads_the_outbox(tmp_path):
    _legacy_db(tmp_path)
    Store(tmp_path).close()
    path = tmp_path / "agent.db"
    db = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(db, BASELINE, path=path) == BASELINE
    db.close()
    assert _user_version(path) == BASELINE
    assert not any(name == "versions" for _, name, _ in _shape(path))
    store = Store(tmp_path)  # and forward again
    assert [r.command_id for r in store.outbox.next_reports("command")] == ["c1"]
    store.close()


def test_a_failing_step_leaves_the_version_and_tables_as_they_were(tmp_path):
    _legacy_db(tmp_path)
    path = tmp_path / "agent.db"
    bad = (schema.Migration(2, "good half, bad half", up="CREATE TABLE half (x);\nCREATE TABLE outbox (y);",
                            down="DROP TABLE half;"),)
    db = sqlite3.connect(path, isolation_level=None)
    before = _shape(path)
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(db, 2, path=path, steps=bad)
    db.close()
    assert _shape(path) == before and _user_version(path) == 0


def test_a_newer_database_is_refused_loudly_and_left_untouched(tmp_path):
    _legacy_db(tmp_path)
    path = tmp_path / "agent.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={LATEST + 1}")
    db.commit()
    db.close()
    shape = _shape(path)
    with pytest.raises(SchemaTooNew) as e:
        Store(tmp_path)
    text = str(e.value)
    assert str(path) in text and f"version {LATEST + 1}" in text and f"up to {LATEST}" in text
    assert _shape(path) == shape and _user_version(path) == LATEST + 1
    assert not list(tmp_path.glob("agent.db.corrupt-*"))  # not mistaken for a corrupt file


def test_run_on_a_newer_database_exits_with_the_code_the_service_does_not_restart(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    _legacy_db(state)
    db = sqlite3.connect(state / "agent.db")
    db.execute(f"PRAGMA user_version={LATEST + 5}")
    db.commit()
    db.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n'
                   f'[agent]\nstate_dir = "{state}"\n')
    out = subprocess.run([sys.executable, "-m", "agent", "run", "--config", str(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == SchemaTooNew.exit_code, out.stderr
    assert f"version {LATEST + 5}" in out.stderr and str(state / "agent.db") in out.stderr


def test_the_service_unit_does_not_restart_on_a_newer_database():
    from pathlib import Path

    unit = Path(__file__).parents[1] / "image/stage-kiosk/00-kiosk-agent/files/kiosk-agent.service"
    line = next(x for x in unit.read_text().splitlines() if x.startswith("RestartPreventExitStatus="))
    assert str(SchemaTooNew.exit_code) in line.split("=", 1)[1].split()


def test_state_downgrade_cli_takes_the_file_back_for_an_older_agent(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    _legacy_db(state)
    Store(state).close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n'
                   f'[agent]\nstate_dir = "{state}"\n')
    run = lambda *a: subprocess.run([sys.executable, "-m", "agent", "state", *a, "--config", str(cfg)],  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    assert run("version").stdout.startswith(f"{LATEST} ")
    out = run("downgrade", "--to", str(BASELINE))
    assert out.returncode == 0, out.stderr
    assert _user_version(state / "agent.db") == BASELINE
    assert run("downgrade", "--to", "0").returncode == 2
