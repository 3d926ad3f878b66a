"""Platform checks: reachable, token accepted (sign-in), websocket handshake."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.doctor import FAIL, NOT_IN_BUILD, OK, SKIP, Result, reason
from agent.runtime.logs import add_secret

if TYPE_CHECKING:  # the client is imported when the check runs
    from agent.mews.client import MewsClient


def _network_fix(cfg) -> str:
    return (f"check the network cable/Wi-Fi, DNS and mews.platform_address ({cfg.mews.platform_address}); "
            "a firewall must allow HTTPS out")


def check_platform(cfg, client_factory=None) -> tuple[list[Result], MewsClient | None]:
    """Reachable and the token accepted: sign in (or, without sign_in, one read-only call)."""
    try:
        from agent.mews import errors
        from agent.mews.client import MewsClient
    except ImportError:
        return [Result("platform", SKIP, NOT_IN_BUILD), Result("sign-in", SKIP, NOT_IN_BUILD)], None
    mews = cfg.mews
    for secret in (mews.connector_token, mews.client_token, mews.access_token):
        add_secret(secret)
    try:
        client = (client_factory or MewsClient)(mews)
    except Exception as e:
        return [Result("platform", FAIL, f"cannot set up the client: {reason(e)}", "check the [mews] table"),
                Result("sign-in", SKIP, "platform not checked")], None
    where = mews.platform_address
    try:
        if mews.signs_in:  # the seed generation's session management; today there is no sign-in
            result = client.sign_in()
            add_secret(result.access_token)
            name = result.enterprise.name if result.enterprise else None
            how = "signed in" + (f" to {name}" if name else "")
        else:
            how = "token accepted"
        active = client.get_all_active_commands()  # read-only: claims nothing
    except errors.TokenRejected:
        if mews.current:
            return [Result("platform", OK, f"{where} answers"),
                    Result("sign-in", FAIL, errors.TokenRejected.CURRENT,
                           "mews.client_token is the integration's ClientToken (from Mews), mews.access_token "
                           "the property's AccessToken (from the hotel's Mews integration settings); "
                           "is the integration enabled for this property?")], client
        return [Result("platform", OK, f"{where} answers"),
                Result("sign-in", FAIL, errors.TokenRejected.DEFAULT,
                       "copy the connector token again from the hotel's Mews integration settings "
                       "into mews.connector_token; is the integration enabled?")], client
    except errors.Unauthorized as e:
        return [Result("platform", OK, f"{where} answers"),
                Result("sign-in", FAIL, f"token refused: {reason(e)}",
                       ("check mews.access_token and mews.client_token" if mews.current else
                        "check mews.connector_token (and mews.client_token)") + " with the hotel's Mews admin; "
                       "is the integration enabled?")], client
    except errors.Forbidden as e:
        return [Result("platform", OK, f"{where} answers"),
                Result("sign-in", FAIL, f"refused: {reason(e)}", "ask the hotel's Mews admin")], client
    except errors.RateLimited:
        return [Result("platform", OK, f"{where} answers"),
                Result("sign-in", SKIP, "rate limited right now; run doctor again in a minute")], client
    except (errors.Retryable, OSError) as e:
        status = getattr(e, "status", None)
        if status:
            return [Result("platform", FAIL, f"{where} answers HTTP {status}: {reason(e)}",
                           "the platform has a problem; try again later")], client
        fix = _network_fix(cfg)
        text = reason(e)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            fix = "TLS certificate refused: check the clock, and mews.ca_file for a private platform"
        return [Result("platform", FAIL, f"{where} not reachable: {text}", fix),
                Result("sign-in", SKIP, "platform not reachable")], client
    except errors.MewsError as e:
        return [Result("platform", FAIL, f"{where}: {reason(e)}",
                       "check mews.platform_address (the base address, without /api/...)"),
                Result("sign-in", SKIP, "platform answer not understood")], client
    note = " (the running agent signs in again by itself)" if mews.signs_in else ""
    return [Result("platform", OK, f"{where} answers"),
            Result("sign-in", OK, f"{how}; {len(active)} active command(s){note}")], client


def check_websocket(cfg, client) -> Result:
    """The websocket handshake with the auth the agent uses (query and/or cookie)."""
    if cfg.mews.mode != "websocket":
        return Result("websocket", SKIP, 'mews.mode = "poll": the agent does not use the websocket')
    if client is None:
        return Result("websocket", SKIP, "needs a working sign-in first")
    try:
        import ssl

        import websocket

        from agent.mews.listener import EventListener
    except ImportError:
        return Result("websocket", SKIP, NOT_IN_BUILD)
    listener = EventListener(cfg.mews, client, on_events=lambda events: None)
    sslopt: dict[str, object] = {"cert_reqs": ssl.CERT_REQUIRED}
    if not cfg.mews.tls_verify:
        sslopt = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
    elif cfg.mews.ca_file:
        sslopt["ca_certs"] = cfg.mews.ca_file
    base = cfg.mews.ws_base + "/ws/connector"
    try:
        ws = websocket.create_connection(listener.url(), header=listener.headers(), timeout=cfg.mews.timeout,
                                         sslopt=sslopt)
        ws.close()
    except websocket.WebSocketBadStatusException as e:
        code = getattr(e, "status_code", "?")
        fix = ("the platform refused the token on the websocket: try mews.websocket_auth = \"both\""
               if code in (401, 403) else "check mews.websocket_address (a base address, e.g. wss://ws.mews-demo.com)")
        return Result("websocket", FAIL, f"{base}: handshake refused (HTTP {code})", fix)
    except Exception as e:  # network errors, TLS, timeouts
        return Result("websocket", FAIL, f"{base}: {reason(e)}",
                      "check mews.websocket_address and that the network allows websockets (HTTPS, port 443)")
    return Result("websocket", OK, f"{base} handshake accepted ({cfg.mews.websocket_auth} auth)")
