import multiprocessing
import os

from agent.runtime.store import DONE, EXECUTING, Store, peek_depth


def test_reports_collapse_to_newest_and_keep_order(tmp_path):
    s = Store(tmp_path)
    s.outbox.enqueue_report("a", "Received")
    s.outbox.enqueue_report("b", "Received")
    s.outbox.enqueue_report("a", "Processing", progress=50.0)
    s.outbox.enqueue_report("a", "Processed", notes="ok")
    reports = s.outbox.next_reports("command")
    assert [(r.command_id, r.state) for r in reports] == [("b", "Received"), ("a", "Processed")]
    assert reports[1].payload == {"CommandId": "a", "State": "Processed", "Notes": "ok"}


def test_final_reports_are_not_collapsed_away(tmp_path):
    s = Store(tmp_path)
    s.outbox.enqueue_report("a", "Error", notes="x")
    s.outbox.enqueue_report("a", "Processing")
    assert [r.state for r in s.outbox.next_reports("command")] == ["Error", "Processing"]


def test_bound_drops_oldest_non_final_first(tmp_path):
    s = Store(tmp_path, max_pending=3)
    s.outbox.enqueue_report("f1", "Processed")
    s.outbox.enqueue_report("r1", "Received")
    s.outbox.enqueue_report("r2", "Received")
    s.outbox.enqueue_report("r3", "Received")
    ids = [r.command_id for r in s.outbox.next_reports("command")]
    assert ids == ["f1", "r2", "r3"]
    assert s.counters()["outbox_dropped"] == 1


def test_dead_letters_retry_and_drop(tmp_path):
    s = Store(tmp_path)
    rid = s.outbox.enqueue_report("a", "Processed")
    s.outbox.dead_letter(rid, "BadRequest: no")
    assert s.outbox.depth() == (0, 1) and s.outbox.next_reports("command") == []
    assert s.outbox.retry() == 1 and s.outbox.depth() == (1, 0)
    s.outbox.dead_letter(rid, "again")
    assert s.outbox.drop(dead_only=True) == 1 and s.outbox.depth() == (0, 0)


def test_journal_and_report_in_one_transaction(tmp_path):
    s = Store(tmp_path)
    s.journal.begin("k", "KeyCutter")
    assert s.journal.state("k") == (EXECUTING, 1)
    assert [i[0] for i in s.journal.interrupted()] == ["k"]
    s.outbox.enqueue_report("k", "Processed", journal_done="KeyCutter")
    assert s.journal.state("k")[0] == DONE and s.journal.interrupted() == []


def _write_and_die(path, n):
    s = Store(path)
    for i in range(n):
        s.outbox.enqueue_report(f"c{i}", "Processed")
    os._exit(0)  # no close, no cleanup: like a crash right after the commits


def test_committed_reports_survive_a_crash(tmp_path):
    p = multiprocessing.get_context("fork").Process(target=_write_and_die, args=(tmp_path, 25))
    p.start()
    p.join(30)
    assert Store(tmp_path).outbox.depth() == (25, 0)


def test_journal_pruned_after_30_days_but_executing_entries_kept(tmp_path):
    now = [1_000_000_000.0]
    s = Store(tmp_path, clock=lambda: now[0])
    s.outbox.enqueue_report("old", "Processed", journal_done="Printer")
    s.journal.begin("stuck", "KeyCutter")
    now[0] += 31 * 86400
    s.outbox.enqueue_report("new", "Processed", journal_done="Printer")
    assert s.journal.prune() == 1
    assert s.journal.state("old") is None
    assert s.journal.state("new") is not None and s.journal.state("stuck") is not None


def test_peek_depth_reads_beside_a_writer_and_never_creates_the_database(tmp_path):
    assert peek_depth(tmp_path / "nowhere") is None
    assert not (tmp_path / "nowhere").exists()
    store = Store(tmp_path)
    rid = store.outbox.enqueue_report("a", "Received")
    store.outbox.enqueue_report("b", "Processed", notes="ok")
    store.outbox.dead_letter(rid, "BadRequest")
    assert peek_depth(tmp_path) == store.outbox.depth() == (1, 1)
    store.close()
