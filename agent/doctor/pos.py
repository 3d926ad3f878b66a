"""POS check: the ConcertPOS gateway answers, the api key is accepted and the license is active."""

from __future__ import annotations

from agent.doctor import FAIL, NOT_IN_BUILD, OK, SKIP, Result, reason


def check_pos(cfg) -> Result:
    """Read-only: version, status and license (counted in the shared rate budget when the state folder exists)."""
    try:
        from agent.pos.client import PosClient
        from agent.pos.errors import ApiKeyMismatch, GatewayUnavailable, NoApiKey, PosError
    except ImportError:
        return Result("pos", SKIP, NOT_IN_BUILD)
    pos = cfg.pos
    state_dir = cfg.state_dir if cfg.state_dir.is_dir() else None
    try:
        with PosClient(pos, state_dir=state_dir) as client:
            version = client.version()
            license = client.get_license()
            shard = client.shard
    except (ApiKeyMismatch, NoApiKey) as e:
        return Result("pos", FAIL, f"the gateway refused the api key: {reason(e)}", "check pos.api_key")
    except GatewayUnavailable as e:
        return Result("pos", FAIL, f"gateway unreachable: {reason(e)}",
                      f"check the network and pos.shards / pos.url_template (instance {pos.instance})")
    except PosError as e:
        return Result("pos", FAIL, reason(e), "check the [pos] table")
    if not license.active:
        return Result("pos", FAIL, f"instance {pos.instance} via shard {shard}: license INACTIVE",
                      "renew the ConcertPOS license")
    return Result("pos", OK, f"instance {pos.instance} via shard {shard}, server {version}, license active")
