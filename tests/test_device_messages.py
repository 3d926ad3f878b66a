"""Device faults read as plain language for hotel staff: no errno, no Python exception text."""

import re
import socket

import pytest

from hal.encoder import KeyEncoder
from hal.errors import DeviceDisconnected
from hal.printer import escpos

PYTHON_TEXT = re.compile(r"\[Errno|Errno \d|Error\(|could not open port|Could not open port|Exception")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_missing_printer_names_port_and_config_key(tmp_path):
    path = str(tmp_path / "ttyUSB9")
    with pytest.raises(DeviceDisconnected) as e:
        escpos.EscPosPrinter(path).status()
    assert str(e.value) == f"printer not connected at {path}: check the cable and printer.port"


def test_missing_encoder_names_port_and_config_key(tmp_path):
    path = str(tmp_path / "ttyUSB9")
    with KeyEncoder(path) as enc, pytest.raises(DeviceDisconnected) as e:
        enc.check_out("101")
    assert str(e.value) == f"encoder not connected at {path}: check the cable and encoder.port"


@pytest.mark.parametrize("device", ["printer", "encoder"])
def test_refused_network_device_is_plain_language(device):
    url = f"socket://127.0.0.1:{_closed_port()}"
    with pytest.raises(DeviceDisconnected) as e:
        if device == "printer":
            escpos.EscPosPrinter(url).status()
        else:
            KeyEncoder(url).check_out("101")
    text = str(e.value)
    assert not PYTHON_TEXT.search(text), text
    assert text.startswith(f"{device} at {url} does not accept connections") and f"{device}.port" in text


def test_unreadable_port_names_the_dialout_group(tmp_path):
    path = tmp_path / "ttyS7"
    path.write_bytes(b"")
    path.chmod(0)
    import os
    if os.geteuid() == 0:
        pytest.skip("root opens any file: a permission fault cannot be made here")
    with pytest.raises(DeviceDisconnected) as e:
        escpos.EscPosPrinter(str(path)).status()
    assert "dialout" in str(e.value) and not PYTHON_TEXT.search(str(e.value))
