"""The key-cutter handler: payload checks, local time around DST, names, end to end over a pty."""

import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import parse
from agent.devices.encoder.handler import EncoderHandler, from_config
from agent.runtime.jobs import Job, JobKind, Source
from agent.devices.encoder.key_order import latin1_text, parse_key_order
from agent.mews.models import Command
from agent.runtime.handler import CommandCancelled, CommandRejected, NullProgress
from hal.encoder.frame import field_bytes
from hal.encoder.protocol import format_local
from hal.errors import DeviceDisconnected, DeviceError
from sim.encoder import VirtualEncoder
from tests.runtime_harness import SECRETS, command, config, visi

LONDON = ZoneInfo("Europe/London")
def key_cutter(**over):
    data = {"KeyCutterId": "kc1", "LockIds": ["204", "205"], "StartUtc": "2024-05-01T13:00:00Z",
            "EndUtc": "2024-05-03T10:00:00Z", "KeyCount": 1, "FirstName": "Zoë", "LastName": "Łukasiewicz",
            "ReservationNumber": "8800", **SECRETS}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def order(data):
    return parse_key_order(data, LONDON)


# -- payload checks ------------------------------------------------------------

@pytest.mark.parametrize("data, note", [
    (visi(LockIds=None), "LockIds is missing: the command names no room"),
    (visi(LockIds=[]), "LockIds is empty: the command names no room"),
    (visi(LockIds="101"), "LockIds must be a list of rooms"),
    (visi(LockIds=["1", "2", "3", "4", "5"]), "a key can open at most four rooms; got 5"),
    (visi(LockIds=["1", " "]), "LockIds: a room is empty"),
    (visi(LockIds=["1\x0201"]), "LockIds: room '1\\x0201' has characters the encoder cannot take"),
    (visi(ValidityEndUtc="2024-04-30T10:00:00Z"),
     "the key's validity ends before it starts (2024-04-30 10:00 UTC is not after 2024-05-01 13:00 UTC)"),
    (visi(ValidityEndUtc="2024-05-01T13:00:00Z"),
     "the key's validity ends before it starts (2024-05-01 13:00 UTC is not after 2024-05-01 13:00 UTC)"),
    (visi(ValidityStartUtc="tomorrow"), "ValidityStartUtc is not an ISO 8601 date and time: 'tomorrow'"),
    (visi(ValidityEndUtc="2024-13-01T00:00:00Z"),
     "ValidityEndUtc is not an ISO 8601 date and time: '2024-13-01T00:00:00Z'"),
    (visi(ValidityStartUtc=1714568400), "ValidityStartUtc must be an ISO 8601 date and time, got int"),
    (visi(ValidityStartUtc=None), "ValidityStartUtc or StartUtc is missing: the key's validity is unknown"),
    (visi(KeyCount=0), "KeyCount must be a whole number from 1 to 10; got 0"),
    (visi(KeyCount=11), "KeyCount must be a whole number from 1 to 10; got 11"),
    (visi(KeyCount="2"), "KeyCount must be a whole number from 1 to 10; got '2'"),
    (visi(KeyCount=True), "KeyCount must be a whole number from 1 to 10; got True"),
    (key_cutter(EndUtc="2024-05-01T12:59:00Z"),
     "the key's validity ends before it starts (2024-05-01 12:59 UTC is not after 2024-05-01 13:00 UTC)"),
])
def test_bad_payloads_are_rejected_with_a_clear_note(data, note):
    with pytest.raises(CommandRejected) as e:
        order(data)
    assert str(e.value) == note


def test_good_payloads_of_both_types():
    o = order(visi())
    assert o.rooms == ("101",) and o.key_count == 2
    assert o.text == ("José Müller", "Res 4711")
    k = order(key_cutter(LockIds=["204", 205, "204"], KeyCount=None))
    assert k.rooms == ("204", "205") and k.key_count == 1  # ints accepted, duplicates dropped, default 1
    assert order(key_cutter(KeyCount=3.0)).key_count == 3


# -- local time --------------------------------------------------------------

@pytest.mark.parametrize("utc, local, field", [
    # spring forward: 01:00 UTC on 31 March 2024, GMT -> BST
    ("2024-03-31T00:30:00Z", datetime(2024, 3, 31, 0, 30), "0030310324"),
    ("2024-03-31T00:59:00Z", datetime(2024, 3, 31, 0, 59), "0059310324"),
    ("2024-03-31T01:00:00Z", datetime(2024, 3, 31, 2, 0), "0200310324"),
    ("2024-03-31T01:30:00Z", datetime(2024, 3, 31, 2, 30), "0230310324"),
    # fall back: 01:00 UTC on 27 October 2024, BST -> GMT; 01:xx local happens twice
    ("2024-10-27T00:30:00Z", datetime(2024, 10, 27, 1, 30), "0130271024"),
    ("2024-10-27T01:30:00Z", datetime(2024, 10, 27, 1, 30), "0130271024"),
    ("2024-10-27T02:00:00Z", datetime(2024, 10, 27, 2, 0), "0200271024"),
    # other spellings of UTC; seconds are dropped
    ("2024-06-01T12:00:45.123Z", datetime(2024, 6, 1, 13, 0, 45, 123000), "1300010624"),
    ("2024-03-31T03:30:00+02:00", datetime(2024, 3, 31, 2, 30), "0230310324"),
    ("2024-01-15T09:05:00", datetime(2024, 1, 15, 9, 5), "0905150124"),  # no offset: the name says UTC
])
def test_validity_in_hotel_local_time_around_dst(utc, local, field):
    o = order(visi(ValidityStartUtc=utc, ValidityEndUtc="2025-01-01T00:00:00Z"))
    assert o.valid_from == local
    assert format_local(o.valid_from) == field


