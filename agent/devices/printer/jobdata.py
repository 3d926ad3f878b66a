"""A print job's data: the shape of a Mews Printer command's ``Data``, for jobs the unit makes itself."""

from __future__ import annotations

import base64


def print_data(file_type: str, content: bytes, copies: int = 1) -> dict:
    """``FileType``/``FileData`` (base64)/``CopyCount`` for a PRINT_DOCUMENT job (kiosk slips, POS receipts, doctor)."""
    return {"FileType": file_type, "FileData": base64.b64encode(content).decode("ascii"), "CopyCount": copies}
