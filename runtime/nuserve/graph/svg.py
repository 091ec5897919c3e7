"""A flow picture as SVG, laid out in layers by nuserve itself (no Graphviz, no scripts).

The layout is the classic layered one, kept small: each node's layer is its longest path
from the event; within a layer, nodes are ordered by the mean position of their inputs (two
sweeps), then centred. Edges are curves from the bottom of a node to the top of the next;
each function's nodes share a fill colour, named in a legend.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from nuserve.graph.picture import Picture, PictureNode

CHAR_W, NODE_H, GAP_X, GAP_Y, MARGIN = 7.0, 44.0, 28.0, 46.0, 20.0
FILLS = ("#e8f0fe", "#fef3e0", "#e6f4ea", "#fce8e6", "#f3e8fd", "#e0f7fa")


def layers(pic: Picture) -> list[list[PictureNode]]:
    """Nodes by layer (longest path from a node without inputs), ordered to cut crossings."""
    inputs: dict[str, list[str]] = {n.id: [] for n in pic.nodes}
    for source, target, _ in pic.edges:
        inputs[target].append(source)
    depth: dict[str, int] = {}

    def level(node_id: str, seen: frozenset[str] = frozenset()) -> int:
        if node_id not in depth:
            parents = [p for p in inputs[node_id] if p not in seen]
            depth[node_id] = 1 + max((level(p, seen | {node_id}) for p in parents), default=-1)
        return depth[node_id]

    rows: list[list[PictureNode]] = []
    for node in pic.nodes:
        at = level(node.id)
        rows.extend([] for _ in range(at + 1 - len(rows)))
        rows[at].append(node)
    for _ in range(2):
        position = {n.id: i for row in rows for i, n in enumerate(row)}
        for row in rows[1:]:
            row.sort(key=lambda n: _mean([position[p] for p in inputs[n.id]], position[n.id]))
            position.update({n.id: i for i, n in enumerate(row)})
    return rows


def _mean(values: list[int], default: int) -> float:
    return sum(values) / len(values) if values else float(default)


def _width(node: PictureNode) -> float:
    text = max(len(node.label), len(node.detail))
    return max(90.0, min(320.0, text * CHAR_W + 28.0))


def draw(pic: Picture) -> str:
    """The SVG document (with an XML declaration)."""
    rows = layers(pic)
    boxes: dict[str, tuple[float, float, float]] = {}
    row_widths = [sum(_width(n) for n in row) + GAP_X * (len(row) - 1) for row in rows]
    functions = pic.functions()
    legend_h = 22.0 * len([f for f in functions if f is not None])
    width = max(row_widths, default=0.0) + 2 * MARGIN
    for depth, row in enumerate(rows):
        x = MARGIN + (width - 2 * MARGIN - row_widths[depth]) / 2
        y = MARGIN + legend_h + depth * (NODE_H + GAP_Y)
        for node in row:
            boxes[node.id] = (x, y, _width(node))
            x += _width(node) + GAP_X
    height = MARGIN * 2 + legend_h + len(rows) * (NODE_H + GAP_Y) - GAP_Y
    fills = {f: FILLS[i % len(FILLS)] for i, f in enumerate(functions)}
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica,Arial,sans-serif" '
        'font-size="12">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker>"
        "</defs>",
    ]
    parts += _legend(functions, fills)
    for source, target, dashed in pic.edges:
        parts.append(_edge(boxes[source], boxes[target], dashed))
    for node in pic.nodes:
        parts.append(_node(node, boxes[node.id], fills[node.function]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend(functions: list[str | None], fills: dict[str | None, str]) -> list[str]:
    out: list[str] = []
    y = MARGIN
    for function in functions:
        if function is None:
            continue
        out.append(
            f'<rect x="{MARGIN}" y="{y}" width="14" height="14" fill="{fills[function]}" '
            'stroke="#555"/>'
        )
        label = escape(f"function: {function}")
        out.append(f'<text x="{MARGIN + 20}" y="{y + 11}">{label}</text>')
        y += 22
    return out


def _edge(src: tuple[float, float, float], dst: tuple[float, float, float], dashed: bool) -> str:
    x1, y1 = src[0] + src[2] / 2, src[1] + NODE_H
    x2, y2 = dst[0] + dst[2] / 2, dst[1]
    middle = (y1 + y2) / 2
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return (
        f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} '
        f'{x2:.1f},{y2:.1f}" fill="none" stroke="#555"{dash} marker-end="url(#arrow)"/>'
    )


def _node(node: PictureNode, box: tuple[float, float, float], fill: str) -> str:
    x, y, w = box
    h, cx, cy = NODE_H, x + w / 2, y + NODE_H / 2
    stroke = ' stroke="#222" stroke-width="3"' if node.responder else ' stroke="#555"'
    paint = f'fill="{fill}"{stroke}'
    if node.shape == "event":
        shape = f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="22" {paint}/>'
    elif node.shape == "router":
        points = [(x, cy), (x + 14, y), (x + w - 14, y), (x + w, cy), (x + w - 14, y + h),
                  (x + 14, y + h)]  # fmt: skip
        shape = f'<polygon points="{_points(points)}" {paint}/>'
    elif node.shape == "merge":
        shape = f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="{h / 2}" {paint}/>'
    elif node.shape == "queue":
        shape = (
            f'<path d="M{x:.1f},{y + 6:.1f} v{h - 12} a{w / 2:.1f},6 0 0 0 {w:.1f},0 '
            f'v-{h - 12} a{w / 2:.1f},6 0 0 0 -{w:.1f},0 a{w / 2:.1f},6 0 0 0 {w:.1f},0" '
            f"{paint}/>"
        )
    elif node.shape == "error":
        points = [(x, y), (x + w, y), (x + w - 12, cy), (x + w, y + h), (x, y + h)]
        shape = f'<polygon points="{_points(points)}" {paint}/>'
    else:
        radius = 10 if node.shape == "model" else 3
        shape = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="{radius}" {paint}/>'
        )
    title = f"<title>{escape(node.label)}</title>"
    lines = [node.label, node.detail] if node.detail else [node.label]
    cy += 3 if node.shape == "queue" else 0  # below the cylinder's top rim
    texts = "".join(
        f'<text x="{cx:.1f}" y="{cy + (i - (len(lines) - 1) / 2) * 15 + 4:.1f}" '
        f'text-anchor="middle"{" font-weight=" + quoteattr("bold") if i == 0 else ""}>'
        f"{escape(_clip(line, w))}</text>"
        for i, line in enumerate(lines)
    )
    return f"<g id={quoteattr(node.id)}>{title}{shape}{texts}</g>"


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


def _clip(text: str, width: float) -> str:
    most = int((width - 16) / CHAR_W)
    return text if len(text) <= most else text[: max(most - 1, 1)] + "…"
