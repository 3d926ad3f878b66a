"""The AccessToken in use: the connector token itself, or the one ``app/signIn`` returned."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from agent.mews.models import Enterprise, SignInResult
from agent.runtime.logs import add_secret

log = logging.getLogger("agent.mews")


class SignInSession:
    """Holds the current AccessToken; signs in lazily and at most once per stale token.

    Several threads share one client: when two of them hit a 401 with the same
    token, only the first signs in again; the second takes the fresh token. Two
    sign-ins in a row would displace ourselves.
    """

    def __init__(self, connector_token: str, sign_in: bool, do_sign_in: Callable[[], tuple[SignInResult, dict]]):
        self.renewable = sign_in
        self._connector_token = connector_token
        self._do_sign_in = do_sign_in
        self._lock = threading.RLock()
        self._token: str | None = None if sign_in else connector_token
        self.enterprise: Enterprise | None = None
        self.sign_ins = 0  # successful sign-ins, for health and tests

    def token(self, via: Callable[[], tuple[SignInResult, dict]] | None = None) -> str:
        """The AccessToken to send; signs in first (over ``via``, a client's own connection) when there is none."""
        with self._lock:
            if self._token is None:
                return self.sign_in(via)[0].access_token
            return self._token

    def sign_in(self, via: Callable[[], tuple[SignInResult, dict]] | None = None) -> tuple[SignInResult, dict]:
        """Sign in now (parsed and raw answer); the new AccessToken replaces ours and invalidates older ones."""
        with self._lock:
            result, raw = (via or self._do_sign_in)()
            add_secret(result.access_token)
            self._token = result.access_token
            self.enterprise = result.enterprise
            self.sign_ins += 1
            name = result.enterprise.name if result.enterprise else None
            log.info("signed in to Mews%s", f" (enterprise {name})" if name else "")
            return result, raw

    def refresh(self, stale: str, via: Callable[[], tuple[SignInResult, dict]] | None = None) -> str:
        """A fresh token after ``stale`` was refused: sign in again unless another thread just did."""
        with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            return self.sign_in(via)[0].access_token
