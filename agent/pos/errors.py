"""ConcertPOS errors: every gateway error code as a class with a message for staff.

Gateway error replies look like ``{"type": "error", "result": {"error": NAME,
"code": N}}``; ``ratelimit`` carries ``{"command": ..., "retry_after": ms}`` as
its code. ``from_reply`` maps the name to a class; unknown names still become a
``GatewayError`` naming the code, so nothing is swallowed.
"""

from __future__ import annotations


class PosError(Exception):
    """A ConcertPOS operation failed; the message is written for staff."""

    retryable = False  # True: the same call may succeed later (network, rate limit)


class InvalidRequest(PosError):
    """A request was refused locally before sending (missing POSID, bad product line)."""


class GatewayUnavailable(PosError):
    """No shard could be reached (connect failed on every shard tried)."""

    retryable = True


class ConnectionLost(PosError):
    """The connection dropped; ``sent`` tells whether the request had left the client."""

    retryable = True

    def __init__(self, message: str, *, sent: bool, command: str = ""):
        super().__init__(message)
        self.sent, self.command = sent, command


class PosReplyTimeout(ConnectionLost):
    """The request was sent but no reply came in time (outcome unknown)."""


class InvalidReply(PosError):
    """The gateway sent something that is not one of the four documented models."""

    retryable = True


class GatewayError(PosError):
    """The gateway answered with an error model."""

    error = ""  # the gateway's error name
    text = "the gateway answered with an error"

    def __init__(self, error: str = "", code=None, message: str | None = None):
        self.error = error or self.error
        self.code = code
        super().__init__(message or f"{self.text} ({self.error}, code {code})")


class InvalidJson(GatewayError):
    error = "invalid_json"
    text = "the gateway could not read the request as JSON (a client bug)"


class InvalidJson5(InvalidJson):
    error = "invalid_json5"
    text = "the gateway could not read the request as JSON5 (a client bug)"


class MissingParameter(GatewayError):
    error = "missing_parameter_api"
    text = "the gateway says a required parameter is missing (a client bug)"


class InvalidInstance(GatewayError):
    error = "invalid_instance"
    text = "this ConcertPOS instance does not exist: check pos.instance"


class NoApiKey(GatewayError):
    error = "no_api_key"
    text = "the ConcertPOS instance has no API key: create one in the ConcertPOS administration"


class ApiKeyMismatch(GatewayError):
    error = "api_key_mismatch"
    text = "the API key does not belong to this ConcertPOS instance: check pos.api_key"


class InvalidPassword(GatewayError):
    error = "invalid_password"
    text = "the point-of-sale password was refused: check pos.pos_password"


class LicenseInvalid(GatewayError):
    error = "getlicense"
    text = "the ConcertPOS instance has no valid license: check the license key in the ConcertPOS administration"


class PosRateLimited(GatewayError):
    """``ratelimit``: the command's budget is spent; ``retry_after`` in seconds."""

    error = "ratelimit"
    retryable = True

    def __init__(self, error: str = "ratelimit", code=None, message: str | None = None):
        code = code if isinstance(code, dict) else {}
        self.command = str(code.get("command") or "")
        self.retry_after: float | None
        try:
            self.retry_after = max(0.0, float(code.get("retry_after")) / 1000.0)
        except (TypeError, ValueError):
            self.retry_after = None
        wait = f"retry in {self.retry_after:.1f} s" if self.retry_after is not None else "retry later"
        super().__init__(error, code, message or f"the gateway rate-limited {self.command or 'a command'}: "
                                                 f"{wait} (ratelimit)")


ERRORS: dict[str, type[GatewayError]] = {
    cls.error: cls for cls in (InvalidJson, InvalidJson5, MissingParameter, InvalidInstance, NoApiKey,
                               ApiKeyMismatch, InvalidPassword, LicenseInvalid, PosRateLimited)
}

# errors that only a person can fix (config, administration): no point hammering the gateway
CONFIGURATION_ERRORS = (InvalidInstance, NoApiKey, ApiKeyMismatch, InvalidPassword, LicenseInvalid)


def from_reply(error: str, code) -> GatewayError:
    """The exception for an error model's ``error`` name and ``code``."""
    cls = ERRORS.get(error)
    if cls is None:
        return GatewayError(str(error) or "unknown", code,
                            f"the gateway answered with an unknown error ({error!s}, code {code!r})")
    return cls(error, code)
