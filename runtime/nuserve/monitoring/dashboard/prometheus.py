"""Prometheus gauges (text exposition 0.0.4) for ``/metrics``, read from the store.

- ``nuserve_monitor_drift_status``: the endpoint's status, -1 no data, 0 no drift,
  1 possible drift, 2 drift detected;
- ``nuserve_monitor_general_drift`` and ``nuserve_monitor_error_rate`` per endpoint;
- ``nuserve_monitor_feature_drift{feature, metric}``: per feature of the endpoint's latest
  judged window, ``metric`` one of ``tvd``, ``hellinger``, ``kl``, ``value``.
"""

from __future__ import annotations

from typing import Any

from nuserve.monitoring.config import STATUS_LEVEL
from nuserve.monitoring.dashboard.views import drift_view
from nuserve.monitoring.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HELP = {
    "nuserve_monitor_drift_status": "Drift status: -1 no data, 0 none, 1 possible, 2 detected",
    "nuserve_monitor_general_drift": "General drift of the latest window",
    "nuserve_monitor_error_rate": "Error rate of the latest window",
    "nuserve_monitor_feature_drift": "Per-feature distance to the reference (latest judged window)",
}


def _labels(values: dict[str, Any]) -> str:
    def esc(text: Any) -> str:
        return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in values.items()) + "}"


def render(store: Store) -> str:
    samples: dict[str, list[str]] = {name: [] for name in HELP}
    for e in store.endpoints():
        base = {
            "endpoint_id": e["endpoint_id"],
            "model": e["model"],
            "version": e["version"] or "latest",
        }
        labels = _labels(base)
        samples["nuserve_monitor_drift_status"].append(
            f"{labels} {STATUS_LEVEL.get(e['status'], -1)}"
        )
        if e["general_drift"] is not None:
            samples["nuserve_monitor_general_drift"].append(f"{labels} {e['general_drift']:.6g}")
        if e["error_rate"] is not None:
            samples["nuserve_monitor_error_rate"].append(f"{labels} {e['error_rate']:.6g}")
        drift = drift_view(store, e["endpoint_id"]) or {"features": []}
        for f in drift["features"]:
            for metric in ("tvd", "hellinger", "kl", "value"):
                extra = _labels({**base, "feature": f["feature"], "metric": metric})
                samples["nuserve_monitor_feature_drift"].append(f"{extra} {f[metric]:.6g}")
    lines = []
    for name, text in HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{sample}" for sample in samples[name]]
    return "\n".join(lines) + "\n"
