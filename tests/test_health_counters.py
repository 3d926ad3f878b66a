"""Issue 12: Health counters are updated from several threads under a lock, and stay readable meanwhile."""

import threading

from agent.runtime.health import Health


def test_counts_from_several_threads_are_never_lost_and_snapshots_stay_readable(tmp_path):
    health = Health()
    health.set_counters({"drains": 0})
    threads, per_thread = 8, 20_000
    go = threading.Barrier(threads + 1)

    def bump(i):
        go.wait()
        for k in range(per_thread):
            health.count("commands_processed")
            health.count(f"kind_{i}_{k % 50}")  # new keys while a snapshot is taken

    workers = [threading.Thread(target=bump, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    go.wait()
    snapshots = 0
    while any(w.is_alive() for w in workers):
        health.write(tmp_path / "health.json")  # asdict over a dict another thread grows: must not raise
        snapshots += 1
    for w in workers:
        w.join()
    assert health.counters["commands_processed"] == threads * per_thread
    assert Health.read(tmp_path / "health.json").counters["drains"] == 0 and snapshots > 0
