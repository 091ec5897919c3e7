"""``nuserve hub list`` and ``nuserve hub show <name>``: the function templates at hand.

Both read ``--hub`` (a directory or URL), else ``NUSERVE_HUB_URL``, before nuserve's own hub.
"""

from __future__ import annotations

import argparse
import ast
from typing import Any

from nuserve.errors import ConfigError

HUB_ENV = "NUSERVE_HUB_URL"
"""``nuserve.hub.HUB_ENV`` (the hub and the function builder load only for these commands)."""


def add_hub_parser(sub: Any) -> None:
    """The ``hub`` command and its ``list`` / ``show`` subcommands."""
    parser = sub.add_parser("hub", help="list or show the function templates (hub://name)")
    parser.add_argument("--hub", help=f"a user hub: directory or URL (default ${HUB_ENV})")
    actions = parser.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="every function of the hubs").set_defaults(run=_list)
    show = actions.add_parser("show", help="one function: tags, files, graph, usage")
    show.add_argument("name", help="a name from `nuserve hub list` (name or name:tag)")
    show.set_defaults(run=_show)


def hub_list(hub_url: str | None = None) -> str:
    """One line per function: name, version, description."""
    from nuserve import hub  # noqa: PLC0415

    found = hub.items(hub_url)
    width = max((len(name) for name in found), default=4)
    lines = [
        f"{name:<{width}}  {item.version or '-':<8}  {item.description}"
        for name, item in found.items()
    ]
    return "\n".join(lines)


def hub_show(name: str, hub_url: str | None = None) -> str:
    """What ``import_function("hub://<name>")`` gives: where from, its files and graph, and
    the usage its code documents."""
    from nuserve import hub  # noqa: PLC0415
    from nuserve.function.imports import FUNCTION_YAML, import_function  # noqa: PLC0415

    item_name, tag = hub.parse_hub_url(name if name.startswith("hub://") else f"hub://{name}")
    item = hub.find(item_name, tag, hub_url)
    folder = hub.fetch(item_name, tag, hub_url)
    fn = import_function(folder / FUNCTION_YAML)
    lines = [
        f"hub://{item.name}  ({', '.join(item.tags)})",
        f"  {item.description}",
        f"  from: {item.hub}",
        f"  files: {', '.join(str(f) for f in item.files)}",
        f"  graph: {_graph_line(fn.spec.serving_spec().to_dict().get('graph') or {})}",
    ]
    if fn.spec.requirements:
        lines.append(f"  requirements: {' '.join(fn.spec.requirements)}")
    code = fn.spec.filename
    if code and (folder / code).is_file():
        doc = ast.get_docstring(ast.parse((folder / code).read_text(encoding="utf-8")))
        if doc:
            lines += ["", *doc.splitlines()]
    return "\n".join(lines)


def _graph_line(graph: dict[str, Any]) -> str:
    if graph.get("kind") == "flow":
        steps = [f"{s['name']} ({s.get('kind', 'task')})" for s in graph.get("steps", [])]
        return "flow: " + " -> ".join(steps)
    routes = [r.get("key") for r in graph.get("routes", [])]
    router = graph.get("class_name") or "ModelRouter"
    return f"router {router}, models: {', '.join(map(str, routes)) or 'none (add_model)'}"


def _list(args: argparse.Namespace) -> int:
    print(hub_list(args.hub))
    return 0


def _show(args: argparse.Namespace) -> int:
    if not args.name:
        raise ConfigError("nuserve hub show needs a name; see `nuserve hub list`")
    print(hub_show(args.name, args.hub))
    return 0
