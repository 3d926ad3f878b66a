"""Every error code of the field notes, through the virtual encoder over a pty and over TCP."""

from datetime import datetime

import pytest

from hal.encoder import (CardFormatError, CardInUse, EncoderBusy, EncoderGeneralError, EncoderOutOfService,
                         EncoderSyntaxError, GarbledReply, KeyCard, KeyEncoder, LockSystemUnreachable, NoCard,
                         NoCardPresented, NoLockFiles, RoomCheckedOut, StaffCard, UnexpectedReply, UnknownRoom)
from hal.encoder.errors import ERRORS
from hal.encoder.protocol import check_reply
from hal.errors import DeviceDisconnected, DeviceError
from sim.encoder import VirtualEncoder

CARD = KeyCard(rooms=("512",), valid_from=datetime(2024, 5, 1, 14, 0), valid_until=datetime(2024, 5, 3, 11, 0),
               text=("Ana Lopez",))

# code -> (class, staff message, retryable)
TABLE = {
    "ES": (EncoderSyntaxError, "the key encoder rejected the request (syntax error)", False),
    "NC": (LockSystemUnreachable, "the key encoder cannot reach the lock system", True),
    "NF": (NoLockFiles, "the lock system has no data files (not set up)", False),
    "OV": (EncoderBusy, "encoder busy", True),
    "EP": (NoCard, "no card in the encoder", True),
    "EF": (CardFormatError, "card format error (wrong or damaged card)", False),
    "TD": (UnknownRoom, "unknown room 512", False),
    "ED": (NoCardPresented, "no card presented in time", True),
    "EA": (RoomCheckedOut, "room 512 is checked out", False),
    "OS": (EncoderOutOfService, "the key encoder is out of service", True),
    "EO": (CardInUse, "the card is in use at another station", True),
    "EV": (StaffCard, "this is a staff card; use a guest card", False),
    "EG": (EncoderGeneralError, "key encoder error: simulated failure", False),
}


def test_table_covers_every_code_of_the_field_notes():
    assert set(TABLE) == set(ERRORS) == {"ES", "NC", "NF", "OV", "EP", "EF", "TD", "ED", "EA", "OS", "EO",
                                         "EV", "EG"}


@pytest.fixture(scope="module", params=["pty", "tcp"])
def rig(request):
    sim = VirtualEncoder(port=0 if request.param == "tcp" else None).start()
    enc = KeyEncoder(sim.url, reply_timeout=3.0, ack_timeout=0.5)
    yield sim, enc
    enc.close()
    sim.stop()


@pytest.mark.parametrize("code", sorted(TABLE))
def test_error_reply_maps_to_typed_error(rig, code):
    sim, enc = rig
    cls, message, retryable = TABLE[code]
    before = len(sim.keys)
    sim.fail_next(code)
    with pytest.raises(cls) as e:
        enc.encode_new(CARD)
    assert isinstance(e.value, DeviceError)
    assert e.value.code == code
    assert str(e.value) == message
    assert e.value.retryable is retryable
    assert len(sim.keys) == before  # an error reply issues no key
    enc.encode_new(CARD)  # the next command works again
    assert sim.keys[-1]["rooms"] == ["512"]


def test_unknown_room_names_all_rooms_of_a_multi_room_key():
    err = pytest.raises(UnknownRoom, check_reply, "CN", ["TD"], ("101", "102"))
    assert str(err.value) == "unknown room (one of 101, 102)"


def test_general_error_without_text_and_unexpected_reply():
    assert str(pytest.raises(EncoderGeneralError, check_reply, "CN", ["EG"]).value) == "key encoder error"
    err = pytest.raises(UnexpectedReply, check_reply, "CN", ["ZZ", "x"]).value
    assert not err.retryable and "ZZ" in str(err)


def test_sim_unknown_room_and_checked_out_room_without_fault_injection():
    with VirtualEncoder(known_rooms={"101"}) as sim, KeyEncoder(sim.url, ack_timeout=0.5) as enc:
        with pytest.raises(UnknownRoom, match="unknown room 512"):
            enc.encode_new(CARD)
        card = KeyCard(("101",), CARD.valid_from, CARD.valid_until)
        enc.encode_new(card)
        enc.check_out("101")
        assert sim.checkouts == ["101"]
        with pytest.raises(RoomCheckedOut, match="room 101 is checked out"):
            enc.copy(card)
        enc.encode_new(card)  # a new series checks the room in again
        enc.copy(card)
        assert [(k["command"], k["copy"]) for k in sim.keys] == [("CN", 0), ("CN", 0), ("CC", 1)]


def test_sim_link_faults_are_recovered_or_reported():
    with VirtualEncoder() as sim, KeyEncoder(sim.url, ack_timeout=0.3, reply_timeout=2.0) as enc:
        sim.nak_next_enq(1)
        sim.nak_next_frames(2)
        sim.corrupt_next_reply(2)
        enc.encode_new(CARD)
        assert len(sim.keys) == 1
        assert sim.stats["reply_resends"] == 2 and sim.stats["naks_sent"] == 3
        sim.corrupt_next_reply(3)
        enc.copy(CARD)  # the reply stays garbled: the card read back shows the key was made
        assert len(sim.keys) == 2 and sim.requests[-2:] == ["CC", "LT"]
        sim.corrupt_next_reply(3)
        with pytest.raises(GarbledReply):  # not a key request: nothing to read back
            enc.check_out("512")
        sim.mute()
        with pytest.raises(DeviceDisconnected):
            enc.copy(CARD)
        sim.mute(False)
        info = enc.read_card()
        assert info.rooms == ("512",) and info.valid_from == CARD.valid_from and info.text == ("Ana Lopez",)


def test_sim_stopping_under_an_open_port_is_disconnected():
    sim = VirtualEncoder().start()
    enc = KeyEncoder(sim.url, ack_timeout=0.3)
    enc.encode_new(CARD)
    sim.stop()
    with pytest.raises(DeviceDisconnected):
        enc.copy(CARD)
    enc.close()
