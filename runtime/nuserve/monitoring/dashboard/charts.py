"""Charts as inline SVG strings, drawn on the server: no script, no font or file to fetch.

Three kinds: a time line chart (latency percentiles, throughput, errors), a pair of
histograms (reference against current, as probabilities on the reference bins) and a bar
chart (the prediction distribution). Every text is escaped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

COLOURS = ("#1a73e8", "#e8710a", "#188038", "#d93025", "#9334e6", "#12b5cb")
REFERENCE, CURRENT = "#9aa0a6", "#d93025"
FONT = 'font-family="sans-serif" font-size="11"'

Point = tuple[float, float | None]


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _text(x: float, y: float, content: str, anchor: str = "start", extra: str = "") -> str:
    """A text element; ``content`` must already be escaped."""
    return f'<text x="{x:.1f}" y="{y:.1f}" {FONT} text-anchor="{anchor}"{extra}>{content}</text>'


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def line_chart(
    series: Mapping[str, Sequence[Point]],
    title: str,
    unit: str = "",
    width: int = 460,
    height: int = 200,
) -> str:
    """Lines over time (x in epoch seconds); ``None`` values leave gaps."""
    left, right, top, bottom = 56, 12, 24, 34
    xs = [x for points in series.values() for x, y in points if y is not None]
    ys = [y for points in series.values() for _, y in points if y is not None]
    body = [f'<text x="{left}" y="15" {FONT} font-weight="bold">{escape(title)}</text>']
    if not xs:
        body.append(
            f'<text x="{width / 2}" y="{height / 2}" {FONT} text-anchor="middle">no data yet</text>'
        )
        return _svg(width, height, body, title)
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = max(ys) * 1.1 or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + plot_h - y / y1 * plot_h

    for i in range(5):
        value = y1 * i / 4
        y = py(value)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
        )
        body.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" {FONT} text-anchor="end">{_fmt(value)}</text>'
        )
    for tick, anchor in ((x0, "start"), ((x0 + x1) / 2, "middle"), (x1, "end")):
        label = time.strftime("%H:%M:%S", time.gmtime(tick))
        body.append(_text(px(tick), height - 18, label, anchor))
    body.append(_text(width - right, 15, escape(unit), "end", ' fill="#5f6368"'))
    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        segments: list[list[str]] = [[]]
        for at, reading in points:
            if reading is None:
                segments.append([])
            else:
                segments[-1].append(f"{px(at):.1f},{py(reading):.1f}")
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                body.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            elif seg:
                body.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
        lx = left + n * 90
        body.append(f'<rect x="{lx}" y="{height - 11}" width="10" height="4" fill="{colour}"/>')
        body.append(f'<text x="{lx + 14}" y="{height - 5}" {FONT}>{escape(name)}</text>')
    return _svg(width, height, body, title)


def histogram_pair(
    reference: Sequence[float],
    current: Sequence[float],
    edges: Sequence[float],
    width: int = 260,
    height: int = 90,
) -> str:
    """Reference (grey) and current (red) probabilities side by side in each bin."""
    bins = len(reference)
    title = "reference vs current"
    if bins == 0 or len(current) != bins:
        return _svg(width, height, [f'<text x="4" y="14" {FONT}>no histogram</text>'], title)
    top, bottom = 4, 16
    plot_h = height - top - bottom
    peak = max([*reference, *current, 1e-9])
    step = width / bins
    body = []
    for i in range(bins):
        for offset, value, colour in ((0.1, reference[i], REFERENCE), (0.5, current[i], CURRENT)):
            h = value / peak * plot_h
            x = i * step + offset * step
            body.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.4:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{_fmt(value)}</title></rect>'
            )
    body.append(f'<text x="0" y="{height - 3}" {FONT}>{_fmt(edges[0])}</text>')
    body.append(
        f'<text x="{width}" y="{height - 3}" {FONT} text-anchor="end">{_fmt(edges[-1])}</text>'
    )
    return _svg(width, height, body, title)


def bar_chart(counts: dict[str, int], title: str, width: int = 460, height: int = 200) -> str:
    """One bar per value (the most frequent 20), labelled below."""
    items = sorted(counts.items(), key=lambda kv: -kv[1])[:20]
    body = [f'<text x="8" y="15" {FONT} font-weight="bold">{escape(title)}</text>']
    if not items:
        body.append(
            f'<text x="{width / 2}" y="{height / 2}" {FONT} text-anchor="middle">no data yet</text>'
        )
        return _svg(width, height, body, title)
    items.sort(key=lambda kv: kv[0])
    top, bottom, left = 24, 22, 8
    plot_h = height - top - bottom
    peak = max(v for _, v in items)
    step = (width - 2 * left) / len(items)
    for i, (label, value) in enumerate(items):
        h = value / peak * plot_h
        x = left + i * step
        body.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(label)}: {value}</title></rect>'
        )
        body.append(_text(x + step / 2, top + plot_h - h - 3, str(value), "middle"))
        body.append(_text(x + step / 2, height - 6, escape(label[:12]), "middle"))
    return _svg(width, height, body, title)
