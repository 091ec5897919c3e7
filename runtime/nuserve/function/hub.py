"""Function templates (MLRun's Function Hub): ``import_function("hub://<name>")``.

A hub is a directory (or an http(s) URL serving one) with an ``index.yaml`` listing items;
each item is a directory holding its code file (classes and handlers) and an ``item.yaml``
with the function's graph, its default model class and requirements. nuserve ships one
(``nuserve/function/hub``: a scikit-learn classifier, an ensemble, an ONNX model and a flow
with a remote step); ``hub=`` or ``NUSERVE_HUB`` names another. Items fetched from a URL are
cached under ``~/.cache/nuserve/hub``. ``{name}`` in the graph's text is replaced by
``params[name]`` (``import_function("hub://remote-flow", params={"url": ...})``).

``import_function("function.yaml")`` reads a function.yaml (nuserve's, from ``fn.export()``
or ``fn.to_yaml()``, or MLRun's, with its ``SERVING_SPEC_ENV``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nuserve.errors import ConfigError
from nuserve.spec.serving import graph_from_dict

if TYPE_CHECKING:
    from nuserve.function.serving_function import ServingFunction

SHIPPED = Path(__file__).parent / "hub"
HUB_ENV = "NUSERVE_HUB"
CACHE = Path.home() / ".cache" / "nuserve" / "hub"


def hub_location(hub: str | Path | None = None) -> str:
    """The hub asked for: ``hub``, else ``$NUSERVE_HUB``, else the one shipped."""
    return str(hub or os.environ.get(HUB_ENV) or SHIPPED)


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _read_text(location: str, relative: str) -> str:
    if _is_url(location):
        import urllib.request  # noqa: PLC0415 - http.client only for a hub URL

        url = location.rstrip("/") + "/" + relative
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - http(s) only
                return str(answer.read().decode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"hub {location}: cannot fetch {relative}: {exc}") from None
    path = Path(location) / relative
    if not path.is_file():
        raise ConfigError(f"hub {location} has no {relative}")
    return path.read_text(encoding="utf-8")


def _yaml(text: str, where: str) -> dict[str, Any]:
    import yaml  # noqa: PLC0415 - only when a hub is read

    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a YAML mapping")
    return data


def hub_index(hub: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Item name → its index entry (``path``, ``description``, ``version``, ...)."""
    location = hub_location(hub)
    items = _yaml(_read_text(location, "index.yaml"), f"hub {location} index.yaml").get("items")
    if not isinstance(items, dict):
        raise ConfigError(f"hub {location} index.yaml has no 'items' mapping")
    return {str(name): dict(entry or {}) for name, entry in items.items()}


def hub_item(name: str, hub: str | Path | None = None) -> dict[str, Any]:
    """An item's index entry and its ``item.yaml``, with the local directory of its files."""
    location = hub_location(hub)
    index = hub_index(location)
    if name not in index:
        raise ConfigError(
            f"hub {location} has no item {name!r} (items: {', '.join(sorted(index)) or 'none'})"
        )
    entry = index[name]
    folder = str(entry.get("path") or name)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", folder) or folder.startswith("."):
        raise ConfigError(f"hub item {name!r} has path {folder!r}; it must be a plain folder name")
    item = _yaml(_read_text(location, f"{folder}/item.yaml"), f"hub item {name!r} item.yaml")
    code = str(item.get("code") or "")
    if not re.fullmatch(r"[A-Za-z0-9_]+\.py", code):
        raise ConfigError(f"hub item {name!r} needs code: <file>.py (got {code!r})")
    if _is_url(location):
        digest = hashlib.sha256(location.encode()).hexdigest()[:12]
        directory = CACHE / digest / folder
        directory.mkdir(parents=True, exist_ok=True)
        (directory / code).write_text(_read_text(location, f"{folder}/{code}"), encoding="utf-8")
    else:
        directory = Path(location) / folder
    return {**entry, **item, "name": name, "directory": directory}


def _fill(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, str):
        for key, given in params.items():
            if value == "{" + key + "}":
                return given
            value = value.replace("{" + key + "}", str(given))
        return value
    if isinstance(value, list):
        return [_fill(v, params) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, params) for k, v in value.items()}
    return value


def import_function(
    url: str,
    params: dict[str, Any] | None = None,
    hub: str | Path | None = None,
    name: str | None = None,
) -> ServingFunction:
    """A function from the hub (``hub://<name>``) or from a function.yaml."""
    from nuserve.function.serving_function import (  # noqa: PLC0415 - avoids a cycle
        ServingFunction,
        code_to_function,
        function_from_yaml,
    )

    if url.startswith("hub://"):
        item_name = url[len("hub://") :].split(":", 1)[0].strip("/")
        item = hub_item(item_name, hub)
        fn = code_to_function(name or item_name, filename=str(item["directory"] / item["code"]))
        graph = _fill(item.get("graph") or {"kind": "router", "routes": []}, dict(params or {}))
        fn.spec.graph = graph_from_dict(graph)
        fn.spec.requirements = [*fn.spec.requirements, *(item.get("requirements") or [])]
        fn.default_class = item.get("default_class")
        return fn
    path = Path(url)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        raise ConfigError(f"import_function takes hub://<name> or a function.yaml (got {url!r})")
    try:
        return function_from_yaml(path)
    except ConfigError:
        from nuserve.nuclio.spec_env import spec_from_file  # noqa: PLC0415 - MLRun's yaml

        spec = spec_from_file(path)  # MLRun's generated function.yaml (SERVING_SPEC_ENV)
        fn = ServingFunction(name or spec.name)
        fn.spec.graph, fn.spec.parameters = spec.graph, spec.parameters
        return fn