def test_other_hotel_time_zone():
    o = parse_key_order(visi(ValidityStartUtc="2024-07-01T22:30:00Z", ValidityEndUtc="2024-07-03T10:00:00Z"),
                        ZoneInfo("America/New_York"))
    assert format_local(o.valid_from) == "1830010724"


def test_interval_inside_the_repeated_hour_is_accepted():
    # 01:50 BST .. 01:10 GMT: 20 real minutes, "backwards" on the wall clock
    o = order(visi(ValidityStartUtc="2024-10-27T00:50:00Z", ValidityEndUtc="2024-10-27T01:10:00Z"))
    assert (format_local(o.valid_from), format_local(o.valid_until)) == ("0150271024", "0110271024")


# -- names -------------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("José Müller", "José Müller"),
    ("Zoë Łukasiewicz", "Zoë Lukasiewicz"),
    ("Søren Œhlenschläger", "Søren OEhlenschläger"),
    ("Dvořák Šťastný", "Dvorák Stastný"),  # á, ý are Latin-1; ř, Š, ť are folded
    ("山田 Taro", "Taro"),
    ("Eve\x02\x03\x1b[31m\xb3", "Eve[31m3"),
    ("  Anne\t\n  Marie  ", "Anne Marie"),
    ("Maximilian-Alexander von Hohenzollern", "Maximilian-Alexander von"),
    ("O’Brien – Smith", "O'Brien - Smith"),
])
def test_guest_names_made_latin1_safe(raw, clean):
    assert latin1_text(raw) == clean


@settings(deadline=None)  # no timing in tests: a loaded CI box must not flake
@given(st.text(max_size=60))
def test_any_name_becomes_a_field_the_frame_accepts(raw):
    text = latin1_text(raw)
    assert len(text) <= 24
    field_bytes(text)


def test_normalized_names_preferred_and_reservation_customer_read():
    o = order(key_cutter(NormalizedFirstName="Zoe", NormalizedLastName="Lukasiewicz"))
    assert o.text == ("Zoe Lukasiewicz", "Res 8800")
    o = order(visi(Reservation={"Customer": {"LastName": "Nakamura"}}))
    assert o.text == ("Nakamura",)
    assert order(visi(Reservation=None)).text == ()


# -- handler end to end --------------------------------------------------------

@pytest.fixture
def sim(tmp_path):
    s = VirtualEncoder(log_path=str(tmp_path / "keys.jsonl")).start()
    yield s
    s.stop()


@pytest.fixture
def handler(sim):
    h = from_config(config(sim.url))
    h.encoder.ack_timeout = 0.3
    yield h
    h.close()


def test_from_config_and_handler_contract(sim):
    assert from_config(parse('[mews]\nplatform_address = "http://x"\ngeneration = "seed"\nconnector_token = "t"\n')) is None
    h = from_config(config(sim.url, device="Front desk encoder"))
    assert isinstance(h, EncoderHandler)
    assert h.device_types == ("VisiOnlineKeyCutter", "KeyCutter")
    assert (h.name, h.retry_after_crash, h.device) == ("encoder", False, "Front desk encoder")
    assert h.serves(Job.of_command(command(visi())))
    assert not h.serves(Job.of_command(Command.from_json({"Id": "x", "Device": {"Id": "other", "Name": "Back office",
                                                                                 "Type": "KeyCutter"}})))
    assert not h.serves(Job.of_command(Command.from_json({"Id": "x", "Device": {"Id": "dev-enc", "Name": "n",
                                                                                 "Type": "Printer"}})))
    assert h.serves(Job(kind=JobKind.CUT_KEYS, data={}, source=Source.KIOSK))
    assert not h.serves(Job(kind=JobKind.PRINT_DOCUMENT, data={}, source=Source.KIOSK))
    h.close()


