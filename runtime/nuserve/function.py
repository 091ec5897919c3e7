"""ServingFunction: the builder users call (``new_function``, ``set_topology``, ``add_model``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nuserve.errors import ConfigError
from nuserve.spec import ClassRef, RouterSpec, RouteSpec, ServingSpec

if TYPE_CHECKING:
    from nuserve.mock import MockServer


@dataclass
class FunctionSpec(ServingSpec):
    """The serving spec plus what only deployment needs (written into function.yaml)."""

    image: str | None = None
    """A base image for the Nuclio build (``spec.build.baseImage``)."""
    env: dict[str, Any] = field(default_factory=dict)
    """Environment variables: a value, or ``{"secretKeyRef": {"name", "key"}}``."""
    build_commands: list[str] = field(default_factory=list)
    """Extra build commands run after nuserve is installed."""
    min_replicas: int = 1
    max_replicas: int = 4
    readiness_timeout: int = 120
    """Seconds Nuclio waits for ``init_context`` (model loading) before giving up."""
    event_timeout: str | None = None
    """Nuclio's per-event timeout, a duration such as ``"30s"``."""
    http_workers: int = 1
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: list[dict[str, Any]] = field(default_factory=list)

    def serving_spec(self) -> ServingSpec:
        """The serving part alone; class objects are kept (``to_dict`` names them)."""
        graph = self.graph
        if graph is not None:
            graph = RouterSpec(graph.class_name, dict(graph.class_args), dict(graph.routes))
        return ServingSpec(
            self.name,
            graph,
            dict(self.parameters),
            self.load_mode,
            self.filename,
            self.tracking,
            self.max_body_size,
        )


class ServingFunction:
    """A serving function: a graph of models plus how to deploy it."""

    def __init__(
        self,
        name: str,
        kind: str = "serving",
        image: str | None = None,
        filename: str | None = None,
    ) -> None:
        if kind != "serving":
            raise ConfigError(f"kind {kind!r} is not supported; nuserve builds kind='serving'")
        self.kind = kind
        self.spec = FunctionSpec(name=name, image=image, filename=filename)
        self.metadata_name = name

    @property
    def name(self) -> str:
        return self.spec.name

    def set_topology(
        self, topology: str = "router", class_name: ClassRef = None, **class_args: Any
    ) -> RouterSpec:
        """Set the graph root; only ``router`` here. Returns the router spec."""
        if topology != "router":
            raise ConfigError(f"topology {topology!r} is not supported (expected 'router')")
        self.spec.graph = RouterSpec(class_name=class_name, class_args=class_args)
        return self.spec.graph

    def add_model(
        self,
        key: str,
        model_path: str | None = None,
        class_name: ClassRef = None,
        model_url: str | None = None,
        **class_args: Any,
    ) -> RouteSpec:
        """Add a model (``"name"`` or ``"name:version"``) to the router."""
        if self.spec.graph is None:
            self.set_topology("router")
        assert self.spec.graph is not None
        if class_name is None and model_url is None:
            raise ConfigError(f"model {key!r} needs class_name= (or model_url= for a remote model)")
        if model_path is not None:
            model_path = str(model_path)
        return self.spec.graph.add_route(key, class_name, model_path, model_url, **class_args)

    def to_mock_server(self, namespace: dict[str, Any] | None = None, **kwargs: Any) -> MockServer:
        """An in-process server for tests: ``server.test("/v2/models/m/infer", body)``."""
        from nuserve.mock import MockServer  # noqa: PLC0415 - keeps the builder light

        namespaces: list[tuple[str, Any]] = []
        if namespace is not None:
            namespaces.append(("the namespace argument", namespace))
        caller = sys._getframe(1).f_globals
        namespaces.append((f"the caller's globals ({caller.get('__name__')})", caller))
        code_dirs = [Path.cwd()]
        return MockServer(self.spec.serving_spec(), namespaces, code_dirs, **kwargs)


def new_function(
    name: str, kind: str = "serving", image: str | None = None, **kwargs: Any
) -> ServingFunction:
    """A new serving function (MLRun's ``new_function``)."""
    return ServingFunction(name, kind, image)


def code_to_function(
    name: str,
    filename: str | None = None,
    kind: str = "serving",
    image: str | None = None,
    **kwargs: Any,
) -> ServingFunction:
    """A serving function whose classes live in ``filename``."""
    if filename is not None and not Path(filename).is_file():
        raise ConfigError(f"code file {filename!r} not found (cwd is {Path.cwd()})")
    return ServingFunction(name, kind, image, filename=filename)
