"""Simulated Mews platform: Connector API, websocket and admin routes on one port."""

from sim.mews.server import DEMO_CONNECTOR_TOKEN, MewsSimulator

__all__ = ["DEMO_CONNECTOR_TOKEN", "MewsSimulator"]
