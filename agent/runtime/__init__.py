"""Supervisor loop, dispatcher, durable outbox and execution journal."""
