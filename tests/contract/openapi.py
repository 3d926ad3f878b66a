"""The published Connector API (OpenAPI 3.0 files in mews-openapi/) as JSON Schema checks.

A maintained validator (``jsonschema``, Draft 2020-12) does the checking; this module
only translates OpenAPI 3.0 to JSON Schema (``nullable``, ``$ref`` into ``$defs``) and
words each violation as "operation, JSON path, rule". The generator's known noise is
set aside in ``NOISE`` with the reason, never silently.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import jsonschema
import yaml

SPEC_DIR = Path(__file__).with_name("mews-openapi")
PREFIX = "/api/connector/v1/"
# Schema noise: the published (generated) schemas themselves, not our traffic. Each entry says why.
NOISE = {
    "DeviceCommandData": "the generator's empty base schema (type object, additionalProperties false) is in every "
                         "command data variant's allOf and would reject any Data; Data is checked against the "
                         "variant its Device.Type names instead",
    "DeviceCommand.Data": "oneOf over the variants cannot pass: the FiscalMachineCommandData excerpt matches any "
                          "object (and the variants overlap); replaced by the Device.Type check above",
    "example PrinterDriverName/PrinterPortName ''": "two published getAllActive examples have '' where the schema "
                                                   "asks for at least one character (example noise; the "
                                                   "simulator's printers have a driver and a port name)",
    "seed spec example ids": "the seed documents' examples use ids that are not UUIDs; they are not validated "
                             "here: today's contract test runs the simulator, whose ids are UUIDs",
}
DATA_VARIANTS = {"Printer": "PrinterCommandData", "KeyCutter": "KeyCutterCommandData",
                 "PaymentTerminal": "PaymentTerminalCommandData", "PassportScanner": "PassportScannerCommandData"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("uuid")
def _is_uuid(value) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@FORMATS.checks("date")
def _is_date(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


@FORMATS.checks("date-time")
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value and parsed.tzinfo is not None


def to_json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes a null alternative, refs point into ``$defs``."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    if node.get("nullable") is True:
        rest = {k: v for k, v in node.items() if k != "nullable"}
        return {"anyOf": [{"type": "null"}, to_json_schema(rest)]}
    out = {}
    for key, value in node.items():
        if key in ("nullable", "deprecated", "example", "title", "description") or key.startswith("x-"):
            continue
        if key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key == "properties":
            out[key] = {name: to_json_schema(v) for name, v in value.items()}
        else:
            out[key] = to_json_schema(value)
    return out


class Contract:
    """Every operation of the files in ``SPEC_DIR``: its request schema and its answers by status."""

    def __init__(self, spec_dir: Path = SPEC_DIR):
        self.requests: dict[str, jsonschema.Draft202012Validator] = {}
        self.answers: dict[tuple[str, str], jsonschema.Draft202012Validator] = {}
        self.examples: list[tuple[str, str, object, jsonschema.Draft202012Validator]] = []
        self.defs_of: dict[str, dict] = {}
        for path in sorted(spec_dir.glob("*.yml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            defs = {name: to_json_schema(s) for name, s in doc.get("components", {}).get("schemas", {}).items()}
            if "DeviceCommandData" in defs:  # NOISE["DeviceCommandData"]
                defs["DeviceCommandData"] = {"type": "object"}
            if "DeviceCommand" in defs:  # NOISE["DeviceCommand.Data"]
                defs["DeviceCommand"]["properties"]["Data"] = {"type": "object"}
                self.command_defs = defs
            for route, item in (doc.get("paths") or {}).items():
                op = route[len(PREFIX):]
                post = item["post"]
                self.defs_of[op] = defs
                content = post.get("requestBody", {}).get("content", {}).get("application/json", {})
                if "schema" in content:
                    self.requests[op] = self._validator(defs, content["schema"])
                    if "example" in content:
                        self.examples.append((op, "request", content["example"], self.requests[op]))
                for status, answer in post.get("responses", {}).items():
                    body = answer.get("content", {}).get("application/json", {})
                    if "schema" in body:
                        self.answers[(op, status)] = self._validator(defs, body["schema"])
                        if "example" in body:
                            self.examples.append((op, f"answer {status}", body["example"],
                                                  self.answers[(op, status)]))

    @staticmethod
    def _validator(defs: dict, schema: dict) -> jsonschema.Draft202012Validator:
        root = dict(to_json_schema(schema))
        root["$defs"] = defs
        return jsonschema.Draft202012Validator(root, format_checker=FORMATS)

    def operations(self) -> set[str]:
        return set(self.requests)

    def check_request(self, op: str, body) -> list[str]:
        if op not in self.requests:
            return [f"{op}: request: no published schema (an operation of no file)"]
        return self._errors(op, "request", self.requests[op], body)

    def check_answer(self, op: str, status: int, body) -> list[str]:
        validator = self.answers.get((op, str(status)))
        if validator is None:
            return [f"{op}: answer {status}: the published operation has no such answer"]
        problems = self._errors(op, f"answer {status}", validator, body)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("Commands"), list):
            problems += self._check_command_data(op, body["Commands"])
        return problems

    def _check_command_data(self, op: str, commands: list) -> list[str]:
        """Each command whole (``DeviceCommand``), and its Data against the variant its Device.Type names."""
        defs = self.command_defs
        problems = []
        for i, c in enumerate(commands):
            problems += self._errors(op, "answer 200", self._validator(defs, {"$ref": "#/$defs/DeviceCommand"}),
                                     c, prefix=f"Commands/{i}")
            kind = ((c or {}).get("Device") or {}).get("Type") if isinstance(c, dict) else None
            variant = DATA_VARIANTS.get(kind)
            if variant is None:
                problems.append(f"{op}: answer 200: Commands/{i}/Device/Type: enum: {kind!r} is no published "
                                "device type with command data")
                continue
            problems += self._errors(op, "answer 200", self._validator(defs, {"$ref": f"#/$defs/{variant}"}),
                                     c.get("Data"), prefix=f"Commands/{i}/Data")
        return problems

    @staticmethod
    def _errors(op: str, what: str, validator, instance, prefix: str = "") -> list[str]:
        out = []
        for error in validator.iter_errors(instance):
            if error.validator == "anyOf" and error.context:  # a nullable field: say what the non-null rule wants
                error = jsonschema.exceptions.best_match(
                    [e for e in error.context if e.validator_value != "null"] or error.context)
            path = "/".join(str(p) for p in error.absolute_path)
            where = "/".join(p for p in (prefix, path) if p) or "(body)"
            out.append(f"{op}: {what}: {where}: {error.validator}: {error.message[:160]}")
        return out
