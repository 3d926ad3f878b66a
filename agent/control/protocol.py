"""What the control socket carries: typed requests and answers, parsed once at the boundary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from common.jsonparts import part

MAX_LINE = 256 * 1024  # a receipt's text is a few KB; anything larger is not ours
JOB_KINDS = ("read_card", "print_document")  # what a staff tool may ask the agent's devices to do
MAX_WAIT = 600.0


class MalformedMessage(ValueError):
    """A request the control socket does not take (the answer says why; the agent goes on)."""


@dataclass(frozen=True)
class Request:
    op: str  # "check" (a device's status) | "job" (run a job on the device's worker)
    device: str = ""  # check: a device kind's label ("printer", "encoder", ...)
    kind: str = ""  # job: one of JOB_KINDS
    data: dict = field(default_factory=dict)  # job: the kind's data (as a Mews command's Data)
    wait: float = 60.0  # job: seconds to wait for the outcome before giving up (the job is cancelled)

    def to_line(self) -> bytes:
        body = {"op": self.op, "device": self.device, "kind": self.kind, "data": self.data, "wait": self.wait}
        return json.dumps(body).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Request:
        try:
            raw = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise MalformedMessage("not JSON") from None
        if not isinstance(raw, dict):
            raise MalformedMessage("not a JSON object")
        op, device, kind = raw.get("op"), raw.get("device", ""), raw.get("kind", "")
        data, wait = raw.get("data", {}), raw.get("wait", 60.0)
        if op == "check":
            from agent.devices import kinds

            labels = [k.label for k in kinds()]
            if device not in labels:
                raise MalformedMessage(f"check: device must be one of {', '.join(labels)}")
        if op == "job" and kind not in JOB_KINDS:
            raise MalformedMessage(f"job: kind must be one of {', '.join(JOB_KINDS)}")
        if op not in ("check", "job"):
            raise MalformedMessage("op must be check or job")
        if not isinstance(data, dict):
            raise MalformedMessage("data must be an object")
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 < wait <= MAX_WAIT:
            raise MalformedMessage(f"wait must be a number of seconds in (0, {MAX_WAIT:g}]")
        return cls(op=op, device=device, kind=kind, data=data, wait=float(wait))


@dataclass(frozen=True)
class Answer:
    """``status``: check "ok" | "busy" | "fail"; job "done" | "failed" | "cancelled"; "error" (bad request)."""

    status: str
    detail: str = ""  # what the device said, or why not, for staff
    fix: str = ""  # check "fail": what to do
    result: dict = field(default_factory=dict)  # job: the outcome's facts (read_card: rooms, valid_until)
    pid: int = 0  # the agent's process id

    def to_line(self) -> bytes:
        body = {"status": self.status, "detail": self.detail, "fix": self.fix, "result": self.result, "pid": self.pid}
        return json.dumps(body, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Answer:
        try:
            raw = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise MalformedMessage("the agent's answer is not JSON") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("status"), str):
            raise MalformedMessage("the agent's answer has no status")

        def text(key: str) -> str:
            value = raw.get(key, "")
            return value if isinstance(value, str) else ""

        result = part(raw, "result")
        pid = raw.get("pid")
        pid = pid if isinstance(pid, int) else 0
        return cls(status=raw["status"], detail=text("detail"), fix=text("fix"), result=result, pid=pid)
