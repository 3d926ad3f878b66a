"""Shared pieces for the Mews simulator tests: JSON calls to its Connector API and its admin routes."""

from __future__ import annotations

import http.client
import json

from sim.mews import DEMO_CONNECTOR_TOKEN


def call(sim, path, body=None, method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request(method, path, body=None if body is None else json.dumps(body).encode(),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp.status, json.loads(payload) if payload else None


def api(sim, op, **fields):
    return call(sim, "/api/connector/v1/" + op, {"AccessToken": DEMO_CONNECTOR_TOKEN, **fields})
