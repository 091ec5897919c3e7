"""The header of the OIP binary tensor extension (no numpy: read for every request).

``Inference-Header-Content-Length`` is the length of the JSON that opens a body whose
tensors follow as bytes (``protocols.oip_binary`` decodes them).
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import BadRequest

BINARY_HEADER = "Inference-Header-Content-Length"
"""As Nuclio's HTTP trigger spells it (Go's canonical form); lower case is read too."""
BINARY_HEADER_LOWER = BINARY_HEADER.lower()


def is_binary(headers: dict[str, Any] | None) -> bool:
    """Whether a request carries the binary extension's header."""
    return bool(headers) and (BINARY_HEADER in headers or BINARY_HEADER_LOWER in headers)  # type: ignore[operator]


def header_length(headers: dict[str, Any] | None) -> int | None:
    """The ``Inference-Header-Content-Length`` of a request, or ``None`` when it has none."""
    if not headers:
        return None
    value = headers.get(BINARY_HEADER)
    if value is None:
        value = headers.get(BINARY_HEADER_LOWER)
        if value is None:
            return None
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text.isdigit():
        raise BadRequest(
            f"{BINARY_HEADER} must be the JSON header's length in bytes, a non-negative "
            f"integer (got {text[:40]!r})"
        )
    return int(text)


class AsTensors(dict[str, Any]):
    """The ``parameters`` of a request whose answer is wanted as tensors, not as bytes (the
    gRPC service's, which sends each output's buffer as it is in ``raw_output_contents``).

    To the model's hooks it is the plain dict it holds. The OIP protocol answers such a request
    with a ``Tensors`` body: no JSON header written, no body joined, nothing for the service to
    parse back. A hook that replaces the request's parameters with another dict gets the
    binary body instead (which the service reads too).
    """

    __slots__ = ()


class Tensors:
    """An OIP answer as tensors (a ``Response`` body for an ``AsTensors`` request): the
    answer's ids and, per output, its header (``name``, ``datatype``, ``shape``) and raw
    little-endian bytes (a buffer)."""

    __slots__ = ("id", "model_name", "model_version", "outputs")

    def __init__(
        self,
        id: object,
        model_name: object,
        model_version: object,
        outputs: list[tuple[dict[str, Any], Any]],
    ) -> None:
        self.id = id
        self.model_name = model_name
        self.model_version = model_version
        self.outputs = outputs

    def __repr__(self) -> str:
        names = [header.get("name") for header, _ in self.outputs]
        return f"Tensors(model_name={self.model_name!r}, outputs={names!r})"
