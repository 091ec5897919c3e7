"""ServingContext: what a model or step can reach of the server that runs it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServingContext:
    """Handed to every model as ``self.context``; the adapters fill it in."""

    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("nuserve"))
    """Where models and the server log; under Nuclio it forwards to Nuclio's logger."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """The function's parameters (``fn.spec.parameters``), the last place ``get_param`` looks."""
    worker_id: int | str | None = None
    """The worker running this graph copy (a Nuclio worker or a ``nuserve serve`` process)."""
    function_name: str = ""
    """The serving function's name, used in tracking records and metadata."""
    is_mock: bool = False
    """True under ``to_mock_server()``."""
    project: str = ""
    """MLRun's project of the function (``new_function(project=)``)."""
    current_function: str = ""
    """Which function's steps a mock server runs: ``"*"`` all of them (MLRun's default)."""

    def get_param(self, key: str, default: Any = None) -> Any:
        return self.parameters.get(key, default)
