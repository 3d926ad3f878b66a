"""The document reader (hal/reader): passports, ID cards and booking QR codes; Mews PassportScanner commands."""

from agent.devices.kind import DeviceKind
from agent.devices.reader.config import ReaderConfig
from agent.runtime.jobs import JobKind

KIND = DeviceKind(
    table="reader",
    config=ReaderConfig,
    label="reader",
    device_types=("PassportScanner",),
    mews_job=JobKind.READ_DOCUMENT,
    job_kinds=frozenset({JobKind.READ_DOCUMENT}),
    handler="agent.devices.reader.handler:from_config",
    config_check="agent.devices.reader.config:check",
    doctor="agent.devices.reader.doctor",
    simulators="agent.devices.reader.simulator",
)
