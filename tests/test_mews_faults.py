"""Issue 11, platform side: the client and the websocket against a hostile simulator."""

import threading
import time

import pytest

from agent.mews import errors
from agent.mews.client import MewsClient
from agent.mews.events import parse_frame
from agent.mews.listener import EventListener
from agent.mews.models import Command
from sim.mews import MewsSimulator
from tests.mews_harness import mews_config


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---- item 2: an answer without Commands is not "nothing active"

def test_get_all_active_without_commands_is_an_invalid_response(sim):
    sim.add_printer_command(b"%PDF-1.4")
    sim.set_faults(commands_missing=True)
    with MewsClient(mews_config(sim)) as c:
        with pytest.raises(errors.InvalidResponse, match="no Commands"):
            c.get_all_active_commands()
        sim.set_faults(commands_missing=False)
        assert len(c.get_all_active_commands()) == 1


# ---- item 3: Retry-After is bounded

@pytest.mark.parametrize("header, expected", [
    ("0", None), ("-5", None), ("soon", None), ("nan", None), ("7", 7.0), ("99999", 120.0), ("inf", None)])
def test_retry_after_is_capped_and_zero_means_back_off(header, expected):
    assert errors.parse_retry_after(header) == expected


# ---- item 4: a sibling connection shares sign-in and limiter

def test_connection_shares_sign_in_but_not_the_http_connection(sim):
    with MewsClient(mews_config(sim, sign_in=True)) as c:
        c.get_all_spaces()
        sibling = c.connection()
        sibling.get_all_active_commands()
        assert sim.request_count("app/signIn") == 1 and sibling.access_token == c.access_token
        # Each holds a request of its own at the same time: neither waits for the other's lock.
        sim.set_faults(latency_ms=1500)
        started = time.monotonic()
        threads = [threading.Thread(target=x.get_all_active_commands) for x in (c, sibling)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert time.monotonic() - started < 2.9  # two serialized requests take 3 s at least
        sibling.close()


def test_a_trickled_answer_ends_in_a_timeout(sim):
    sim.set_faults(slow_rest=True, trickle_interval=0.4)  # {"Commands": []} takes ~6 s
    with MewsClient(mews_config(sim, timeout=1.0)) as c:
        started = time.monotonic()
        with pytest.raises(errors.Retryable):
            c.get_all_active_commands()
        assert time.monotonic() - started < 4


# ---- item 6: a command we can name but not parse

@pytest.mark.parametrize("field, value, note", [
    ("CreatedUtc", 5, "CreatedUtc is not a date"), ("CreatedUtc", "yesterday", "CreatedUtc is not a date"),
    ("State", ["Pending"], "State is not a string"), ("Device", "printer", "Device is not an object"),
    ("Data", "AAAA", "Data is not an object")])
def test_a_named_command_with_a_wrong_type_is_invalid_not_skipped(field, value, note):
    raw = {"Id": "c1", "State": "Pending", "CreatedUtc": "2024-01-01T00:00:00Z",
           "Device": {"Id": "d", "Name": "P", "Type": "Printer"}, "Data": {}}
    raw[field] = value
    command = Command.from_json(raw)
    assert command.id == "c1" and note in command.invalid


def test_a_good_command_is_not_invalid():
    raw = {"Id": "c1", "CreatedUtc": "2024-01-01T00:00:00.123Z", "Device": {"Id": "d", "Name": "P"}}
    assert Command.from_json(raw).invalid == ""


# ---- TokenRejected (issue 12): a 401 that signing in again does not cure

def test_a_refused_connector_token_is_token_rejected(sim):
    with MewsClient(mews_config(sim, connector_token="NOT-THE-TOKEN", sign_in=True)) as c:
        with pytest.raises(errors.TokenRejected) as info:
            c.get_all_spaces()
    assert info.value.status == 401 and "mews.connector_token" in str(info.value)


# ---- item 5 and 7: the websocket is bounded

def listener_for(sim, client, **kw):
    seen = []
    listener = EventListener(client._cfg, client, on_events=lambda evs: None,
                             on_disconnected=lambda reason, error=None: seen.append((reason, error)), **kw)
    return listener, seen


def test_a_handshake_that_never_completes_is_retried_and_stop_is_prompt(sim):
    sim.set_faults(stall_websockets=True)
    with MewsClient(mews_config(sim)) as c:
        listener, seen = listener_for(sim, c, handshake_timeout=1.0)
        listener.start()
        try:
            wait_for(lambda: seen, what="the stalled handshake given up")
            assert "handshake" in seen[0][0] and not listener.connected
        finally:
            started = time.monotonic()
            listener.stop()
            assert time.monotonic() - started < 2.5 and not listener._thread.is_alive()


def test_a_trickled_frame_closes_and_reopens_the_socket(sim):
    sim.set_faults(trickle_websockets=True, trickle_interval=0.5)
    with MewsClient(mews_config(sim)) as c:
        listener, seen = listener_for(sim, c, frame_timeout=1.5)
        listener.start()
        try:
            wait_for(lambda: listener.refused_frames >= 1 and seen, what="the trickled frame refused and reported")
            assert "whole within" in seen[0][0]
            wait_for(lambda: listener.connected, what="reconnected")
        finally:
            started = time.monotonic()
            listener.stop()  # during the next trickled frame
            assert time.monotonic() - started < 2.5 and not listener._thread.is_alive()


def test_an_oversized_frame_is_refused(sim):
    with MewsClient(mews_config(sim)) as c:
        listener, seen = listener_for(sim, c, max_frame_bytes=40)
        listener.start()
        try:
            wait_for(lambda: listener.connected, what="connected")
            sim.add_printer_command(b"%PDF-1.4")  # its DeviceCommand frame is longer than 40 bytes
            wait_for(lambda: listener.refused_frames >= 1 and seen, what="the large frame refused and reported")
            assert "limit 40" in seen[0][0]
        finally:
            listener.stop()


def test_a_refused_handshake_token_is_reported_as_token_rejected(sim):
    with MewsClient(mews_config(sim, connector_token="NOT-AN-ACCESS-TOKEN", sign_in=False)) as c:
        listener, seen = listener_for(sim, c)
        listener.start()
        try:
            wait_for(lambda: seen, what="the handshake refused")
            assert isinstance(seen[0][1], errors.TokenRejected)
        finally:
            listener.stop()


def test_malformed_nested_events_are_counted():
    events, malformed = parse_frame(
        '{"Events": [1, {"Type": "DeviceCommand"}, {"Type": "DeviceCommand", "Id": "a"},'
        ' {"Type": "DeviceCommand", "Id": "b", "State": "Pending"}]}')
    assert malformed == 3 and any(getattr(e, "id", None) == "b" for e in events)
