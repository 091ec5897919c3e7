"""MLRun's ``nuclio_init_hook``: the serving spec from ``SERVING_SPEC_ENV`` served through
nuserve's Nuclio adapter, with the classes found in the code's globals."""

from __future__ import annotations

import json
import os
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError
from nuserve.event import Event
from nuserve.nuclio.spec_env import MLRUN_SPEC_ENV
from nuserve.server.graph_server import GraphServer
from nuserve.spec.serving import ServingSpec


def init_from_env(context: Any, data: dict[str, Any]) -> GraphServer:
    """Build the graph of ``SERVING_SPEC_ENV``; ``context.mlrun_handler(context, event)``
    then answers events (a Nuclio-like response with ``body``, ``status_code``)."""
    text = os.environ.get(MLRUN_SPEC_ENV)
    if not text:
        raise ConfigError(f"{MLRUN_SPEC_ENV} is not set")
    spec = ServingSpec.from_dict(json.loads(text))
    serving = ServingContext(is_mock=bool(getattr(context, "is_mock", False)))
    server = GraphServer(spec, serving, [("the code's globals", data)]).start()

    def mlrun_handler(_: Any, event: Any) -> Any:
        headers = dict(getattr(event, "headers", {}) or {})
        ours = Event(getattr(event, "body", None), getattr(event, "path", "/") or "/",
                     getattr(event, "method", "POST") or "POST", headers,
                     getattr(event, "content_type", None), getattr(event, "id", None))  # fmt: skip
        response = server.run(ours)
        return _NuclioResponse(response.body, response.status_code, response.content_type)

    context.mlrun_handler = mlrun_handler
    context.server = server
    return server


class _NuclioResponse:
    def __init__(self, body: Any, status_code: int, content_type: str) -> None:
        from nuserve.codec import dump_json  # noqa: PLC0415

        self.body = body if isinstance(body, bytes | str) else dump_json(body)
        self.status_code, self.content_type = status_code, content_type
