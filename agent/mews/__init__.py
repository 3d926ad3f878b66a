"""Mews Connector API: REST client, websocket listener, typed events and commands."""
