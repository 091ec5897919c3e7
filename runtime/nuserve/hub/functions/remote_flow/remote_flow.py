"""hub://remote-flow: a flow whose model is served elsewhere, over HTTP.

``prepare`` (``Scale``: every feature times its ``scale`` class arg) → a router whose model
``remote`` forwards to ``remote_url`` (a function parameter: ``http(s)://host:port/v2/models/<model>``,
through nuserve's pooled HTTP client: retries, 502 naming the URL when it is unreachable) →
``outputs`` (the answer's outputs). Set the URL before serving::

    fn = nuserve.import_function("hub://remote-flow")
    fn.spec.parameters["remote_url"] = "http://127.0.0.1:8080/v2/models/iris"
"""

from __future__ import annotations

from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError
from nuserve.graph.steps import Step
from nuserve.routers.remote import RemoteModel


class RemoteEndpoint(RemoteModel):
    """nuserve's ``RemoteModel``, its ``model_url`` read from the ``remote_url`` parameter."""

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        model_url: str | None = None,
        **class_args: Any,
    ) -> None:
        url = model_url or (context.get_param("remote_url") if context is not None else None)
        if not url:
            raise ConfigError(
                "hub://remote-flow needs the remote model's URL: set "
                "fn.spec.parameters['remote_url'] = 'http://host:port/v2/models/<model>'"
            )
        super().__init__(context, name, url, **class_args)


class Scale(Step):
    """Multiply every feature by ``scale`` (a class arg, default 1) before the remote model."""

    def __init__(
        self, context: ServingContext | None = None, name: str | None = None, scale: float = 1.0
    ) -> None:
        super().__init__(context, name)
        self.scale = float(scale)

    def do(self, body: Any) -> Any:
        rows = body["inputs"]
        return {**body, "inputs": [[x * self.scale for x in row] for row in rows]}


def outputs(answer: dict[str, Any]) -> Any:
    """The remote model's outputs, without the envelope."""
    return answer["outputs"]
