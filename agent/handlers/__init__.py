"""Handlers turn a Mews command into HAL calls."""
