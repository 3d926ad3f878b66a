"""The fleet side of a unit (issue 29): Prometheus metrics, journal upload, RAUC A/B updates.

Each part drives an engine embedded Linux fleets already use (node_exporter's
textfile collector, systemd-journal-upload, RAUC); this package only feeds them
from the agent's config, health snapshot and state.
"""
