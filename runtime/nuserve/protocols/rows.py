"""MLRun rows: ``{"inputs": [[...], ...]}`` answered as ``{"id", "model_name", "outputs", ...}``.

The request and the response pass through unchanged: this is the format the model's hooks
already speak, so the hot path does no work for it.
"""

from __future__ import annotations

from nuserve.protocols.base import Protocol


class RowsProtocol(Protocol):
    name = "rows"


ROWS = RowsProtocol()
