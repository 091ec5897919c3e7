"""Body protocols: detect the format of a request and answer in the same one.

Each protocol turns a decoded JSON body into the ``request`` dict the model's hooks see and
turns the model's ``response`` dict back into the body the client expects.
"""

from __future__ import annotations

from nuserve.protocols.base import (
    JSON_CONTENT_TYPE,
    Protocol,
    decode_body,
    decode_json,
    event_body,
    is_oip_request,
    is_raw,
)
from nuserve.protocols.binary_header import is_binary
from nuserve.protocols.kserve_v1 import KSERVE_V1, KSERVE_V1_EXPLAIN
from nuserve.protocols.oip_protocol import OIP
from nuserve.protocols.rows import ROWS

__all__ = [
    "JSON_CONTENT_TYPE",
    "KSERVE_V1",
    "KSERVE_V1_EXPLAIN",
    "OIP",
    "ROWS",
    "Protocol",
    "decode_body",
    "decode_json",
    "detect",
    "event_body",
    "is_binary",
    "is_raw",
]


def detect(body: dict[str, object]) -> Protocol:
    """The protocol of a v2 request body: OIP tensors, else MLRun rows."""
    return OIP if is_oip_request(body) else ROWS
