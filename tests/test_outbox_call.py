"""The outbox carries a platform call (a kiosk card payment) durably: kept across a network loss, deleted once sent."""

from agent.mews import errors as mews_errors
from agent.runtime.outbox import OutboxSender
from agent.runtime.store import Store

BODY = {"CustomerId": "c1", "Amount": {"Currency": "GBP", "Value": 10.0},
        "CreditCard": {"Type": "Visa", "Number": "411111******1111", "Expiration": "12/2030", "Name": "Ann Holder"}}


class Client:
    def __init__(self, fail=0):
        self.fail, self.calls = fail, []

    def call(self, operation, body):
        if self.fail:
            self.fail -= 1
            raise mews_errors.Retryable("network error: ConnectionResetError")
        self.calls.append((operation, body))
        return {}


def test_a_call_survives_a_network_loss_and_a_restart_then_is_deleted(tmp_path):
    store = Store(tmp_path)
    row = store.outbox.enqueue_call("payments/addCreditCard", BODY)
    assert store.outbox.pending(row)
    sender = OutboxSender(store, Client(fail=1))
    assert sender.send_round() > 0  # network loss: kept, retried later
    assert store.outbox.pending(row)
    store.close()
    store = Store(tmp_path)  # the agent restarted: the row is still there
    client = Client()
    assert OutboxSender(store, client).flush(5.0)
    assert client.calls == [("payments/addCreditCard", BODY)]
    assert not store.outbox.pending(row)
    assert not any("Ann Holder" in str(r.payload) for r in store.outbox.reports())  # the holder's name left with the row
    store.close()
