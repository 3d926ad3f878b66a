"""The Connector API: `POST /api/connector/v1/{operation}` with auth, rate limit and faults in front."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Callable

from aiohttp import web

from sim.mews import kiosk, today
from sim.mews.errors import ApiError
from sim.mews.faults import retry_after_header

if TYPE_CHECKING:
    from sim.mews.server import MewsSimulator

log = logging.getLogger("sim.mews.api")
API_PREFIX = "/api/connector/v1/"
# Typed request storage key where aiohttp has it (3.12+), a plain string before.
REQUEST_ID = web.RequestKey("request_id", str) if hasattr(web, "RequestKey") else "request_id"


def operations(sim: "MewsSimulator") -> dict[str, Callable[[dict], dict]]:
    """Operation path after v1/ -> handler(body) -> response body, in the simulator's generation."""
    ent, book = sim.enterprise, sim.commands
    if sim.generation == "current":
        return today.TodayApi(ent, book).operations()
    return {
        "spaces/getAll": ent.get_all_spaces,
        "resources/getAll": ent.get_all_resources,
        "reservations/getAll": ent.get_all_reservations,
        "reservations/start": ent.start_reservation,
        "reservations/process": ent.process_reservation,
        "reservations/cancel": ent.cancel_reservation,
        "customers/getBalance": ent.get_balance,
        "customers/getOpenItems": ent.get_open_items,
        "customers/update": ent.update_customer,
        "payments/addCreditCard": ent.add_credit_card_payment,
        "tasks/add": ent.add_task,
        "commands/getAllActive": book.get_all_active,
        "commands/update": book.update,
        **kiosk.operations(ent),
    }


def error_response(status: int, message: str, request_id: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"Message": message, "RequestId": request_id}, status=status, headers=headers)


async def read_body(request: web.Request, *, allow_empty: bool = False) -> dict:
    """The request's JSON object; an empty body is ``{}`` when ``allow_empty`` (admin routes), else a 400."""
    raw = await request.read()
    if allow_empty and not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "Invalid request: the body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid request: the body must be a JSON object.")
    return body


class ConnectorApi:
    """Request pipeline: count, latency, 404, JSON, token (401), rate limit (429), injected 5xx, operation."""

    def __init__(self, sim: "MewsSimulator"):
        self.sim = sim
        self.operations = operations(sim)

    async def handle(self, request: web.Request) -> web.Response:
        sim = self.sim
        operation = request.match_info["operation"]
        rid = request[REQUEST_ID]
        sim.count_request(operation)
        if sim.faults.latency_ms > 0:
            await asyncio.sleep(sim.faults.latency_ms / 1000.0)
        handler = self.operations.get(operation)
        current = sim.generation == "current"
        if (operation != "app/signIn" or current) and handler is None:
            sim.record_exchange(operation, None, 404, {"Message": f"Unknown operation {operation}.", "RequestId": rid})
            return error_response(404, f"Unknown operation {operation}.", rid)
        body = None
        try:
            body = await read_body(request)
            if current:
                key = self.check_tokens(body)
                today.check_request(operation, body)
            elif operation == "app/signIn":
                key = body.get("ConnectorToken")
                sim.sessions.check_connector_token(key)
            else:
                # The earlier spec named the field ConnectorToken in customers/getBalance.
                key = body.get("AccessToken", body.get("ConnectorToken"))
                if not sim.sessions.valid(key):
                    missing = key is None or key == ""
                    raise ApiError(401, "Missing AccessToken." if missing else
                                   "Invalid AccessToken: it expired or another client signed in.")
            wait = sim.limiter.admit(key)
            if wait is not None:
                sim.rate_limited += 1
                header = retry_after_header(wait)
                raise ApiError(429, f"Too many requests: at most {sim.faults.rate_limit_requests} per "
                               f"{sim.faults.rate_limit_window:g} s per token. Retry after {header} s.",
                               {"Retry-After": header})
            status = sim.faults.operation_error(operation) or sim.faults.server_error()
            if status is not None:
                raise ApiError(status, "Server error (injected by the simulator). Please retry later.")
            sim.record_client(body)
            if operation == "app/signIn" and not current:
                token = sim.sessions.sign_in(key, body.get("ClientToken"), body.get("Client"))
                result = {"AccessToken": token, "Enterprise": sim.enterprise.enterprise_json()}
            else:
                result = handler(body)
                if operation == "commands/getAllActive" and sim.faults.commands_missing:
                    result = {}
                if sim.faults.lose_answer(operation):
                    raise kiosk.AnswerLost(operation)
        except ApiError as e:
            sim.record_exchange(operation, body, e.status, {"Message": e.message, "RequestId": rid})
            return error_response(e.status, e.message, rid, e.headers)
        except kiosk.AnswerLost:
            if request.transport is not None:
                request.transport.close()  # done, but the answer never arrives
            return web.Response(status=500)
        sim.record_exchange(operation, body, 200, result)
        if sim.faults.slow_rest:
            return await self.trickle(request, json.dumps(result).encode())
        return web.json_response(result)

    def check_tokens(self, body: dict) -> str:
        """Today's auth: the integration's ClientToken and the property's AccessToken in every body (401 if not)."""
        sim = self.sim
        client_token, access_token = body.get("ClientToken"), body.get("AccessToken")
        if not client_token or not access_token:
            raise ApiError(401, "Missing " + " and ".join(k for k, v in (("ClientToken", client_token),
                                                                           ("AccessToken", access_token)) if not v)
                           + ".")
        if client_token != sim.client_token:
            raise ApiError(401, "Invalid ClientToken: the integration is unknown or disabled.")
        if access_token != sim.access_token:
            raise ApiError(401, "Invalid AccessToken: the property has not connected this integration.")
        return access_token

    async def trickle(self, request: web.Request, data: bytes) -> web.StreamResponse:
        """Slow-loris: the whole length announced, then one byte per ``trickle_interval``."""
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(data)
        await response.prepare(request)
        for i in range(len(data)):
            await asyncio.sleep(self.sim.faults.trickle_interval)
            await response.write(data[i:i + 1])
        await response.write_eof()
        return response
