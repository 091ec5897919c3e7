"""A flow picture as PNG without Graphviz: the SVG drawing's layout, rasterised as boxes
(each function's colour) joined by lines. It has no text (a font would be a dependency);
``.svg`` and ``.html`` carry the names. With Graphviz's ``dot`` on the PATH, ``plot``
uses it instead (with labels)."""

from __future__ import annotations

import struct
import zlib

from nuserve.graph.picture import Picture
from nuserve.graph.svg import FILLS, GAP_X, GAP_Y, MARGIN, NODE_H, _width, layers

Pixel = tuple[int, int, int]


def _rgb(colour: str) -> Pixel:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def draw_png(pic: Picture) -> bytes:
    """The PNG file's bytes."""
    rows = layers(pic)
    row_widths = [sum(_width(n) for n in row) + GAP_X * (len(row) - 1) for row in rows]
    width = int(max(row_widths, default=0.0) + 2 * MARGIN)
    height = int(MARGIN * 2 + len(rows) * (NODE_H + GAP_Y) - GAP_Y)
    boxes: dict[str, tuple[int, int, int]] = {}
    for depth, nodes in enumerate(rows):
        x = MARGIN + (width - 2 * MARGIN - row_widths[depth]) / 2
        y = MARGIN + depth * (NODE_H + GAP_Y)
        for node in nodes:
            boxes[node.id] = (int(x), int(y), int(_width(node)))
            x += _width(node) + GAP_X
    canvas = [[(255, 255, 255)] * width for _ in range(height)]
    functions = pic.functions()
    fills = {f: _rgb(FILLS[i % len(FILLS)]) for i, f in enumerate(functions)}
    grey = (85, 85, 85)
    for source, target, _ in pic.edges:
        sx, sy, sw = boxes[source]
        tx, ty, tw = boxes[target]
        _line(canvas, sx + sw // 2, sy + int(NODE_H), tx + tw // 2, ty, grey)
    for node in pic.nodes:
        x, y, w = boxes[node.id]
        for row in range(y, min(y + int(NODE_H), height)):
            line = canvas[row]
            for col in range(x, min(x + w, width)):
                edge = row in (y, y + int(NODE_H) - 1) or col in (x, x + w - 1)
                line[col] = grey if edge else fills[node.function]
    return _encode(canvas, width, height)


def _line(canvas: list[list[Pixel]], x0: int, y0: int, x1: int, y1: int, colour: Pixel) -> None:
    steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    for i in range(steps + 1):
        x = x0 + (x1 - x0) * i // steps
        y = y0 + (y1 - y0) * i // steps
        if 0 <= y < len(canvas) and 0 <= x < len(canvas[0]):
            canvas[y][x] = colour


def _encode(canvas: list[list[Pixel]], width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in canvas)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
