"""The outbox sender against a recording client: order, dead letters, backlog draining without idle waits."""

from agent.mews import errors
from agent.runtime.outbox import OutboxSender
from agent.runtime.store import Store


class RecordingClient:
    def __init__(self, fail=None):
        self.sent = []
        self.fail = fail or {}

    def update_command(self, command_id, state, progress=None, notes=None):
        exc = self.fail.get((command_id, state))
        if exc:
            raise exc
        self.sent.append((command_id, state))


def test_a_backlog_larger_than_a_batch_is_sent_without_sleeping(tmp_path):
    store = Store(tmp_path)
    for i in range(120):
        store.outbox.enqueue_report(f"c{i:03d}", "Processed")
    client = RecordingClient()
    sender = OutboxSender(store, client)
    sleeps = []
    while store.outbox.depth()[0]:
        sleeps.append(sender.send_round())
    assert sleeps[:-1] == [0.0] * (len(sleeps) - 1)  # no idle wait while reports remain
    assert [c for c, _ in client.sent] == [f"c{i:03d}" for i in range(120)]  # in order


def test_permanent_errors_are_dead_lettered_and_the_rest_goes_on(tmp_path):
    store = Store(tmp_path)
    store.outbox.enqueue_report("bad", "Processed")
    store.outbox.enqueue_report("good", "Processed")
    client = RecordingClient(fail={("bad", "Processed"): errors.BadRequest("Invalid CommandId", 400, "rid-1")})
    sender = OutboxSender(store, client)
    sender.send_round()
    assert client.sent == [("good", "Processed")]
    (dead,) = store.outbox.reports(dead=True)
    assert dead.command_id == "bad" and "Invalid CommandId" in dead.dead_reason and "rid-1" in dead.dead_reason


def test_retryable_errors_keep_order_and_honour_retry_after(tmp_path):
    store = Store(tmp_path)
    store.outbox.enqueue_report("a", "Processed")
    store.outbox.enqueue_report("b", "Processed")
    client = RecordingClient(fail={("a", "Processed"): errors.RateLimited("slow down", retry_after=7.0)})
    sender = OutboxSender(store, client)
    wait = sender.send_round()
    assert 6.0 < wait <= 7.0 and client.sent == []  # b is not sent before a
    assert store.outbox.next_reports("command")[0].attempts == 1
