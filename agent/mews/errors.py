"""Errors of the Mews Connector API, one class per meaning of a status code.

``str(error)`` is the message alone (for a ``Forbidden`` it is meant for the end
user); ``describe()`` adds the class and the platform's Request-Id for logs and
the command line. Messages never carry tokens: they pass through
``agent.runtime.logs.redact`` on the way in.
"""

from __future__ import annotations

import email.utils
import logging
import time

from agent.runtime.logs import redact

log = logging.getLogger("agent.mews")

# The longest Retry-After we honour; a larger one is logged and capped (a platform
# bug or a hostile proxy must not park a finished key's report for an hour).
MAX_RETRY_AFTER = 120.0


class MewsError(Exception):
    """Base of every error raised by the Mews client."""

    retryable = False  # whether the same request may succeed later unchanged
    operation: str | None = None  # set by the client: the operation that failed

    def __init__(self, message: str, status: int | None = None, request_id: str | None = None):
        message = redact(str(message))
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id

    def describe(self) -> str:
        """``ClassName: message (Request-Id ...)`` for logs and the command line."""
        text = f"{type(self).__name__}: {self.message}"
        if self.request_id:
            text += f" (Request-Id {self.request_id})"
        return text


class BadRequest(MewsError):
    """400: malformed request or unknown id: a client bug, do not retry."""


class PayloadTooLarge(BadRequest):
    """413: the request body is too large; the same body will never pass."""


class Unauthorized(MewsError):
    """401: invalid or expired token, or the integration is disabled."""


class Displaced(Unauthorized):
    """A 401 right after signing in again: another client signed in last."""

    DEFAULT = ("another client signed in with this connector token; "
               "only the last one signed in is served")


class TokenRejected(Unauthorized):
    """A 401 that signing in again does not cure: the platform refuses the connector token.

    Decided from the status code: the sign-in itself answered 401, or the token
    cannot be renewed (``mews.sign_in`` off). A person must fix
    ``mews.connector_token``; unlike ``Displaced`` no other client is involved.
    """

    DEFAULT = "Mews refused the connector token: check mews.connector_token"
    CURRENT = "Mews refused the tokens: check mews.access_token and mews.client_token"


class Forbidden(MewsError):
    """403: a business rule failed; the message is meant for the end user."""


class NotFound(MewsError):
    """404: wrong address or operation."""


class Conflict(MewsError):
    """409: data changed meanwhile; refresh and resubmit."""


class Retryable(MewsError):
    """408, 5xx or a network error: retry with backoff."""

    retryable = True


class RateLimited(Retryable):
    """429: too many requests; retry after ``retry_after`` seconds.

    ``retry_after`` is at most ``MAX_RETRY_AFTER`` (120 s); None when the header was
    absent, 0, negative or unreadable: the caller then backs off as if none was given.
    """

    def __init__(self, message: str = "rate limited", status: int | None = 429,
                 request_id: str | None = None, retry_after: float | None = None):
        super().__init__(message, status, request_id)
        self.retry_after = retry_after


class BudgetSpent(RateLimited):
    """Our own limiter, not the platform: this request's share of the 200 / 30 s budget is spent.

    Raised at once (nothing was sent) when the wait for a slot would outlast the request
    timeout; ``retry_after`` says when a slot frees. Only the kiosk's lane raises it.
    """

    def __init__(self, message: str = "request budget spent", retry_after: float | None = None):
        super().__init__(message, None, None, retry_after=retry_after)


class InvalidResponse(MewsError):
    """A response that is not JSON or does not have the promised shape."""


class CardNumberNotObfuscated(MewsError, ValueError):
    """A card number that shows more than the first six and last four digits."""


_BY_STATUS: dict[int, type[MewsError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    408: Retryable,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at
    ``MAX_RETRY_AFTER``; None if absent, unreadable, zero or negative (back off instead)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    if seconds <= 0:
        return None
    if seconds > MAX_RETRY_AFTER:
        log.warning("Retry-After of %s s is beyond %g s: waiting %g s", value[:40], MAX_RETRY_AFTER, MAX_RETRY_AFTER)
        return MAX_RETRY_AFTER
    return seconds


def from_status(status: int, message: str | None, request_id: str | None,
                retry_after: str | None = None) -> MewsError:
    """The error for a non-2xx answer: class by status, message from the body."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = Retryable if status >= 500 else BadRequest if 400 <= status < 500 else InvalidResponse
    text = message or f"HTTP {status}"
    if cls is RateLimited:
        return RateLimited(text, status, request_id, retry_after=parse_retry_after(retry_after))
    return cls(text, status, request_id)