def test_two_keys_end_to_end_over_a_pty(handler, sim, tmp_path):
    progress = NullProgress()
    note = handler.run(Job.of_command(command(visi())), progress).note
    assert note == "2 keys encoded for room 101"
    assert progress.activities == ["present card 1 of 2", "present card 2 of 2"]
    # before each key "k-1 of N" (the display counts down for card k), after each key "k of N"
    assert [s[:2] for s in progress.steps] == [(0, 2), (1, 2), (1, 2), (2, 2)]
    expected = {"rooms": ["101"], "valid_from": "2024-05-01T14:00", "valid_until": "2024-05-03T11:00",
                "text": ["José Müller", "Res 4711"], "encoder_id": "Desk 2", "operator": "Night Auditor"}
    assert [(k["command"], k["copy"]) for k in sim.keys] == [("CN", 0), ("CC", 1)]
    for k in sim.keys:
        assert {f: k[f] for f in expected} == expected
    logged = [json.loads(line) for line in (tmp_path / "keys.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(k["command"], k["rooms"], k["valid_from"], k["copy"]) for k in logged] == [
        ("CN", ["101"], "2024-05-01T14:00", 0), ("CC", ["101"], "2024-05-01T14:00", 1)]


def test_key_cutter_multi_room_over_dst(handler, sim):
    data = key_cutter(StartUtc="2024-03-31T00:30:00Z", EndUtc="2024-04-02T10:00:00Z")
    note = handler.run(Job.of_command(command(data, "KeyCutter")), NullProgress()).note
    assert note == "1 key encoded for rooms 204, 205"
    (key,) = sim.keys
    assert key["rooms"] == ["204", "205"]
    assert (key["valid_from"], key["valid_until"]) == ("2024-03-31T00:30", "2024-04-02T11:00")
    assert key["fields"][9:11] == ["0030310324", "1100020424"]
    assert key["text"][0] == "Zoë Lukasiewicz"


class FailAfter(NullProgress):
    """Makes the virtual encoder fail the key after step ``k``."""

    def __init__(self, sim, k, code):
        super().__init__()
        self.sim, self.k, self.code = sim, k, code

    def step(self, done, total, activity=""):
        super().step(done, total, activity)
        if done == self.k:
            self.sim.fail_next(self.code)


def test_failure_after_two_keys_is_final_and_counts_keys(handler, sim):
    with pytest.raises(DeviceError) as e:
        handler.run(Job.of_command(command(visi(KeyCount=3))), FailAfter(sim, 2, "EP")).note
    assert str(e.value) == "2 of 3 keys made; no card in the encoder"
    assert e.value.retryable is False
    assert len(sim.keys) == 2


@pytest.mark.parametrize("code, message", [("EP", "no card in the encoder"), ("OV", "encoder busy")])
def test_retryable_failure_on_the_first_key_stays_retryable(handler, sim, code, message):
    sim.fail_next(code)
    with pytest.raises(DeviceError) as e:
        handler.run(Job.of_command(command(visi())), NullProgress()).note
    assert (str(e.value), e.value.retryable) == (message, True)
    assert sim.keys == []


def test_unknown_room_on_first_key_is_final(sim):
    with VirtualEncoder(known_rooms={"101"}) as strict:
        h = EncoderHandler(config(strict.url).encoder, "Europe/London")
        with pytest.raises(DeviceError) as e:
            h.run(Job.of_command(command(visi(LockIds=["512"]))), NullProgress()).note
        h.close()
    assert (str(e.value), e.value.retryable) == ("unknown room 512", False)


def test_dead_encoder_is_retryable_disconnect(handler, sim):
    sim.mute()
    with pytest.raises(DeviceDisconnected) as e:
        handler.run(Job.of_command(command(visi())), NullProgress()).note
    assert e.value.retryable


def test_cancel_between_keys_propagates(handler, sim):
    class Cancel(NullProgress):
        def step(self, done, total, activity=""):
            if done >= 1:  # the platform cancels once the first key is made
                raise CommandCancelled()

    with pytest.raises(CommandCancelled):
        handler.run(Job.of_command(command(visi(KeyCount=3))), Cancel()).note
    assert len(sim.keys) == 1


def test_rejected_payload_touches_no_encoder(handler, sim):
    with pytest.raises(CommandRejected, match="at most four rooms; got 5"):
        handler.run(Job.of_command(command(visi(LockIds=list("12345")))), NullProgress()).note
    assert sim.stats["enq"] == 0


def test_secrets_never_reach_logs_messages_or_the_encoder(handler, sim, caplog):
    caplog.set_level(logging.DEBUG)
    notes = [handler.run(Job.of_command(command(visi(KeyCount=1))), NullProgress()).note]
    sim.fail_next("EG")
    for cmd in (command(visi(KeyCount=2)), command(visi(LockIds=None))):
        with pytest.raises(Exception) as e:
            handler.run(Job.of_command(cmd), FailAfter(sim, 1, "TD")).note
        notes.append(str(e.value))
    text = caplog.text + "\n".join(notes) + json.dumps(sim.keys) + repr(command(visi()))
    for value in SECRETS.values():
        for part in (value, value[-10:]):
            assert part not in text
