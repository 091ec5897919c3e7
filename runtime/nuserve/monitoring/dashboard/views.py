"""What the dashboard shows, as plain JSON-ready dicts read from the store.

The JSON API returns these as they are and the HTML page renders them, so the two never
disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nuserve.monitoring.config import window_name
from nuserve.monitoring.drift import normalise
from nuserve.monitoring.store import Store

ENDPOINT_FIELDS = (
    "endpoint_id", "function_uri", "model", "version", "model_class", "labels", "status",
    "general_drift", "error_rate", "drifted", "first_seen", "last_seen",
)  # fmt: skip


Live = Callable[[str], list[dict[str, Any]]]
"""An endpoint's open windows (``Monitor.open_windows``), when the monitor runs alongside."""


def endpoints_view(store: Store, live: Live | None = None) -> list[dict[str, Any]]:
    """Every endpoint with its latest status (from its shortest window) and its shortest
    window still open (``None`` when none is, or the monitor is not alongside)."""
    rows = [{k: row[k] for k in ENDPOINT_FIELDS} for row in store.endpoints()]
    for row in rows:
        filling = live(row["endpoint_id"]) if live is not None else []
        row["open_window"] = filling[0] if filling else None
    return rows


def _length(store: Store, endpoint_id: str, window: str | None) -> float | None:
    """The window length asked for (``"10m"`` or seconds), else the shortest stored."""
    lengths = store.window_lengths(endpoint_id)
    if window:
        for length in lengths:
            if window in (window_name(length), f"{length:g}"):
                return length
        return None
    return lengths[0] if lengths else None


def endpoint_view(
    store: Store, endpoint_id: str, window: str | None = None, live: Live | None = None
) -> dict[str, Any] | None:
    """One endpoint: its header, the time series of one window length, the windows still
    open, its alerts."""
    row = store.endpoint(endpoint_id)
    if row is None:
        return None
    length = _length(store, endpoint_id, window)
    series = store.windows(endpoint_id, length) if length is not None else []
    return {
        **{k: row[k] for k in ENDPOINT_FIELDS},
        "window": window_name(length) if length is not None else None,
        "windows_available": [window_name(w) for w in store.window_lengths(endpoint_id)],
        "series": [
            {
                "start_time": w["start_time"],
                "requests": w["requests"],
                "throughput": w["requests"] / w["window_s"],
                "errors": w["errors"],
                "error_rate": w["error_rate"],
                "p50": w["p50"],
                "p90": w["p90"],
                "p99": w["p99"],
                "general_drift": w["general_drift"],
                "status": w["status"],
                "predictions": w["predictions"],
                "llm": llm_metrics(store.metrics(endpoint_id, w["window_s"], w["start_time"])),
            }
            for w in series
        ],
        "open_windows": live(endpoint_id) if live is not None else [],
        "alerts": store.alerts(endpoint_id, limit=20),
    }


LLM_METRICS = ("prompt_tokens", "completion_tokens", "ttft_ms", "itl_ms")
"""What generative requests record (``nuserve.llm``), as window means; ``finish_<reason>``
means are the shares of each finish reason."""


def llm_metrics(metrics: dict[str, float]) -> dict[str, float] | None:
    """A window's LLM measures (means), or ``None`` for a model that is not generative."""
    found = {k: v for k, v in metrics.items() if k in LLM_METRICS or k.startswith("finish_")}
    return found or None


def drift_view(store: Store, endpoint_id: str, window: str | None = None) -> dict[str, Any] | None:
    """The latest window of one length that has a drift verdict, feature by feature, with
    both histograms as probabilities on the reference bins."""
    row = store.endpoint(endpoint_id)
    if row is None:
        return None
    length = _length(store, endpoint_id, window)
    judged = (
        [w for w in store.windows(endpoint_id, length) if w["general_drift"] is not None]
        if length
        else []
    )
    if not judged:
        return {"endpoint_id": endpoint_id, "window": None, "status": "NO_DATA", "features": []}
    latest = judged[-1]
    reference = row["reference"] or {}
    features = []
    for item in store.drift(endpoint_id, latest["window_s"], latest["start_time"]):
        counts, edges = (reference.get(item["feature"]) or {}).get("hist", [[], []])
        features.append({
            "feature": item["feature"],
            "tvd": item["tvd"],
            "hellinger": item["hellinger"],
            "kl": item["kl"],
            "value": item["value"],
            "status": item["status"],
            "edges": edges,
            "reference": normalise(counts).tolist(),
            "current": normalise(item["current_counts"]).tolist(),
        })  # fmt: skip
    order = {name: i for i, name in enumerate(reference)}
    features.sort(key=lambda f: order.get(f["feature"], len(order)))
    return {
        "endpoint_id": endpoint_id,
        "window": window_name(latest["window_s"]),
        "start_time": latest["start_time"],
        "end_time": latest["start_time"] + latest["window_s"],
        "rows": latest["row_count"],
        "general_drift": latest["general_drift"],
        "tvd_mean": latest["tvd_mean"],
        "hellinger_mean": latest["hellinger_mean"],
        "kl_mean": latest["kl_mean"],
        "general_status": latest["general_status"],
        "status": latest["status"],
        "features": features,
    }
