"""Field checks for `kiosk-agent doctor`: one Result per check, with what to do about a FAIL.

Every check is read-only: nothing is printed and no card is encoded unless the
technician asks (``--print-test``, ``--read-card``). Tokens never reach a Result.
A piece missing from this build is a SKIP, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.runtime.logs import redact

OK, FAIL, SKIP = "OK", "FAIL", "SKIP"
NOT_IN_BUILD = "not available in this build"


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # OK | FAIL | SKIP
    detail: str
    fix: str = ""  # what the technician should do about a FAIL

    def line(self) -> str:
        """``OK   printer    ready (status 12 12 12)``, plus an indented ``-> fix`` line on FAIL."""
        text = f"{self.status:<4} {self.name:<10} {redact(self.detail)}"
        return text + (f"\n     {'':<10} -> {redact(self.fix)}" if self.status == FAIL and self.fix else "")


def reason(e: BaseException) -> str:
    """An exception as one short line, secrets redacted."""
    text = str(e).strip() or type(e).__name__
    return redact(" ".join(text.split()))[:300]
