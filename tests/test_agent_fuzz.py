"""Malformed websocket frames and command payloads never crash the loop (hypothesis)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.mews.events import EventFormatError, parse_message, to_json
from agent.mews.models import Command, ModelError
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.health import Health
from agent.runtime.store import Store

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)

event_like = st.fixed_dictionaries(
    {"Type": st.sampled_from(["DeviceCommand", "Reservation", "Resource", "Space", "PriceUpdate", "Other"]) | json_values},
    optional={"Id": st.text(max_size=8) | json_values, "State": json_values, "StartUtc": json_values,
              "AssignedSpaceId": json_values, "SpaceCategoryId": json_values})


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_frames_parse_or_raise_our_error(frame):
    try:
        parse_message(frame)
    except EventFormatError:
        pass


@given(st.lists(event_like | json_values, max_size=6))
def test_event_lists_parse_and_round_trip(events):
    parsed = parse_message(json.dumps({"Events": events}))
    for ev in parsed:
        json.dumps(to_json(ev))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # timing is bench/'s
@given(st.lists(json_values | st.fixed_dictionaries(
    {"Id": st.text(min_size=1, max_size=6)},
    optional={"State": json_values, "Device": json_values | st.fixed_dictionaries(
        {"Id": st.text(max_size=4), "Type": st.sampled_from(["Printer", "KeyCutter"]) | json_values}),
        "Data": json_values, "CreatedUtc": json_values}), max_size=5))
def test_arbitrary_command_payloads_never_crash_the_dispatcher(tmp_path_factory, payloads):
    commands = []
    for p in payloads:
        try:
            commands.append(Command.from_json(p))
        except ModelError:
            continue
    store = Store(tmp_path_factory.mktemp("s"))
    d = Dispatcher(store, [], Health())
    d.offer(commands)  # no handler: every parsed command must end in a clear Error, nothing raises
    reports = store.outbox.next_reports("command", 100)
    # A command we can name but not parse says which field; the others say no device serves them.
    assert all(r.state == "Error" and ("no device" in r.payload["Notes"] or r.payload["Notes"].startswith("the command's"))
               for r in reports)
    assert len({r.command_id for r in reports}) == len(reports)
    store.close()
