"""Shared pieces for the ConcertPOS tests: a gateway simulator on loopback and matching configs."""

from __future__ import annotations

from agent.config import PosConfig
from agent.pos.budget import Budget, budget_file
from agent.pos.client import PosClient

API_KEY = "pos-test-key-0123456789"
INSTANCE = "my-venue"


def start_sim(window: float = 30.0, shards: int = 3, **kw):
    from sim.pos import PosGatewaySimulator

    return PosGatewaySimulator(ports=[0] * shards, instance=INSTANCE, api_key=API_KEY, window=window, **kw).start()


def pos_cfg(sim, **kw) -> PosConfig:
    values = dict(instance=INSTANCE, api_key=API_KEY, shards=sim.shards, url_template=sim.url_template,
                  pos_id=1, timeout=2.0)
    values.update(kw)
    return PosConfig(**values)


def make_client(sim, state_dir=None, *, window: float = 30.0, seed: int | None = 0, **kw) -> PosClient:
    """A client on ``sim``; budgets in ``state_dir`` (or memory) with the given window."""
    import random

    client_kw = {k: kw.pop(k) for k in list(kw) if k in ("timeout", "connect_timeout", "backoff", "on_broadcast",
                                                           "on_connect", "stop")}
    cfg = pos_cfg(sim, **kw)
    path = budget_file(state_dir, cfg.instance, cfg.api_key) if state_dir else None
    return PosClient(cfg, budget=Budget(path, window=window), rng=random.Random(seed), **client_kw)


def config_text(sim, state_dir, *, printer: str = "", extra_pos: str = "", timezone: str = "Europe/Prague",
                timeout: float = 3.0) -> str:
    shards = ", ".join(f'"{s}"' for s in sim.shards)
    text = f"""
[mews]
platform_address = "http://127.0.0.1:9"
generation = "seed"
connector_token = "unused-token"

[agent]
state_dir = "{state_dir}"
timezone = "{timezone}"
log_level = "info"

[pos]
instance = "{INSTANCE}"
api_key = "{API_KEY}"
shards = [{shards}]
url_template = "{sim.url_template}"
pos_id = 1
timeout = {timeout}
{extra_pos}
"""
    if printer:
        text += "\n[printer]\n" + printer + "\n"
    return text
