"""Simulated world for the demo and the tests: Mews platform, ConcertPOS gateway, printer, encoder."""
