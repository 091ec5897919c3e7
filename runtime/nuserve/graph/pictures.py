"""Pictures of a flow: Mermaid text, Graphviz dot text, SVG and a self-contained HTML page.

One ``Picture`` (nodes, edges, the function each node runs in) is drawn three ways. The SVG
comes from ``nuserve.graph.svg`` (a layered layout in pure Python), or from Graphviz's ``dot``
when asked for and installed; the HTML page embeds that SVG and the Mermaid text, and loads
nothing from the network.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from nuserve.errors import ConfigError
from nuserve.spec.flow import FlowSpec, StepSpec, handler_ref
from nuserve.spec.serving import class_ref

EVENT, RESPONSE, ERROR = "event", "response", "on_error"
SHAPES = ("event", "task", "router", "model", "queue", "merge", "error")


@dataclass
class PictureNode:
    id: str
    label: str
    shape: str
    """One of ``SHAPES``."""
    function: str | None = None
    detail: str = ""
    """A second line: the class, handler, stream path or router class."""
    responder: bool = False


@dataclass
class Picture:
    nodes: list[PictureNode] = field(default_factory=list)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)
    """``(from id, to id, dashed)``."""

    def functions(self) -> list[str | None]:
        return list(dict.fromkeys(n.function for n in self.nodes))


def picture(spec: FlowSpec) -> Picture:
    """The flow as nodes and edges: the event, the steps (router steps with their models),
    the response when a step responds, and the error handler."""
    pic = Picture([PictureNode(EVENT, "event", "event")])
    ids = {name: f"s{i}" for i, name in enumerate(spec.steps)}
    for step in spec.steps.values():
        node_id = ids[step.name]
        pic.nodes.append(
            PictureNode(node_id, step.name, step.kind, step.function, _detail(step), step.responder)
        )
        for parent in step.after or [""]:
            if parent and parent not in ids:
                raise ConfigError(f"step {step.name!r} comes after unknown step {parent!r}")
            pic.edges.append((ids[parent] if parent else EVENT, node_id, False))
        if step.router is not None:
            for j, key in enumerate(step.router.routes):
                model_id = f"{node_id}_m{j}"
                route = step.router.routes[key]
                pic.nodes.append(
                    PictureNode(model_id, key, "model", step.function, _short(route.class_name))
                )
                pic.edges.append((node_id, model_id, True))
        if step.responder:
            pic.nodes.append(PictureNode(RESPONSE, "response", "event", step.function))
            pic.edges.append((node_id, RESPONSE, False))
    if spec.on_error is not None:
        handler = spec.on_error
        detail = _short(handler.class_name) or _short(handler_ref(handler.handler))
        pic.nodes.append(PictureNode(ERROR, f"on error: {handler.name}", "error", None, detail))
    return pic


def _short(ref: object) -> str:
    text = class_ref(ref) if isinstance(ref, type) else ref
    return str(text).rpartition(".")[2] if text else ""


def _detail(step: StepSpec) -> str:
    if step.kind == "queue":
        return step.path or ""
    if step.kind == "router":
        return _short(step.router.class_name if step.router else None) or "ModelRouter"
    if step.kind == "merge":
        return "merge"
    detail = _short(step.class_name) or _short(handler_ref(step.handler))
    return "" if detail == step.name else detail


# --------------------------------------------------------------------------- mermaid

_MERMAID_SHAPES = {
    "event": ('(["', '"])'),
    "task": ('["', '"]'),
    "router": ('{{"', '"}}'),
    "model": ('["', '"]'),
    "queue": ('[("', '")]'),
    "merge": ('(("', '"))'),
    "error": ('>"', '"]'),
}


def _mermaid_label(node: PictureNode) -> str:
    text = node.label + (f"<br/>{node.detail}" if node.detail else "")
    return text.replace('"', "#quot;")


def to_mermaid(spec: FlowSpec) -> str:
    """A Mermaid ``flowchart``; each function other than the flow's own is a subgraph."""
    pic = picture(spec)
    lines = ["flowchart TD"]
    for function in pic.functions():
        indent = "    " if function is None else "        "
        if function is not None:
            lines.append(f'    subgraph fn_{_ident(function)}["function: {function}"]')
        for node in (n for n in pic.nodes if n.function == function):
            open_, close = _MERMAID_SHAPES[node.shape]
            style = ":::responder" if node.responder else ""
            lines.append(f"{indent}{node.id}{open_}{_mermaid_label(node)}{close}{style}")
        if function is not None:
            lines.append("    end")
    for source, target, dashed in pic.edges:
        lines.append(f"    {source} {'-.->' if dashed else '-->'} {target}")
    if any(n.responder for n in pic.nodes):
        lines.append("    classDef responder stroke-width:3px")
    return "\n".join(lines) + "\n"


