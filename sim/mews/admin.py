"""Admin routes under /_sim: create commands, inspect them, cancel, faults, housekeeping and price events.

They mirror the simulator's in-process helpers and never count against the rate limit.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from sim.mews import fields
from sim.mews.errors import ApiError
from sim.mews.routes import REQUEST_ID, error_response, read_body

if TYPE_CHECKING:
    from sim.mews.server import MewsSimulator


# KeyCutter command Data fields a test may set instead of the reservation's (either Type's names)
KEY_CUTTER_TEXT = ("ApiUrl", "KeyCutterData", "FirstName", "LastName", "NormalizedFirstName", "NormalizedLastName",
                   "Telephone", "Email", "UserName", "Password")
KEY_CUTTER_TIMES = ("StartUtc", "EndUtc", "ValidityStartUtc", "ValidityEndUtc")


def key_cutter_overrides(body: dict) -> dict:
    """Validated Data overrides from an addKeyCutter body: LockIds (multi-room keys), times, guest fields."""
    out: dict = {}
    lock_ids = fields.text_list(body, "LockIds", required=False)
    if lock_ids is not None:
        if not lock_ids or not all(lock_ids):
            raise ApiError(400, "Invalid LockIds: expected at least one non-empty lock id.")
        out["LockIds"] = list(lock_ids)
    for key in KEY_CUTTER_TIMES:
        when = fields.utc(body, key, required=False)
        if when is not None:
            out[key] = fields.format_utc(when)
    for key in KEY_CUTTER_TEXT:
        value = fields.text(body, key, required=False, empty_ok=True)
        if value is not None:
            out[key] = value
    if "KeyCutterData" in out:
        try:
            json.loads(out["KeyCutterData"])
        except ValueError:
            raise ApiError(400, "Invalid KeyCutterData: expected a JSON string.") from None
    return out


def admin_routes(sim: "MewsSimulator") -> list:
    async def call(request: web.Request, action) -> web.Response:
        try:
            body = await read_body(request, allow_empty=True) if request.method == "POST" else {}
            return web.json_response(action(body))
        except ApiError as e:
            return error_response(e.status, e.message, request[REQUEST_ID], e.headers)

    def not_found(command_id: str) -> ApiError:
        return ApiError(404, f"Command {command_id} was not found.")

    async def add_printer(request):
        def action(body):
            data = fields.text(body, "Data", empty_ok=True)
            file_type = fields.text(body, "FileType", required=False) or "application/pdf"
            copies = fields.integer(body, "CopyCount", default=1)
            printer_id = fields.text(body, "PrinterId", required=False)
            return {"CommandId": sim.commands.add_printer(data, file_type, copies, printer_id)}
        return await call(request, action)

    async def add_key_cutter(request):
        def action(body):
            device_id = fields.text(body, "KeyCutterId", required=False)
            kind = fields.text(body, "Type", required=False)
            if kind is None:  # without Type, the named device decides
                kind = sim.enterprise.devices.get(device_id or "", {}).get("Type", "KeyCutter")
            overrides = key_cutter_overrides(body)
            with sim.commands.lock:  # nobody sees the command before its overrides are in
                command_id = sim.commands.add_key_cutter(
                    fields.text(body, "ReservationId", required=False), fields.integer(body, "KeyCount", default=1),
                    kind, device_id)
                data = sim.commands.commands[command_id]["Data"]
                data.update({k: v for k, v in overrides.items() if k in data})
            return {"CommandId": command_id}
        return await call(request, action)

    async def add_passport_scanner(request):
        def action(body):
            return {"CommandId": sim.commands.add_passport_scanner(
                fields.text(body, "CustomerId", required=False), fields.text(body, "ReservationId", required=False),
                fields.text(body, "PassportScannerId", required=False))}
        return await call(request, action)

    async def list_commands(request):
        return await call(request, lambda body: {"Commands": sim.commands.all()})

    def known(request) -> str:
        command_id = request.match_info["id"]
        if command_id not in sim.commands.commands:
            raise not_found(command_id)
        return command_id

    async def get_command(request):
        return await call(request, lambda body: sim.commands.get(known(request)))

    async def cancel_command(request):
        return await call(request, lambda body: sim.commands.cancel(known(request)))

    async def faults(request):
        def action(body):
            if request.method == "POST":
                try:
                    sim.set_faults(**body)
                except ValueError as e:
                    raise ApiError(400, str(e)) from None
            return sim.faults.snapshot()
        return await call(request, action)

    async def price_update(request):
        return await call(request, sim.enterprise.price_update)

    async def space_state(request):
        space_id = request.match_info["id"]
        return await call(request, lambda body: sim.enterprise.set_space_state(space_id, fields.text(body, "State")))

    async def tasks(request):
        return await call(request, lambda body: {"Tasks": list(sim.enterprise.tasks)})

    async def counts(request):
        return await call(request, lambda body: {"Total": sim.request_count(), "ByOperation": sim.request_counts()})

    return [
        web.post("/_sim/commands/addPrinter", add_printer),
        web.post("/_sim/commands/addKeyCutter", add_key_cutter),
        web.post("/_sim/commands/addPassportScanner", add_passport_scanner),
        web.get("/_sim/commands", list_commands),
        web.get("/_sim/commands/{id}", get_command),
        web.post("/_sim/commands/{id}/cancel", cancel_command),
        web.get("/_sim/faults", faults),
        web.post("/_sim/faults", faults),
        web.post("/_sim/events/priceUpdate", price_update),
        web.post("/_sim/spaces/{id}/state", space_state),
        web.get("/_sim/tasks", tasks),
        web.get("/_sim/requests", counts),
    ]
