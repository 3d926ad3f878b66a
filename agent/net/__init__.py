"""Networking the agent does itself: the MicroPython-compatible HTTP shim (urequests)."""
