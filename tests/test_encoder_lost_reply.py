"""A key request the encoder took (ACKed) is never sent again: a lost answer is settled by reading
the card, else the command ends in Error. Peers: the virtual encoder on a pty and on TCP, and a
scripted pty encoder that ACKs and goes silent."""

from datetime import datetime

from agent.runtime.jobs import Job
import pytest

from agent.config import parse
from agent.devices.encoder.handler import from_config
from agent.mews.models import Command
from agent.runtime.handler import NullProgress
from hal.encoder import EncoderNotReady, KeyCard, KeyEncoder, KeyOutcomeUnknown
from hal.encoder.frame import ACK, ENQ, NAK
from hal.errors import DeviceError
from sim.encoder import VirtualEncoder
from tests.encoder_harness import ScriptedEncoder

CARD = KeyCard(rooms=("512",), valid_from=datetime(2024, 5, 1, 14, 0), valid_until=datetime(2024, 5, 3, 11, 0),
               text=("Ana Lopez",))
UNKNOWN = "the encoder took the key request but did not answer; check the card before issuing again"


@pytest.fixture(params=["pty", "tcp"])
def make_sim(request):
    sims = []

    def make(**kw):
        sim = VirtualEncoder(port=0 if request.param == "tcp" else None, **kw).start()
        sims.append(sim)
        return sim
    yield make
    for s in sims:
        s.stop()


def encoder(url):
    return KeyEncoder(url, reply_timeout=0.6, ack_timeout=0.3)


def test_lost_cn_reply_without_card_reading_is_final_and_not_resent(make_sim):
    sim = make_sim(reads_cards=False)
    sim.lose_next_reply(made=False)
    with encoder(sim.url) as enc:
        with pytest.raises(KeyOutcomeUnknown) as e:
            enc.encode_new(CARD)
    assert str(e.value) == UNKNOWN and not e.value.retryable
    assert sim.requests == ["CN", "LT"]  # one CN, then the card read (refused: no LT)


def test_lost_cn_reply_of_a_made_key_is_confirmed_by_reading_the_card(make_sim):
    sim = make_sim()
    sim.lose_next_reply(made=True)
    with encoder(sim.url) as enc:
        reply = enc.encode_new(CARD)
    assert reply[0] == "CN" and reply[3] == "512"
    assert sim.requests == ["CN", "LT"] and [k["command"] for k in sim.keys] == ["CN"]


def test_lost_reply_with_a_blank_card_in_the_encoder_is_final(make_sim):
    sim = make_sim()
    sim.lose_next_reply(made=False)
    with encoder(sim.url) as enc, pytest.raises(KeyOutcomeUnknown) as e:
        enc.encode_new(CARD)
    assert str(e.value).startswith(UNKNOWN) and "does not hold this key" in str(e.value)
    assert sim.requests == ["CN", "LT"] and sim.keys == []


def test_encoder_that_acks_and_goes_silent_is_final(make_sim):
    sim = make_sim()
    sim.lose_next_reply(made=True, then_mute=True)
    with encoder(sim.url) as enc, pytest.raises(KeyOutcomeUnknown) as e:
        enc.copy(CARD)
    assert str(e.value) == UNKNOWN and not e.value.retryable
    assert sim.requests == ["CC"]


def test_refusal_before_the_ack_stays_retryable(make_sim):
    sim = make_sim()
    sim.nak_next_enq(3)
    with encoder(sim.url) as enc:
        with pytest.raises(EncoderNotReady) as e:
            enc.encode_new(CARD)
        assert e.value.retryable and sim.requests == []
        enc.encode_new(CARD)  # the retry the caller may make: nothing reached the encoder before
    assert sim.requests == ["CN"]


def _cn_against(script) -> None:
    """encode_new against a scripted pty encoder: it must end in KeyOutcomeUnknown."""
    p = ScriptedEncoder(script)
    try:
        with encoder(p.path) as enc, pytest.raises(KeyOutcomeUnknown):
            enc.encode_new(CARD)
        p.join()
    finally:
        p.close()


def test_scripted_encoder_acks_cn_then_silence_gets_one_cn_and_one_read():
    seen = []

    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        seen.append(p.expect("frame"))
        p.send([ACK])  # ... and the reply never comes
        for _ in range(3):  # the read-back: ENQ unanswered, as a dead line
            p.expect("control", ENQ)
        p.quiet(0.5)  # no second CN
    _cn_against(script)
    assert seen[0][2:4] == b"CN"


def test_frame_met_with_silence_may_have_been_taken():
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame")  # no ACK: it may be the ACK that was lost
        for _ in range(3):  # the read-back, refused: the encoder is not ready
            p.expect("control", ENQ)
            p.send([NAK])
        p.quiet(0.5)  # and no second CN
    _cn_against(script)


# -- through the key-cutter handler: a series -----------------------------------------------

def _handler(url):
    cfg = parse('[mews]\nplatform_address = "http://127.0.0.1:1"\ngeneration = "seed"\nconnector_token = "t"\n'
                f'[agent]\ntimezone = "Europe/London"\n[encoder]\nport = "{url}"\nreply_timeout = 0.6\n')
    h = from_config(cfg)
    h.encoder.ack_timeout = 0.3
    return h


def _command(keys):
    return Command.from_json({"Id": "cmd-lost", "State": "Pending", "CreatedUtc": "2024-05-01T12:00:00Z",
                              "Device": {"Id": "dev-enc", "Name": "Desk encoder", "Type": "VisiOnlineKeyCutter"},
                              "Data": {"KeyCutterId": "kc1", "LockIds": ["101"], "KeyCount": keys,
                                       "ValidityStartUtc": "2024-05-01T13:00:00Z",
                                       "ValidityEndUtc": "2024-05-03T10:00:00Z"}})


def _failure(sim, keys: int) -> DeviceError:
    """The DeviceError a key command of ``keys`` keys ends with on this encoder."""
    h = _handler(sim.url)
    try:
        with pytest.raises(DeviceError) as e:
            h.run(Job.of_command(_command(keys)), NullProgress()).note
    finally:
        h.close()
    return e.value


def test_first_key_lost_ends_the_command_in_error_not_in_a_retry(make_sim):
    sim = make_sim(reads_cards=False)
    sim.lose_next_reply(made=True)
    e = _failure(sim, 2)
    assert (str(e), e.retryable) == (UNKNOWN, False)  # retryable would resend the CN
    assert sim.requests == ["CN", "LT"]


def test_lost_copy_is_not_resent_and_counts_the_keys_made(make_sim):
    sim = make_sim(reads_cards=False)
    sim.lose_next_reply(made=False, command="CC")  # the CN is answered, the first CC is not
    e = _failure(sim, 3)
    assert (str(e), e.retryable) == (f"1 of 3 keys made; {UNKNOWN}", False)
    assert sim.requests == ["CN", "CC", "LT"]


def test_lost_copy_that_was_made_lets_the_series_go_on(make_sim):
    sim = make_sim()
    sim.lose_next_reply(made=True, command="CC")
    h = _handler(sim.url)
    try:
        note = h.run(Job.of_command(_command(3)), NullProgress()).note
    finally:
        h.close()
    assert note == "3 keys encoded for room 101"
    assert sim.requests == ["CN", "CC", "LT", "CC"] and len(sim.keys) == 3
