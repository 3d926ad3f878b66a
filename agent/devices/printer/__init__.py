"""The receipt printer: ESC/POS over serial, USB or TCP (hal/printer); Mews Printer commands, kiosk slips, POS receipts."""

from agent.devices.kind import DeviceKind
from agent.devices.printer.config import PrinterConfig
from agent.runtime.jobs import JobKind

KIND = DeviceKind(
    table="printer",
    config=PrinterConfig,
    label="printer",
    device_types=("Printer",),
    mews_job=JobKind.PRINT_DOCUMENT,
    job_kinds=frozenset({JobKind.PRINT_DOCUMENT, JobKind.REPRINT_LAST}),
    handler="agent.devices.printer.handler:from_config",
    doctor="agent.devices.printer.doctor",
    simulators="agent.devices.printer.simulator",
    companion="agent.devices.printer.paper_watch:for_agent",
    working_screen="printing",
)