def _ident(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


# --------------------------------------------------------------------------- dot

_DOT_SHAPES = {
    "event": "oval",
    "task": "box",
    "router": "hexagon",
    "model": "box",
    "queue": "cylinder",
    "merge": "circle",
    "error": "note",
}


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(spec: FlowSpec) -> str:
    """Graphviz dot text; each function other than the flow's own is a cluster."""
    pic = picture(spec)
    lines = ["digraph flow {", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    for function in pic.functions():
        indent = "  " if function is None else "    "
        if function is not None:
            lines.append(f"  subgraph cluster_{_ident(function)} {{")
            lines.append(f"    label={_dot_quote('function: ' + function)};")
        for node in (n for n in pic.nodes if n.function == function):
            label = node.label + (f"\n{node.detail}" if node.detail else "")
            attrs = [f"label={_dot_quote(label)}", f"shape={_DOT_SHAPES[node.shape]}"]
            if node.responder:
                attrs.append("peripheries=2")
            if node.shape == "model":
                attrs.append("style=rounded")
            lines.append(f"{indent}{node.id} [{', '.join(attrs)}];")
        if function is not None:
            lines.append("  }")
    for source, target, dashed in pic.edges:
        lines.append(f"  {source} -> {target}{' [style=dashed]' if dashed else ''};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- files

RENDERERS = ("auto", "builtin", "dot")


def to_svg(spec: FlowSpec, renderer: str = "builtin") -> str:
    """SVG text: Graphviz's when ``renderer`` is ``dot`` (or ``auto`` and ``dot`` is on the
    PATH), else nuserve's own layered drawing."""
    if renderer not in RENDERERS:
        raise ConfigError(f"renderer must be one of {', '.join(RENDERERS)} (got {renderer!r})")
    dot = shutil.which("dot") if renderer != "builtin" else None
    if dot is None and renderer == "dot":
        raise ConfigError("renderer='dot' needs Graphviz's dot on the PATH; use 'builtin'")
    if dot is not None:
        done = subprocess.run(  # noqa: S603 - runs dot from the PATH on text we generated
            [dot, "-Tsvg"],
            input=to_dot(spec),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise ConfigError(f"dot failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout
    from nuserve.graph.svg import draw  # noqa: PLC0415 - layout code only when drawing

    return draw(picture(spec))


def to_html(spec: FlowSpec, title: str = "flow") -> str:
    """A page with the drawing (inline SVG) and the Mermaid text; no scripts, no network."""
    from nuserve.graph.svg import draw  # noqa: PLC0415

    svg = draw(picture(spec))
    svg = svg[svg.index("<svg") :]
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:2em}"
        "pre{background:#f6f8fa;padding:1em;overflow:auto}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{svg}\n"
        "<h2>Mermaid</h2>\n<p>Paste into any Mermaid renderer to redraw.</p>\n"
        f"<pre class='mermaid'>{html.escape(to_mermaid(spec))}</pre>\n</body></html>\n"
    )


def plot(spec: FlowSpec, path: str | Path, renderer: str = "auto") -> Path:
    """Write the picture the suffix asks for: ``.svg``, ``.html``, ``.dot``/``.gv``, ``.mmd``."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".svg":
        text = to_svg(spec, renderer)
    elif suffix in (".html", ".htm"):
        text = to_html(spec, file.stem)
    elif suffix in (".dot", ".gv"):
        text = to_dot(spec)
    elif suffix in (".mmd", ".mermaid"):
        text = to_mermaid(spec)
    else:
        raise ConfigError(
            f"cannot tell the picture format of {str(file)!r}; end it in .svg, .html, .dot or .mmd"
        )
    file.write_text(text, encoding="utf-8")
    return file
