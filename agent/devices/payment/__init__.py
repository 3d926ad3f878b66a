"""The card payment terminal (hal/payment: the simulated one, Adyen): kiosk charges and Mews PaymentTerminal commands."""

from agent.devices.kind import DeviceKind
from agent.devices.payment.config import PaymentConfig
from agent.runtime.jobs import JobKind

KIND = DeviceKind(
    table="payment",
    config=PaymentConfig,
    label="payment terminal",
    device_types=("PaymentTerminal",),
    mews_job=JobKind.DEVICE_COMMAND,
    job_kinds=frozenset({JobKind.DEVICE_COMMAND}),
    handler="agent.devices.payment.handler:from_config",
    config_check="agent.devices.payment.config:check",
    doctor="agent.devices.payment.doctor",
    simulators="agent.devices.payment.simulator",
)
