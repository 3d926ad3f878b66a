"""Commands that events name are fetched and offered in the order the events came (CreatedUtc has whole
seconds: two print jobs made together must not swap places, as an id-sorted request made them do)."""

from agent.runtime import health as hs
from agent.runtime.loop import DrainLoop


class Client:
    current = True

    def __init__(self):
        self.asked = []

    def get_commands_by_ids(self, ids):
        self.asked.append(list(ids))
        return []


class Dispatcher:
    def offer(self, commands, complete=True):
        return 0


def test_named_commands_are_asked_for_in_the_order_events_named_them():
    client = Client()
    loop = DrainLoop(client, Dispatcher(), hs.Health(), poll_interval=30)
    loop.full = False
    for command_id in ("f0-second-event", "0a-third-event", "c7-fourth"):
        loop.request([command_id])
    loop.drain()
    assert client.asked == [["f0-second-event", "0a-third-event", "c7-fourth"]]
