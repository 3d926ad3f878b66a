"""Device checks through the running agent, which owns the printer and encoder while it runs.

Each function returns None when no agent answers on this state folder's control socket: the
doctor then opens the device itself (``agent.doctor.devices``). With an agent running it never
does: a second program on the encoder's tty would flush or answer a guest's key exchange.
"""

from __future__ import annotations

import base64

from agent.doctor import FAIL, OK, SKIP, Result

JOB_SLACK = 120.0  # seconds a staff job may wait behind the device's queued work


def _ask(cfg, name: str, request):
    """The agent's Answer, None (no agent: open the device), or a Result saying why neither."""
    from agent.control.client import AgentNotAnswering, ask
    from agent.doctor.host import agent_running

    try:
        answer = ask(cfg.state_dir, request)
    except AgentNotAnswering as e:
        return Result(name, FAIL, f"the running agent holds the {name} but did not answer: {e}",
                      "see the agent's log (journalctl -u kiosk-agent); doctor leaves its devices alone")
    if answer is None and agent_running(cfg):
        # an agent without the control socket (older, or it could not listen) still holds the port
        return Result(name, SKIP, f"held by the running agent (no control socket at {cfg.state_dir}): "
                      "stop it to test the device (sudo systemctl stop kiosk-agent)")
    return answer


def _by(answer) -> str:
    return f"the running agent (pid {answer.pid})" if answer.pid else "the running agent"


def _check(cfg, name: str, port: str, fix: str) -> Result | None:
    from agent.control.protocol import Request

    answer = _ask(cfg, name, Request(op="check", device=name))
    if answer is None or isinstance(answer, Result):
        return answer
    if answer.status == "busy":
        return Result(name, OK, f"{port}: working in {_by(answer)}: {answer.detail}")
    if answer.status == "ok":
        return Result(name, OK, f"{port}: {answer.detail} (asked through {_by(answer)})")
    return Result(name, FAIL, f"{port}: {answer.detail} (asked through {_by(answer)})", answer.fix or fix)


def check_printer(cfg) -> Result | None:
    if cfg.printer is None:
        return None
    return _check(cfg, "printer", cfg.printer.port,
                  f"check the printer's power and cable, printer.port and printer.baudrate ({cfg.printer.baudrate})")


def check_encoder(cfg) -> Result | None:
    if cfg.encoder is None:
        return None
    return _check(cfg, "encoder", cfg.encoder.port,
                  "the encoder is busy or in an error state: remove any card, power-cycle it; "
                  f"check encoder.port and encoder.baudrate ({cfg.encoder.baudrate})")


def _job(cfg, name: str, kind: str, data: dict, wait: float):
    from agent.control.protocol import Request

    return _ask(cfg, name, Request(op="job", kind=kind, data=data, wait=wait))


def print_test_receipt(cfg, text: str) -> Result | None:
    """The test receipt as a print job of the agent's printer (queued behind its work)."""
    data = {"FileType": "text/plain", "FileData": base64.b64encode(text.encode()).decode(), "CopyCount": 1}
    answer = _job(cfg, "print-test", "print_document", data, JOB_SLACK)
    if answer is None or isinstance(answer, Result):
        return answer
    if answer.status == "done":
        return Result("print-test", OK, f"test receipt {answer.detail} by {_by(answer)}: check it is readable")
    return Result("print-test", FAIL, answer.detail, "see the printer line above")


def read_card(cfg, prompt=print) -> Result | None:
    """LT as a read_card job of the agent's encoder."""
    from agent.control.client import listening
    from agent.control.protocol import Request
    from agent.doctor.host import agent_running

    if not listening(cfg.state_dir):
        # no agent: the doctor reads the card itself; an agent without the socket: _ask says SKIP
        return _ask(cfg, "read-card", Request(op="check", device="encoder")) if agent_running(cfg) else None
    enc = cfg.encoder
    prompt(f"present a key card to the encoder (the running agent reads it; waiting up to {enc.reply_timeout:g} s "
           "after the encoder's current work) ...")
    answer = _job(cfg, "read-card", "read_card", {}, enc.reply_timeout + JOB_SLACK)
    if answer is None or isinstance(answer, Result):
        return answer
    if answer.status != "done":
        return Result("read-card", FAIL, answer.detail, "present a programmed key card and try again")
    facts = answer.result
    if facts.get("blank"):
        return Result("read-card", OK, f"card read by {_by(answer)}: blank (no key on it)")
    rooms = ", ".join(str(r) for r in facts.get("rooms") or []) or "none"
    until = str(facts.get("valid_until") or "?").replace("T", " ")
    return Result("read-card", OK, f"card for room(s) {rooms}, valid until {until} (read by {_by(answer)})")
