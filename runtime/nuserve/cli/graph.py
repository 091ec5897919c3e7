"""``nuserve graph function.yaml [-o picture]``: draw the graph a function serves.

Reads the serving spec a function.yaml carries (``NUSERVE_SPEC``), or a JSON spec file; a
router graph is drawn as one router step with its models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nuserve.errors import ConfigError
from nuserve.graph.pictures import plot, to_mermaid
from nuserve.spec.flow import FlowSpec, StepSpec
from nuserve.spec.routers import RouterSpec


def graph_command(path: str | Path, output: str | Path | None = None) -> str:
    """Mermaid text of the function's graph when ``output`` is ``None``; else the picture is
    written to ``output`` (its suffix picks the format) and a line saying so is returned."""
    spec = graph_of(read_spec_dict(Path(path)), str(path))
    if output is None:
        return to_mermaid(spec)
    written = plot(spec, output)
    return f"wrote {written} ({len(spec.steps)} steps)"


def graph_of(data: dict[str, Any], source: str) -> FlowSpec:
    """The flow to draw from a serving spec dict."""
    graph = data.get("graph")
    if not isinstance(graph, dict):
        raise ConfigError(f"{source} has no graph; build it with fn.set_topology(...)")
    if graph.get("kind") == "flow":
        return FlowSpec.from_dict(graph)
    router = RouterSpec.from_dict(graph)
    return FlowSpec(steps={"router": StepSpec("router", "router", router=router)})


def read_spec_dict(path: Path) -> dict[str, Any]:
    """The serving spec dict of a function.yaml (``NUSERVE_SPEC``) or a JSON spec file."""
    # The adapter owns the spec's encoding; imported here, at the CLI edge, not by the graph.
    from nuserve.nuclio.spec_env import SPEC_ENV, decode_spec  # noqa: PLC0415

    if not path.is_file():
        raise ConfigError(f"{path} not found (cwd is {Path.cwd()})")
    text = path.read_text(encoding="utf-8")
    if path.suffix not in (".yaml", ".yml"):
        return decode_spec(text)
    import yaml  # noqa: PLC0415 - only to read function.yaml

    doc = yaml.safe_load(text) or {}
    env = (doc.get("spec") or {}).get("env") or [] if isinstance(doc, dict) else []
    value = next((e.get("value") for e in env if e.get("name") == SPEC_ENV), None)
    if not value:
        raise ConfigError(f"{path} has no {SPEC_ENV} in spec.env; write it with fn.to_yaml()")
    return decode_spec(str(value))
