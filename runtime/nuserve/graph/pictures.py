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
from pathlib import Path

from nuserve.errors import ConfigError
from nuserve.graph.picture import PictureNode, picture
from nuserve.graph.svg import draw
from nuserve.spec.flow import FlowSpec

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

    return draw(picture(spec))


def to_html(spec: FlowSpec, title: str = "flow") -> str:
    """A page with the drawing (inline SVG) and the Mermaid text; no scripts, no network."""

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


def to_png(spec: FlowSpec, renderer: str = "auto") -> bytes:
    """PNG bytes: Graphviz's (with labels) when ``dot`` is on the PATH, else boxes and lines
    drawn by nuserve (``nuserve.graph.png``)."""
    dot = shutil.which("dot") if renderer != "builtin" else None
    if dot is not None:
        done = subprocess.run(  # noqa: S603 - runs dot from the PATH on text we generated
            [dot, "-Tpng"], input=to_dot(spec).encode(), capture_output=True, timeout=60,
            check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return done.stdout
    from nuserve.graph.png import draw_png  # noqa: PLC0415 - only for .png

    return draw_png(picture(spec))


def to_svg_text(spec: FlowSpec) -> str:
    """The built-in SVG drawing (what ``graph.plot()`` with no path returns)."""
    return to_svg(spec, "builtin")


def plot(spec: FlowSpec, path: str | Path, renderer: str = "auto") -> Path:
    """Write the picture the suffix asks for: ``.svg``, ``.html``, ``.dot``/``.gv``, ``.mmd``,
    ``.png``."""
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
    elif suffix == ".png":
        file.write_bytes(to_png(spec, renderer))
        return file
    else:
        raise ConfigError(
            f"cannot tell the picture format of {str(file)!r}; end it in .svg, .html, .dot, "
            ".mmd or .png"
        )
    file.write_text(text, encoding="utf-8")
    return file
