"""The dashboard's HTML: an endpoint list and an endpoint page, from ``views``' dicts.

Plain HTML and CSS with the charts inline as SVG; the page refreshes itself every 30 s
with a ``<meta>`` tag (no script).
"""

from __future__ import annotations

import time
from html import escape
from typing import Any
from urllib.parse import quote

from nuserve.monitoring.dashboard.charts import bar_chart, histogram_pair, line_chart

STYLE = """
body{font-family:sans-serif;margin:24px;color:#202124;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:24px 0 8px}
.sub{color:#5f6368;font-size:13px;margin-bottom:16px}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e0e0e0;padding:6px 10px;text-align:left;vertical-align:middle}
th{background:#f1f3f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{padding:2px 8px;border-radius:10px;font-size:12px;font-weight:bold;white-space:nowrap}
.NO_DRIFT{background:#e6f4ea;color:#137333} .POSSIBLE_DRIFT{background:#fef7e0;color:#b06000}
.DRIFT_DETECTED{background:#fce8e6;color:#c5221f} .NO_DATA{background:#f1f3f4;color:#5f6368}
.charts{display:flex;flex-wrap:wrap;gap:12px} .card{background:#fff;border:1px solid #e0e0e0;
border-radius:6px;padding:8px} a{color:#1a73e8;text-decoration:none} .legend span{margin-right:12px}
"""
STATUS_TEXT = {
    "NO_DRIFT": "no drift",
    "POSSIBLE_DRIFT": "possible drift",
    "DRIFT_DETECTED": "drift detected",
    "NO_DATA": "no data",
}


def _badge(status: str | None) -> str:
    status = status or "NO_DATA"
    return f'<span class="badge {escape(status)}">{escape(STATUS_TEXT.get(status, status))}</span>'


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _closes(stamp: float, now: float | None = None) -> str:
    """``13:20:00 UTC (in 8 min)``: when an open window closes."""
    left = stamp - (time.time() if now is None else now)
    if left <= 0:
        soon = "now"
    elif left < 60:
        soon = f"in {left:.0f} s"
    else:
        soon = f"in {left / 60:.0f} min"
    return f"{time.strftime('%H:%M:%S UTC', time.gmtime(stamp))} ({soon})"


def _open_cell(window: dict[str, Any] | None) -> str:
    if window is None:
        return "-"
    return (
        f"{window['requests']} request(s) in {escape(window['window'])}, closes "
        f"{_closes(window['closes_at'])}"
    )


