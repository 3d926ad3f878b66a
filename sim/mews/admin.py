"""Admin routes under /_sim: create commands, inspect them, cancel, faults, housekeeping and price events.

They mirror the simulator's in-process helpers and never count against the rate limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sim.mews import fields
from sim.mews.errors import ApiError
from sim.mews.routes import REQUEST_ID, error_response, read_body

if TYPE_CHECKING:
    from sim.mews.server import MewsSimulator


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
            return {"CommandId": sim.commands.add_key_cutter(
                fields.text(body, "ReservationId", required=False), fields.integer(body, "KeyCount", default=1),
                kind, device_id)}
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
