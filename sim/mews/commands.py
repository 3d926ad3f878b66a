"""Device commands: creation like the platform's addPrinter/addKeyCutter, states, legal transitions, history."""

from __future__ import annotations

import base64
import binascii
import unicodedata
import time
import uuid
from typing import Callable

from sim.mews import events, fields
from sim.mews.errors import bad_request
from sim.mews.state import Enterprise

COMMAND_STATES = ("Pending", "Received", "Processing", "Processed", "Cancelled", "Error")
FINAL_STATES = ("Processed", "Cancelled", "Error")
ACTIVE_STATES = ("Pending", "Received")
TRANSITIONS = {
    "Pending": ("Received", "Processing", "Processed", "Error", "Cancelled"),
    "Received": ("Processing", "Processed", "Error", "Cancelled"),
    "Processing": ("Processing", "Processed", "Error", "Cancelled"),
}
KEY_CUTTER_TYPES = ("KeyCutter", "VisiOnlineKeyCutter")
# Letters NFKD does not decompose into ASCII; lock systems want plain ASCII names.
_ASCII_FOLD = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L",
                             "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th"})


def normalize_name(name: str | None) -> str | None:
    """ASCII form of a name, as the platform sends it to key cutters (Zoë Ångström -> Zoe Angstrom)."""
    if name is None:
        return None
    decomposed = unicodedata.normalize("NFKD", name.translate(_ASCII_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")


class CommandBook:
    """All device commands of the enterprise; shares the enterprise's lock."""

    def __init__(self, enterprise: Enterprise, emit: Callable[[list], None]):
        self.enterprise = enterprise
        self.lock = enterprise.lock
        self._emit = emit
        self.commands: dict[str, dict] = {}

    # ---- creation

    def _device(self, device_id: str | None, device_type: str, what: str) -> dict:
        devices = self.enterprise.devices
        if device_id is None:
            device = next((d for d in devices.values() if d["Type"] == device_type), None)
            if device is None:
                raise bad_request(f"The enterprise has no {device_type} device.")
            return device
        device = devices.get(device_id)
        if device is None:
            raise bad_request(f"Invalid {what}: device {device_id} was not found.")
        if device["Type"] != device_type:
            raise bad_request(f"Invalid {what}: device {device['Name']} is a {device['Type']}, not a {device_type}.")
        return device

    def _create(self, device: dict, data: dict) -> str:
        created = fields.now()
        command = {"Id": str(uuid.uuid4()), "State": "Pending", "CreatedUtc": created,
                   "Creator": dict(self.enterprise.creator),
                   "Device": {"Id": device["Id"], "Name": device["Name"], "Type": device["Type"]},
                   "Data": data, "Progress": None, "Notes": None, "Result": None,
                   "History": [{"State": "Pending", "Progress": None, "Notes": None,
                                "Utc": fields.format_utc(created), "At": time.time()}]}
        self.commands[command["Id"]] = command
        self._emit([events.device_command(command["Id"], "Pending")])
        return command["Id"]

    def add_printer(self, file_data: str, file_type: str = "application/pdf", copy_count: int = 1,
                    printer_id: str | None = None) -> str:
        """Create a Printer command; ``file_data`` is base64."""
        try:
            base64.b64decode(file_data, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request("Invalid Data: expected the file as base64.") from None
        if not isinstance(copy_count, int) or isinstance(copy_count, bool) or copy_count < 1:
            raise bad_request("Invalid CopyCount: expected a whole number of at least 1.")
        with self.lock:
            printer = self._device(printer_id, "Printer", "PrinterId")
            data = {"CopyCount": copy_count, "FileType": file_type, "FileData": file_data,
                    "PrinterName": printer.get("PrinterName", printer["Name"]),
                    "PrinterDriverName": printer.get("PrinterDriverName", ""),
                    "PrinterPortName": printer.get("PrinterPortName", "")}
            return self._create(printer, data)

    def _key_reservation(self, reservation_id: str | None) -> dict:
        ent = self.enterprise
        if reservation_id is None:
            with_room = [r for r in ent.reservations.values() if r.get("AssignedSpaceId")]
            for state in ("Started", "Confirmed"):
                match = next((r for r in with_room if r["State"] == state), None)
                if match is not None:
                    return match
            raise bad_request("No reservation with an assigned room to cut keys for.")
        r = ent.reservation(reservation_id)
        if not r.get("AssignedSpaceId"):
            raise bad_request(f"Reservation {r['Number']} has no assigned room: no lock to cut keys for.")
        return r

    def _lock_ids(self, r: dict) -> list[str]:
        space = self.enterprise.spaces[r["AssignedSpaceId"]]
        parent = self.enterprise.spaces.get(space.get("ParentSpaceId") or "")
        return [(parent or space)["Number"]]  # a bed opens the door of its room

    def add_payment_terminal(self, customer_id: str, currency: str, value: float, type: str = "Payment",
                             terminal_id: str | None = None) -> str:
        """Create a PaymentTerminal command as commands/addPaymentTerminal does (Type Payment or Preauthorization)."""
        if type not in ("Payment", "Preauthorization"):
            raise bad_request(f"Invalid Type {type!r}: expected Payment or Preauthorization.")
        with self.lock:
            device = self._device(terminal_id, "PaymentTerminal", "TerminalId")
            customer = self.enterprise.customers.get(customer_id)
            if customer is None:
                raise bad_request(f"Invalid CustomerId: customer {customer_id} was not found.")
            full_name = " ".join(p for p in (customer.get("FirstName"), customer.get("LastName")) if p)
            data = {"PaymentTerminalId": device.get("PaymentTerminalId", device["Id"]), "AccountId": customer_id,
                    "CustomerId": customer_id, "FullName": full_name, "BillId": None,
                    "Amount": {"Currency": currency, "GrossValue": value, "NetValue": value, "TaxValues": [],
                               "Breakdown": {"Items": []}, "Value": value},
                    "Fee": None, "PaymentTerminalData": device.get("PaymentTerminalData"),
                    "AccountData": {"Discriminator": "Customer", "Customer": {"FullName": full_name or "Guest"}},
                    "PaymentId" if type == "Payment" else "PreauthorizationId": str(uuid.uuid4())}
            return self._create(device, data)

    def add_key_cutter(self, reservation_id: str | None = None, key_count: int = 1, type: str = "KeyCutter",
                       key_cutter_id: str | None = None) -> str:
        """Create a KeyCutter or VisiOnlineKeyCutter command for a reservation (default: an in-house guest)."""
        if type not in KEY_CUTTER_TYPES:
            raise bad_request(f"Invalid Type {type!r}: expected KeyCutter or VisiOnlineKeyCutter.")
        if not isinstance(key_count, int) or isinstance(key_count, bool) or key_count < 1:
            raise bad_request("Invalid KeyCount: expected a whole number of at least 1.")
        with self.lock:
            device = self._device(key_cutter_id, type, "KeyCutterId")
            r = self._key_reservation(reservation_id)
            guest = self.enterprise.customers[r["CustomerId"]]
            lock_ids = self._lock_ids(r)
            if type == "VisiOnlineKeyCutter":
                data = {"ApiUrl": device.get("ApiUrl", ""), "UserName": device.get("UserName", ""),
                        "Password": device.get("Password", ""), "KeyCutterId": device.get("KeyCutterId", device["Id"]),
                        "LockIds": lock_ids, "ValidityStartUtc": fields.format_utc(r["StartUtc"]),
                        "ValidityEndUtc": fields.format_utc(r["EndUtc"]), "KeyCount": key_count,
                        "Reservation": self.enterprise.reservation_json(r)}
            else:
                data = {"KeyCutterId": device.get("KeyCutterId", device["Id"]), "ApiUrl": device.get("ApiUrl", ""),
                        "KeyCutterData": device.get("KeyCutterData", "{}"), "KeyCount": key_count,
                        "LockIds": lock_ids, "StartUtc": fields.format_utc(r["StartUtc"]),
                        "EndUtc": fields.format_utc(r["EndUtc"]), "FirstName": guest.get("FirstName"),
                        "LastName": guest.get("LastName"),
                        "NormalizedFirstName": normalize_name(guest.get("FirstName")),
                        "NormalizedLastName": normalize_name(guest.get("LastName")),
                        "Telephone": guest.get("Phone"), "Email": guest.get("Email"),
                        "ReservationId": r["Id"], "ReservationNumber": r["Number"]}
            return self._create(device, data)

    # ---- reading

    def _find(self, command_id: str) -> dict:
        command = self.commands.get(command_id)
        if command is None:
            raise bad_request(f"Invalid CommandId: command {command_id} was not found.")
        return command

    @staticmethod
    def _api_json(c: dict) -> dict:
        return {"Id": c["Id"], "State": c["State"], "CreatedUtc": fields.format_utc(c["CreatedUtc"]),
                "Creator": dict(c["Creator"]), "Device": dict(c["Device"]), "Data": dict(c["Data"])}

    def _full_json(self, c: dict) -> dict:
        out = self._api_json(c)
        out.update({"Progress": c["Progress"], "Notes": c["Notes"], "Result": c["Result"],
                    "History": [dict(h) for h in c["History"]]})
        return out

    def get(self, command_id: str) -> dict:
        """The command with its full state history (admin view)."""
        with self.lock:
            return self._full_json(self._find(command_id))

    def all(self) -> list[dict]:
        with self.lock:
            return [self._full_json(c) for c in self.commands.values()]

    def get_all_active(self, body: dict) -> dict:
        with self.lock:
            return {"Commands": [self._api_json(c) for c in self.commands.values() if c["State"] in ACTIVE_STATES]}

    # ---- state changes

    def _apply(self, c: dict, state: str, progress: float | None, notes: str | None, result: dict | None) -> None:
        c["State"] = state
        # As the spec says: Progress only with Processing, Notes only with a final state, Result only with Processed.
        progress = progress if state == "Processing" else None
        notes = notes if state in FINAL_STATES else None
        if progress is not None:
            c["Progress"] = progress
        if notes is not None:
            c["Notes"] = notes
        if result is not None and state == "Processed":
            c["Result"] = result
        c["History"].append({"State": state, "Progress": progress, "Notes": notes,
                             "Utc": fields.format_utc(fields.now()),
                             "At": time.time()})  # unix seconds, for latency benchmarks
        self._emit([events.device_command(c["Id"], state)])

    def update(self, body: dict) -> dict:
        command_id = fields.text(body, "CommandId")
        state = fields.text(body, "State")
        if state not in COMMAND_STATES:
            raise bad_request(f"Invalid State {state!r}: expected one of {', '.join(COMMAND_STATES)}.")
        progress = fields.number(body, "Progress", required=False)
        notes = fields.text(body, "Notes", required=False)
        result = fields.obj(body, "Result", required=False)
        with self.lock:
            c = self._find(command_id)
            current = c["State"]
            if current in FINAL_STATES:
                if state == current:
                    return {}  # a replayed final report: accepted, nothing changes
                raise bad_request(f"Invalid State: the command is already {current}, a final state.")
            if state not in TRANSITIONS[current]:
                raise bad_request(f"Invalid State: a {current} command cannot become {state}.")
            self._apply(c, state, progress, notes, result)
            return {}

    def cancel(self, command_id: str, notes: str = "Cancelled on the platform.") -> dict:
        """Platform-side cancel of a command that is not final yet."""
        with self.lock:
            c = self._find(command_id)
            if c["State"] in FINAL_STATES:
                raise bad_request(f"The command is already {c['State']} and cannot be cancelled.")
            self._apply(c, "Cancelled", None, notes, None)
            return self._full_json(c)

    def add_passport_scanner(self, customer_id: str | None = None, reservation_id: str | None = None,
                             scanner_id: str | None = None) -> str:
        """Create a PassportScanner command for a customer (default: the reservation's, else an in-house guest's)."""
        with self.lock:
            device = self._device(scanner_id, "PassportScanner", "PassportScannerId")
            ent = self.enterprise
            if customer_id is None:
                r = ent.reservation(reservation_id) if reservation_id else self._key_reservation(None)
                customer_id, reservation_id = r["CustomerId"], r["Id"]
            elif customer_id not in ent.customers:
                raise bad_request(f"Invalid CustomerId: customer {customer_id} was not found.")
            data = {"PassportScannerId": device.get("PassportScannerId", device["Id"]), "CustomerId": customer_id,
                    "ReservationId": reservation_id}
            return self._create(device, data)