def _open_windows(view: dict[str, Any]) -> str:
    """The windows still filling: what they hold so far and when each closes."""
    windows = view.get("open_windows") or []
    if not windows:
        return ""
    rows = "".join(
        f"<tr><td>{escape(w['window'])}</td><td>{_when(w['start_time'])}</td>"
        f"<td>{_closes(w['closes_at'])}</td><td class='num'>{w['requests']}</td>"
        f"<td class='num'>{w['errors']}</td><td class='num'>{_num(w['error_rate'])}</td>"
        f"<td class='num'>{_num(w['p50'] / 1000 if w['p50'] is not None else None, 2)}</td>"
        f"<td class='num'>{_num(w['p99'] / 1000 if w['p99'] is not None else None, 2)}</td></tr>"
        for w in windows
    )
    note = ""
    if not view["series"]:
        first = windows[0]
        note = (
            f'<div class="sub">no {escape(first["window"])} window has closed yet: charts and '
            f"drift come when the first closes, at {_closes(first['closes_at'])}; "
            "until then, the window still open is shown here</div>"
        )
    return (
        "<h2>open windows (still filling)</h2>"
        + note
        + "<table><tr><th>window</th><th>since</th><th>closes</th><th>requests</th>"
        "<th>errors</th><th>error rate</th><th>p50 ms</th><th>p99 ms</th></tr>" + rows + "</table>"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="30">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def index_page(endpoints: list[dict[str, Any]]) -> str:
    rows = []
    for e in endpoints:
        link = f"/endpoints/{quote(e['endpoint_id'])}"
        rows.append(
            f'<tr><td><a href="{link}">{escape(e["model"])}</a></td>'
            f"<td>{escape(e['version'] or 'latest')}</td><td>{escape(e['function_uri'])}</td>"
            f"<td>{_badge(e['status'])}</td><td class='num'>{_num(e['general_drift'])}</td>"
            f"<td class='num'>{_num(e['error_rate'])}</td>"
            f"<td>{escape(', '.join(e['drifted'] or [])) or '-'}</td>"
            f"<td>{_when(e['last_seen'])}</td><td>{_open_cell(e.get('open_window'))}</td></tr>"
        )
    table = (
        "<table><tr><th>model</th><th>version</th><th>function</th><th>status</th>"
        "<th>general drift</th><th>error rate</th><th>drifted features</th><th>last seen</th>"
        "<th>open window</th></tr>"
        + ("".join(rows) or '<tr><td colspan="9">no endpoint has sent records yet</td></tr>')
        + "</table>"
    )
    body = (
        "<h1>nuserve model monitoring</h1>"
        f'<div class="sub">{len(endpoints)} endpoint(s) · JSON at '
        '<a href="/api/endpoints">/api/endpoints</a> · <a href="/metrics">/metrics</a></div>'
        + table
    )
    return _page("nuserve monitoring", body)


def endpoint_page(view: dict[str, Any], drift: dict[str, Any]) -> str:
    eid = view["endpoint_id"]
    series = view["series"]
    windows = " ".join(
        f'<a href="/endpoints/{quote(eid)}?window={quote(w)}">{escape(w)}</a>'
        if w != view["window"]
        else f"<b>{escape(w)}</b>"
        for w in view["windows_available"]
    )
    latency = {
        name: [(s["start_time"], s[name] / 1000 if s[name] is not None else None) for s in series]
        for name in ("p50", "p90", "p99")
    }
    charts = [
        line_chart(latency, "latency", "ms"),
        line_chart(
            {"requests/s": [(s["start_time"], s["throughput"]) for s in series]},
            "throughput",
            "req/s",
        ),
        line_chart(
            {
                "errors": [(s["start_time"], float(s["errors"])) for s in series],
                "error rate %": [(s["start_time"], s["error_rate"] * 100) for s in series],
            },
            "errors",
        ),
        bar_chart(series[-1]["predictions"] if series else {}, "predictions (latest window)"),
    ]
    if any(s.get("llm") for s in series):
        charts += _llm_charts(series)
    head = (
        f'<div class="sub"><a href="/">all endpoints</a> · {escape(view["function_uri"])} · '
        f"version {escape(view['version'] or 'latest')} · class {escape(view['model_class'])} · "
        f"endpoint {escape(eid)} · windows: {windows or '-'}</div>"
    )
    body = (
        f"<h1>{escape(view['model'])} {_badge(view['status'])}</h1>"
        + head
        + '<div class="charts">'
        + "".join(f'<div class="card">{c}</div>' for c in charts)
        + "</div>"
        + _open_windows(view)
        + _drift_table(drift)
        + _alerts(view["alerts"])
    )
    return _page(f"{view['model']} - nuserve monitoring", body)


def _llm_charts(series: list[dict[str, Any]]) -> list[str]:
    """A generative model's windows: tokens per request, time to first token and inter-token
    latency (means), and the finish reasons of the latest window."""

    def points(name: str) -> list[tuple[float, float | None]]:
        return [(s["start_time"], (s.get("llm") or {}).get(name)) for s in series]

    latest: dict[str, float] = next((s["llm"] for s in reversed(series) if s.get("llm")), {})
    finishes = {k[7:]: round(v * 100) for k, v in latest.items() if k.startswith("finish_")}
    return [
        line_chart(
            {
                "prompt tokens": points("prompt_tokens"),
                "completion tokens": points("completion_tokens"),
            },
            "tokens per request",
        ),
        line_chart(
            {"time to first token": points("ttft_ms"), "inter-token latency": points("itl_ms")},
            "generation latency",
            "ms",
        ),
        bar_chart(finishes, "finish reasons, % (latest window)"),
    ]


def _drift_table(drift: dict[str, Any]) -> str:
    if not drift["features"]:
        return "<h2>Drift</h2><p>no window with enough rows yet</p>"
    rows = "".join(
        f"<tr><td><b>{escape(f['feature'])}</b></td><td class='num'>{_num(f['tvd'])}</td>"
        f"<td class='num'>{_num(f['hellinger'])}</td><td class='num'>{_num(f['kl'])}</td>"
        f"<td class='num'>{_num(f['value'])}</td><td>{_badge(f['status'])}</td>"
        f"<td>{histogram_pair(f['reference'], f['current'], f['edges'])}</td></tr>"
        for f in drift["features"]
    )
    return (
        f"<h2>Drift {_badge(drift['status'])}</h2>"
        f'<div class="sub">window {escape(drift["window"])} from {_when(drift["start_time"])} '
        f"· {drift['rows']} rows · general drift {_num(drift['general_drift'])} "
        f"(TVD mean {_num(drift['tvd_mean'])}, Hellinger mean {_num(drift['hellinger_mean'])}) "
        '· <span class="legend"><span style="color:#9aa0a6">■ reference</span>'
        '<span style="color:#d93025">■ current</span></span></div>'
        "<table><tr><th>feature</th><th>TVD</th><th>Hellinger</th><th>KL (sym.)</th>"
        f"<th>drift</th><th>status</th><th>histograms</th></tr>{rows}</table>"
    )


def _alerts(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return "<h2>Alerts</h2><p>none</p>"
    rows = "".join(
        f"<tr><td>{_when(a['created'])}</td><td>{_when(a['details'].get('window_start'))}</td>"
        f"<td>{escape(a['kind'])}</td><td>{escape(a['message'])}</td></tr>"
        for a in alerts
    )
    return (
        "<h2>Alerts</h2><table><tr><th>raised</th><th>window from</th><th>kind</th>"
        f"<th>message</th></tr>{rows}</table>"
    )
