"""`kiosk-agent kiosk check-in|check-out`: one guest flow through the *running* agent's kiosk API.

Non-interactive, for staff tests and scripts (shared/CONVENTIONS.md "Kiosk"). Exit 0
on success, 1 when refused or failed, 2 for usage/config errors or when no agent
with the kiosk enabled answers at ``kiosk.listen``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from agent.cli import add_config_argument, load_config_or_exit
from agent.kiosk.messages import render

POLL = 0.2
FLOW_LIMIT = 300.0


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="flow", metavar="FLOW", required=True)
    p = sub.add_parser("check-in", help="find a booking, check in, cut keys, print the slip")
    add_config_argument(p)
    p.add_argument("--number", required=True, help="confirmation number")
    p.add_argument("--last-name", required=True)
    p.add_argument("--keys", type=int, default=1, help="keys to cut (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = sub.add_parser("check-out", help="find the stay, settle the bill, check out, print the folio")
    add_config_argument(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--number", help="confirmation number (the default way to find a stay)")
    g.add_argument("--room", help="room number (only where kiosk.checkout_by_room = true)")
    g.add_argument("--card", action="store_true", help="read the room from the key card on the encoder")
    p.add_argument("--last-name", required=True)
    p.add_argument("--json", action="store_true", help="print one JSON object")


class Unreachable(Exception):
    pass


class Api:
    def __init__(self, base: str, screen_token: str = ""):
        from agent.net import urequests

        self.base, self.http = base, urequests.Session(timeout=10)
        # the API answers only the kiosk's screen: present its secret like the page does
        self.headers = {"X-Kiosk-Screen": screen_token} if screen_token else {}

    def ask(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        if body is None and method == "POST":
            body = {}  # state changes are taken as JSON only
        try:
            resp = self.http.request(method, self.base + path, json=body, headers=self.headers, timeout=10)
        except OSError as e:
            raise Unreachable(str(e)) from None
        try:
            text = resp.content
            return resp.status_code, (json.loads(text) if text.strip() else {})
        except ValueError:
            raise Unreachable(f"{path}: the answer is not JSON") from None
        finally:
            resp.close()


def _wait(api: Api, screen: dict) -> dict:
    end = time.monotonic() + FLOW_LIMIT
    while screen.get("busy") and time.monotonic() < end:
        time.sleep(POLL)
        status, screen = api.ask("GET", f"/api/sessions/{screen['session']}")
        if status != 200:
            raise Unreachable(f"session lost ({status})")
    return screen


def _steps(args) -> list[tuple[str, dict]]:
    if args.flow == "check-in":
        return [("find", {"number": args.number, "last_name": args.last_name}), ("confirm", {}),
                ("pay", {}), ("keys", {"count": args.keys})]
    first: list[tuple[str, dict]] = [("read_card", {})] if args.card else []
    key = "room" if args.room else "number"
    return first + [("find", {key: getattr(args, key, None) or "", "last_name": args.last_name}), ("pay", {})]


def drive(api: Api, args) -> dict:
    status, screen = api.ask("POST", "/api/sessions", {"flow": args.flow, "language": "en"})
    if status != 201:
        raise Unreachable(f"POST /api/sessions answered {status}")
    for action, fields in _steps(args):
        if screen["screen"] in ("refused", "failed", "done", "goodbye"):
            break
        allowed = screen.get("data", {}).get("max_keys")
        if action == "confirm" and allowed is not None and not 1 <= args.keys <= allowed:
            api.ask("DELETE", f"/api/sessions/{screen['session']}")  # nothing started: the guest may come back
            return {"result": "refused", "message": f"keys: {render('field.keys', {'max': allowed})}"}
        if action not in screen["actions"]:
            if action == "pay" and "checkout" in screen["actions"]:
                action = "checkout"
            else:
                continue
        status, answer = api.ask("POST", f"/api/sessions/{screen['session']}/input", {"action": action, **fields})
        if status != 200:
            return {"result": "failed", "message": render(answer.get("error", {}).get("id", "error.bad_request"))}
        screen = _wait(api, answer)
        if screen["errors"]:
            field, err = next(iter(screen["errors"].items()))
            return {"result": "refused", "message": f"{field}: {render(err['id'], err.get('params'))}"}
    data, message = screen.get("data", {}), screen["message"]
    out = {"result": {"done": "checked in", "goodbye": "checked out"}.get(screen["screen"], screen["screen"]),
           "message": render(message["id"], message.get("params")), "reservation": data.get("reservation") or getattr(args, "number", None),
           "room": data.get("room"), "keys": data.get("keys", 0), "printed": bool(data.get("printed")),
           "balance": data.get("balance")}
    if out["result"] not in ("checked in", "checked out", "refused", "failed"):
        out["result"] = "failed"
    api.ask("DELETE", f"/api/sessions/{screen['session']}")
    return out


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    if not cfg.kiosk.enabled:
        print("kiosk-agent kiosk: [kiosk] enabled is not true in the config", file=sys.stderr)
        return 2
    from agent.kiosk.address import WILDCARDS, parse_listen

    host, port = parse_listen(cfg.kiosk.listen)  # checked at load
    if host in WILDCARDS:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    try:
        result = drive(Api(f"http://{host}:{port}", cfg.kiosk.screen_token), args)
    except Unreachable as e:
        print(f"kiosk-agent kiosk: no agent with the kiosk enabled at {cfg.kiosk.listen}: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{result['result']}: {result['message']}")
        for key in ("reservation", "room", "keys", "printed", "balance"):
            if result.get(key) not in (None, ""):
                print(f"  {key}: {result[key]}")
    return 0 if result["result"] in ("checked in", "checked out") else 1
