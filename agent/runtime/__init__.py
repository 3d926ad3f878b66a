"""Composition root, drain loop, job dispatch, durable outbox and execution journal."""
