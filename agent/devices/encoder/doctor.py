"""Doctor: the encoder answers ENQ; ``--read-card`` reads (LT) the card in it, writing nothing.

While an agent runs it owns the encoder: both go through it (``agent.doctor.owner``), so a
guest's key exchange is never flushed or answered by a second program; the port is opened
here only when no agent runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

from agent.doctor import FAIL, NOT_IN_BUILD, OK, SKIP, Result, owner, reason

ENQ_TIMEOUT = 2.0


def add_arguments(parser) -> None:
    parser.add_argument("--read-card", action="store_true",
                        help="also read the key card presented to the encoder (LT; writes nothing)")


def check(cfg, options) -> Iterator[Result]:
    """The encoder's line, then the card read when asked for."""
    encoder = check_through_agent(cfg) or check_encoder(cfg)
    yield encoder
    if getattr(options, "read_card", False):
        if encoder.status == OK:
            def prompt(text):
                print(text, file=sys.stderr, flush=True)
            yield read_card_through_agent(cfg, prompt=prompt) or read_card(cfg, prompt=prompt)
        else:
            yield Result("read-card", SKIP, "encoder not answering")


def check_through_agent(cfg) -> Result | None:
    if cfg.encoder is None:
        return None
    return owner.check(cfg, "encoder", cfg.encoder.port,
                  "the encoder is busy or in an error state: remove any card, power-cycle it; "
                  f"check encoder.port and encoder.baudrate ({cfg.encoder.baudrate})")


def read_card_through_agent(cfg, prompt=print) -> Result | None:
    """LT as a read_card job of the agent's encoder."""
    from agent.control.client import listening
    from agent.control.protocol import Request
    from agent.doctor.host import agent_running

    if not listening(cfg.state_dir):
        # no agent: the doctor reads the card itself; an agent without the socket: _ask says SKIP
        return owner.ask_agent(cfg, "read-card", Request(op="check", device="encoder")) if agent_running(cfg) else None
    enc = cfg.encoder
    prompt(f"present a key card to the encoder (the running agent reads it; waiting up to {enc.reply_timeout:g} s "
           "after the encoder's current work) ...")
    answer = owner.job(cfg, "read-card", "read_card", {}, enc.reply_timeout + owner.JOB_SLACK)
    if answer is None or isinstance(answer, Result):
        return answer
    if answer.status != "done":
        return Result("read-card", FAIL, answer.detail, "present a programmed key card and try again")
    facts = answer.result
    if facts.get("blank"):
        return Result("read-card", OK, f"card read by {owner.by(answer)}: blank (no key on it)")
    rooms = ", ".join(str(r) for r in facts.get("rooms") or []) or "none"
    until = str(facts.get("valid_until") or "?").replace("T", " ")
    return Result("read-card", OK, f"card for room(s) {rooms}, valid until {until} (read by {owner.by(answer)})")

def check_encoder(cfg) -> Result:
    """The encoder port opens and the encoder answers ENQ with ACK."""
    if cfg.encoder is None:
        return Result("encoder", SKIP, "no [encoder] table")
    try:
        from hal.encoder.encoder import open_serial
        from hal.encoder.frame import ACK, ENQ, NAK
        from hal.errors import DeviceDisconnected
    except ImportError:
        return Result("encoder", SKIP, NOT_IN_BUILD)
    enc = cfg.encoder
    try:
        port = open_serial(enc.port, enc.baudrate)
    except DeviceDisconnected as e:
        return Result("encoder", FAIL, reason(e), f"check the encoder's cable and encoder.port ({enc.port})")
    answer = None
    try:
        port.reset_input_buffer()
        port.write(bytes([ENQ]))
        deadline = time.monotonic() + ENQ_TIMEOUT
        while time.monotonic() < deadline and answer not in (ACK, NAK):
            data = port.read(1)
            answer = data[0] if data else None
    except Exception as e:  # port vanished under us
        return Result("encoder", FAIL, f"{enc.port}: {reason(e)}", "check the encoder's cable")
    finally:
        try:
            port.close()
        except Exception:
            pass
    if answer == ACK:
        return Result("encoder", OK, f"{enc.port}: answers ENQ with ACK")
    if answer == NAK:
        return Result("encoder", FAIL, f"{enc.port}: answers NAK (not ready)",
                      "the encoder is busy or in an error state: remove any card, power-cycle it")
    return Result("encoder", FAIL, f"{enc.port}: no answer to ENQ within {ENQ_TIMEOUT:g} s",
                  f"check the encoder's power and cable, encoder.port and encoder.baudrate ({enc.baudrate})")


def read_card(cfg, prompt=print) -> Result:
    """Read the card in the encoder with LT (only with --read-card); writes nothing to it."""
    try:
        from hal.encoder import EncoderError, KeyEncoder
        from hal.errors import DeviceError
    except ImportError:
        return Result("read-card", SKIP, NOT_IN_BUILD)
    enc = cfg.encoder
    prompt(f"present a key card to the encoder (waiting up to {enc.reply_timeout:g} s) ...")
    encoder = KeyEncoder(enc.port, baudrate=enc.baudrate, encoder_id=enc.encoder_id,
                         reply_timeout=enc.reply_timeout)
    try:
        info = encoder.read_card()
    except (EncoderError, DeviceError) as e:
        return Result("read-card", FAIL, reason(e), "present a programmed key card and try again")
    finally:
        encoder.close()
    if not info.rooms and info.valid_until is None:
        return Result("read-card", OK, "card read: blank (no key on it)")
    rooms = ", ".join(info.rooms) or "none"
    until = info.valid_until.strftime("%Y-%m-%d %H:%M") if info.valid_until else "?"
    return Result("read-card", OK, f"card for room(s) {rooms}, valid until {until}")
