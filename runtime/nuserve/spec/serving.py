"""The serving spec: one serialisable description of what a function serves.

``ServingFunction`` builds it, ``to_mock_server()`` runs it in-process, ``to_yaml()`` writes it
into a Nuclio function.yaml and ``init_context`` reads it back, so all three serve the same
graph. Class names may be class objects while building in-process; ``to_dict`` writes them as
importable dotted paths where it can, else as bare names resolved at load time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nuserve.errors import ConfigError
from nuserve.spec.flow import FlowSpec
from nuserve.spec.routers import RouterSpec


@dataclass
class ServingSpec:
    """Everything the runtime needs to build and run the graph."""

    name: str = "nuserve"
    """The function's name."""
    graph: RouterSpec | FlowSpec | None = None
    """The graph root (a router or a flow), set by ``set_topology``."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """Function parameters, read by ``get_param``."""
    load_mode: str = "sync"
    """``sync`` loads models before serving; ``async`` loads them in the background."""
    filename: str | None = None
    """The Python file holding the function's classes (``code_to_function``)."""
    tracking: dict[str, Any] | None = None
    """Tracking settings (``set_tracking``)."""
    max_body_size: int = 4 * 1024 * 1024
    """Largest raw request body accepted (413 beyond); Nuclio's HTTP default is 4 MiB."""
    output_stream: str | None = None
    """Where the answers (status < 400) to stream-trigger events are published
    (``kafka://host:port?topic=t``, ``v3io:///container/path``, ``memory://name``)."""
    error_stream: str | None = None
    """The dead-letter stream: stream-trigger events answered with status >= 400 go here."""
    ack_triggers: list[str] = field(default_factory=list)
    """Stream triggers with explicit ack on (``to_yaml`` fills it from the triggers): the
    handler acks their events itself, once the answer is written to the output stream."""
    default_content_type: str | None = None
    """The content type assumed for events that carry none (MLRun's)."""
    request_timeout: float | None = None
    """Seconds an event may take before it is answered 504 (HTTP and stream events alike: a
    stream event's 504 goes to the error stream); ``None`` times nothing. Sync hooks then run
    in a thread per model (``nuserve.server.lanes``), and the function.yaml's Nuclio
    ``eventTimeout`` follows it."""
    streaming: bool = False
    """A model whose ``predict`` is a generator streams its chunks (``fn.set_streaming``);
    off, the chunks are joined into one answer. Generative models (``LLModel``) stream when
    the request asks (``"stream": true``) either way."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": 1, "name": self.name, "load_mode": self.load_mode}
        if self.graph is not None:
            data["graph"] = self.graph.to_dict()
        if self.parameters:
            data["parameters"] = self.parameters
        if self.filename:
            data["filename"] = self.filename
        if self.tracking:
            data["tracking"] = self.tracking
        data["max_body_size"] = self.max_body_size
        names = (
            "output_stream",
            "error_stream",
            "ack_triggers",
            "request_timeout",
            "streaming",
            "default_content_type",
        )
        for name in names:
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServingSpec:
        if not isinstance(data, dict):
            raise ConfigError(f"serving spec must be a JSON object (got {type(data).__name__})")
        from nuserve.spec.mlrun_spec import convert, is_mlrun_spec  # noqa: PLC0415

        if is_mlrun_spec(data):
            data = convert(data)  # MLRun's SERVING_SPEC_ENV shape
        load_mode = data.get("load_mode", "sync")
        if load_mode not in ("sync", "async"):
            raise ConfigError(f"load_mode must be 'sync' or 'async' (got {load_mode!r})")
        graph = data.get("graph")
        return cls(
            name=data.get("name", "nuserve"),
            graph=graph_from_dict(graph) if graph else None,
            parameters=dict(data.get("parameters") or {}),
            load_mode=load_mode,
            filename=data.get("filename"),
            tracking=data.get("tracking"),
            max_body_size=int(data.get("max_body_size", 4 * 1024 * 1024)),
            output_stream=data.get("output_stream"),
            error_stream=data.get("error_stream"),
            ack_triggers=list(data.get("ack_triggers") or []),
            request_timeout=check_timeout(data.get("request_timeout")),
            streaming=bool(data.get("streaming", False)),
            default_content_type=data.get("default_content_type"),
        )


def check_timeout(value: Any, what: str = "request_timeout") -> float | None:
    """A positive number of seconds (or ``None``), as a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(
            f"{what} must be a positive number of seconds, or None for no timeout (got {value!r})"
        )
    return float(value)


def graph_from_dict(data: dict[str, Any]) -> RouterSpec | FlowSpec:
    """The graph root its dict's ``kind`` names: ``router`` (the default) or ``flow``."""
    if isinstance(data, dict) and data.get("kind") == "flow":
        return FlowSpec.from_dict(data)
    return RouterSpec.from_dict(data)
