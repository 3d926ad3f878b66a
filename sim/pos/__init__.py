"""Simulated ConcertPOS gateway: shards on several ports sharing one instance state."""

from sim.pos.gateway import COSTS, DEFAULT_SEED, Gateway
from sim.pos.server import PosGatewaySimulator

__all__ = ["COSTS", "DEFAULT_SEED", "Gateway", "PosGatewaySimulator"]
