"""One table: a platform fault -> the health connection state, the text shown, and how long to pause."""

from __future__ import annotations

from dataclasses import dataclass

from agent.mews import errors as mews_errors
from agent.runtime import health as hs

DISPLACED_PAUSE = 120.0  # seconds before signing in again after another client took over
TOKEN_PAUSE = 60.0  # a rejected token is retried once a minute: a fix on the platform side is picked up
TOKEN_TEXT = mews_errors.TokenRejected.DEFAULT


@dataclass(frozen=True)
class Fault:
    connection: str | None  # health connection state; None = unchanged
    message: str  # what the display and `status` show ("" = nothing special)
    pause: float | None  # seconds before the next drain; None = the drain's own backoff
    log_text: str


def classify(e: BaseException) -> Fault:
    if isinstance(e, mews_errors.TokenRejected):
        # which keys to check: today's tokens or the seed's connector token, as the client said
        text = next((t for t in (mews_errors.TokenRejected.CURRENT, TOKEN_TEXT) if e.message.startswith(t)), TOKEN_TEXT)
        return Fault(hs.TOKEN_REJECTED, text, TOKEN_PAUSE, text)
    if isinstance(e, mews_errors.Displaced):
        return Fault(hs.DISPLACED, str(e), DISPLACED_PAUSE, f"displaced: {e}")
    if isinstance(e, mews_errors.RateLimited):
        return Fault(None, "", e.retry_after or None, f"rate limited: {e}")
    text = e.describe() if isinstance(e, mews_errors.MewsError) else f"{type(e).__name__}: {e}"
    return Fault(hs.OFFLINE, "", None, text)


# Why the platform cannot be reached, as the update's health gate judges a new version
# (agent/fleet/health_gate.py): "network" and "platform" (its own 5xx/429) would stop any
# version alike; "auth", "protocol" and "tls" may be the new version's own doing.
NETWORK, PLATFORM, DISPLACED_CAUSE, AUTH, PROTOCOL, TLS = "network", "platform", "displaced", "auth", "protocol", "tls"
_TLS_WORDS = ("SSL", "CERTIFICATE", "TLS")


def offline_cause(e: BaseException) -> str:
    """One word for why a request to the platform failed (see the names above)."""
    text = str(e).upper()
    if isinstance(e, mews_errors.Displaced):
        return DISPLACED_CAUSE
    if isinstance(e, mews_errors.Unauthorized):
        return AUTH
    if isinstance(e, mews_errors.RateLimited) or (isinstance(e, mews_errors.Retryable) and e.status is not None):
        return PLATFORM
    if isinstance(e, mews_errors.Retryable) or isinstance(e, OSError):  # the client wraps OSError as Retryable
        return TLS if any(w in text or w in type(e).__name__.upper() for w in _TLS_WORDS) else NETWORK
    return PROTOCOL
