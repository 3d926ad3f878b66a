"""Device checks through the running agent, which owns the printer and encoder while it runs.

Each function returns None when no agent answers on this state folder's control socket: the
doctor then opens the device itself (each device kind's ``doctor`` module). With an agent running it never
does: a second program on the encoder's tty would flush or answer a guest's key exchange.
"""

from __future__ import annotations

from agent.doctor import FAIL, OK, SKIP, Result

JOB_SLACK = 120.0  # seconds a staff job may wait behind the device's queued work


def ask_agent(cfg, name: str, request):
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


def by(answer) -> str:
    return f"the running agent (pid {answer.pid})" if answer.pid else "the running agent"


def check(cfg, name: str, port: str, fix: str) -> Result | None:
    from agent.control.protocol import Request

    answer = ask_agent(cfg, name, Request(op="check", device=name))
    if answer is None or isinstance(answer, Result):
        return answer
    if answer.status == "busy":
        return Result(name, OK, f"{port}: working in {by(answer)}: {answer.detail}")
    if answer.status == "ok":
        return Result(name, OK, f"{port}: {answer.detail} (asked through {by(answer)})")
    return Result(name, FAIL, f"{port}: {answer.detail} (asked through {by(answer)})", answer.fix or fix)


def job(cfg, name: str, kind: str, data: dict, wait: float):
    from agent.control.protocol import Request

    return ask_agent(cfg, name, Request(op="job", kind=kind, data=data, wait=wait))
