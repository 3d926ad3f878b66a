"""The key-card encoder (PMS Industry Standard over serial, hal/encoder): Mews KeyCutter commands and the kiosk's keys."""

from agent.devices.encoder.config import EncoderConfig
from agent.devices.kind import DeviceKind
from agent.runtime.jobs import JobKind

KIND = DeviceKind(
    table="encoder",
    config=EncoderConfig,
    label="encoder",
    device_types=("VisiOnlineKeyCutter", "KeyCutter"),
    mews_job=JobKind.CUT_KEYS,
    job_kinds=frozenset({JobKind.CUT_KEYS, JobKind.READ_CARD, JobKind.CHECKOUT_CARD}),
    card_jobs=frozenset({JobKind.CUT_KEYS, JobKind.CHECKOUT_CARD}),
    handler="agent.devices.encoder.handler:from_config",
    doctor="agent.devices.encoder.doctor",
    simulators="agent.devices.encoder.simulator",
    waiting_screen="present_card",
    working_screen="encoding",
)
