"""Issue 11, storage side: a full, read-only, corrupt, deleted or replaced agent.db never crashes the store."""

import os
import subprocess

import pytest

from agent.runtime.store import StateError, StorageError, Store


def _root_mount(path, size="8m"):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs for the state folder")
    path.mkdir(exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    state = tmp_path / "state"
    _root_mount(state)
    yield state
    subprocess.run(["umount", "-l", str(state)], check=False)


def fill(folder):
    """Fill the file system to the last byte, as a full SD card is."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (65536, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass
    finally:
        os.close(fd)


def test_a_full_disk_holds_reports_refuses_journals_and_recovers(small_disk):
    store = Store(small_disk)
    store.journal.begin("warm", "Printer")
    fill(small_disk)
    for i in range(200):  # enough to need new pages
        store.outbox.enqueue_report(f"c{i}", "Processed", notes="x" * 200)  # never raises
    assert store.fault.startswith("disk full (agent.db)") and store.outbox.held > 0
    with pytest.raises(StorageError):
        store.journal.begin("key-1", "KeyCutter", "{}" * 5000)
    assert issubclass(StorageError, StateError)
    os.remove(small_disk / "filler")
    store.check()
    assert store.fault == "" and store.outbox.held == 0
    assert {r.command_id for r in store.outbox.next_reports("command", 500)} == {f"c{i}" for i in range(200)}
    store.close()


def test_a_corrupt_database_is_moved_aside_and_state_is_lost(tmp_path):
    Store(tmp_path).close()
    (tmp_path / "agent.db").write_bytes(b"this is not an SQLite file" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"agent.db{suffix}").unlink(missing_ok=True)
    store = Store(tmp_path)
    assert store.lost_state and store.fault == ""
    assert len(list(tmp_path.glob("agent.db.corrupt-*"))) == 1
    store.outbox.enqueue_report("c", "Processed")
    assert store.outbox.depth() == (1, 0)
    store.close()


def test_a_missing_database_where_there_was_one_is_lost_state(tmp_path):
    store = Store(tmp_path)
    assert not store.lost_state
    store.close()
    assert not Store(tmp_path).lost_state  # the same database again
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"agent.db{suffix}").unlink(missing_ok=True)
    assert Store(tmp_path).lost_state


def test_a_database_deleted_while_running_is_reopened_with_what_memory_holds(tmp_path):
    store = Store(tmp_path)
    store.journal.begin("key-1", "KeyCutter", '{"Id": "key-1"}')
    store.outbox.enqueue_report("p-1", "Processed")
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"agent.db{suffix}").unlink(missing_ok=True)
    store.check()
    assert store.lost_state and (tmp_path / "agent.db").exists()
    assert [r[0] for r in store.journal.interrupted()] == ["key-1"]
    assert [r.command_id for r in store.outbox.next_reports("command")] == ["p-1"]
    store.close()
    reopened = Store(tmp_path)  # the re-journaled entries are on disk, not only in memory
    assert [r[0] for r in reopened.journal.interrupted()] == ["key-1"]
    reopened.close()


def test_keys_are_still_journalled_after_the_database_was_replaced_while_running(tmp_path):
    store = Store(tmp_path)
    store.journal.key("key-1", 1, 2)  # the keys table exists in the first file
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"agent.db{suffix}").unlink(missing_ok=True)
    store.check()  # reopened: a new, empty file
    store.journal.key("key-2", 1, 3)  # the next key of a run must still be recorded before another is cut
    assert store.journal.keys("key-2") == (1, 3)
    store.close()
