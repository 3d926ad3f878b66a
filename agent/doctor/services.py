"""Service checks: the kiosk's web server (and a POS service) serving, as the running agent reports it.

With the agent running, its health snapshot says whether each service started; without
it, the kiosk check binds ``kiosk.listen`` for a moment to see whether `run` could (a
program already there would put its own page on the guest's screen).
"""

from __future__ import annotations

import errno
import socket

from agent.doctor import FAIL, OK, SKIP, Result


def _running_services(cfg) -> dict | None:
    """The running agent's ``services`` map, or None when no agent runs on this state folder."""
    from agent.doctor.host import agent_running
    from agent.runtime.health import Health

    if not agent_running(cfg):
        return None
    try:
        return Health.read(cfg.state_dir / "health.json").services
    except (OSError, ValueError, TypeError):
        return None


def _port_fix(listen: str) -> str:
    port = listen.rpartition(":")[2]
    return (f"another program holds the port: find it with  ss -ltnp 'sport = :{port}'  and stop it, "
            "or set kiosk.listen to a free port; then restart kiosk-agent")


def check_kiosk(cfg) -> Result:
    """The kiosk web server serves at ``kiosk.listen`` (or could: nothing else holds the address)."""
    listen = cfg.kiosk.listen
    services = _running_services(cfg)
    if services is not None and services.get("kiosk"):
        state = services["kiosk"]
        if state == "ok":
            return Result("kiosk", OK, f"serving the kiosk screen at http://{listen}/")
        fix = (_port_fix(listen) if "in use" in state
               else "check kiosk.listen and the agent's log; then restart kiosk-agent")
        return Result("kiosk", FAIL, state, fix)
    if services is not None:
        return Result("kiosk", SKIP, "the running agent does not report its kiosk (older agent, or still starting)")
    from agent.kiosk.address import parse_listen

    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            probe.bind((host, port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return Result("kiosk", FAIL, f"{listen} is in use by another program", _port_fix(listen))
        return Result("kiosk", FAIL, f"cannot listen on {listen}: {e.strerror or e}",
                      "set kiosk.listen to an address of this unit (127.0.0.1:PORT for the unit's own screen)")
    return Result("kiosk", OK, f"{listen} free: the agent can serve the kiosk screen there")


def check_pos_service(cfg) -> Result | None:
    """A POS service the running agent could not start; None when there is nothing to say."""
    services = _running_services(cfg)
    state = (services or {}).get("pos")
    if not state or state == "ok":
        return None
    return Result("pos-svc", FAIL, state, "see the agent's log (journalctl -u kiosk-agent); then restart kiosk-agent")
