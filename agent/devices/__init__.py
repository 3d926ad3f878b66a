"""Device kinds: one package per kind (printer, encoder, payment, reader), each declaring itself.

See docs/ARCHITECTURE.md "Add a device kind". Importing a kind's package is light: its
declaration and config table only; handlers, doctor checks and drivers load when used.
"""

from agent.devices.kind import (
    DeviceKind,
    Simulator,
    card_device_types,
    card_jobs,
    job_of_device_type,
    kind_of_device_type,
    kind_of_label,
    kinds,
    simulators,
)

__all__ = ["DeviceKind", "Simulator", "card_device_types", "card_jobs", "job_of_device_type", "kind_of_device_type",
           "kind_of_label", "kinds", "simulators"]
