"""Router specs: the models of a router graph (``add_model``) and how classes are named.

``class_ref`` writes a class object as an importable dotted path where it can, else as its bare
name, resolved at load time.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from nuserve.errors import ConfigError

ClassRef = str | type | None


def class_ref(value: ClassRef) -> str | None:
    """A class object as text: ``module.Qualname`` when importable, else its bare name (a
    class of ``__main__``, or of a script run by ``runpy``, whose module is gone: it is found
    in the function's code file)."""
    if value is None or isinstance(value, str):
        return value
    module = value.__module__
    if module in ("__main__", "builtins") or module not in sys.modules or "<" in value.__qualname__:
        return value.__name__
    return f"{module}.{value.__qualname__}"


@dataclass
class RouteSpec:
    """One model in a router: ``fn.add_model(key, ...)``."""

    key: str
    """``name`` or ``name:version``."""
    class_name: ClassRef = None
    """The model class (object, dotted path or bare name)."""
    model_path: str | None = None
    """Where the model artifact lives (file, directory, spec yaml, or URL)."""
    model_url: str | None = None
    """A remote model's URL, served by forwarding."""
    class_args: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the class constructor."""
    default: bool = False
    """Marks this version as the model's default (else the unversioned one, else the latest)."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "class_name": class_ref(self.class_name)}
        for name in ("model_path", "model_url"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.class_args:
            data["class_args"] = self.class_args
        if self.default:
            data["default"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RouteSpec:
        return cls(
            key=_required(data, "key", "route"),
            class_name=data.get("class_name"),
            model_path=data.get("model_path"),
            model_url=data.get("model_url"),
            class_args=dict(data.get("class_args") or {}),
            default=bool(data.get("default", False)),
        )


@dataclass
class RouterSpec:
    """The graph root of a router topology and its routes, in the order they were added."""

    class_name: ClassRef = None
    """The router class; ``None`` is ``ModelRouter``."""
    class_args: dict[str, Any] = field(default_factory=dict)
    routes: dict[str, RouteSpec] = field(default_factory=dict)
    kind: str = "router"

    def add_route(
        self,
        key: str,
        class_name: ClassRef = None,
        model_path: str | None = None,
        model_url: str | None = None,
        default: bool = False,
        **class_args: Any,
    ) -> RouteSpec:
        """Add (or replace) a model route; returns its spec."""
        route = RouteSpec(key, class_name, model_path, model_url, class_args, default)
        self.routes[key] = route
        return route

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "class_name": class_ref(self.class_name)}
        if self.class_args:
            data["class_args"] = self.class_args
        data["routes"] = [route.to_dict() for route in self.routes.values()]
        return data

    def copy(self) -> RouterSpec:
        """A copy whose class args and routes may change without touching this one."""
        return RouterSpec(self.class_name, dict(self.class_args), dict(self.routes))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RouterSpec:
        kind = data.get("kind", "router")
        if kind != "router":
            raise ConfigError(f"graph kind {kind!r} is not supported (expected 'router' or 'flow')")
        routes = [RouteSpec.from_dict(r) for r in data.get("routes") or []]
        return cls(
            class_name=data.get("class_name"),
            class_args=dict(data.get("class_args") or {}),
            routes={r.key: r for r in routes},
        )


def _required(data: dict[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise ConfigError(f"{what} spec has no {key!r} (got keys {sorted(data)})")
    return data[key]
