"""Model monitoring from the tracking stream alone: drift, latency, errors, alerts.

    stats = nuserve.monitoring.feature_stats(X_train, names=[...])   # into ModelSpec
    nuserve monitor --stream kafka://127.0.0.1:9092?topic=t --reference model_dir --serve

Records (wire.md's tracking record) are aggregated per endpoint in tumbling windows
(``windows``); each closed window is compared with the model's reference statistics
(``drift``), stored (``store``: SQLite by default, PostgreSQL by URL), shown by the
dashboard (``dashboard``) and may raise alerts (``alerts``). ``import nuserve`` does not
import this package; this package imports no Kafka client until a ``kafka://`` stream is
opened.
"""

from __future__ import annotations

from nuserve.monitoring.alerts import Alert, Alerter
from nuserve.monitoring.config import (
    DRIFT_DETECTED,
    NO_DATA,
    NO_DRIFT,
    POSSIBLE_DRIFT,
    MonitorConfig,
)
from nuserve.monitoring.consumer import Source, open_source
from nuserve.monitoring.dashboard.server import Dashboard
from nuserve.monitoring.drift import (
    EPSILON,
    DriftResult,
    FeatureDrift,
    compute_drift,
    hellinger,
    kl_divergence,
    symmetric_kl,
    total_variation,
)
from nuserve.monitoring.function import monitor_function, monitor_function_yaml
from nuserve.monitoring.monitor import Monitor
from nuserve.monitoring.reference import Reference, load_reference
from nuserve.monitoring.runner import MonitorRunner, build_runner, run_monitor
from nuserve.monitoring.stats import feature_stats
from nuserve.monitoring.store import Store, open_store

__all__ = [
    "DRIFT_DETECTED",
    "EPSILON",
    "NO_DATA",
    "NO_DRIFT",
    "POSSIBLE_DRIFT",
    "Alert",
    "Alerter",
    "Dashboard",
    "DriftResult",
    "FeatureDrift",
    "Monitor",
    "MonitorConfig",
    "MonitorRunner",
    "Reference",
    "Source",
    "Store",
    "build_runner",
    "compute_drift",
    "feature_stats",
    "hellinger",
    "kl_divergence",
    "load_reference",
    "monitor_function",
    "monitor_function_yaml",
    "open_source",
    "open_store",
    "run_monitor",
    "symmetric_kl",
    "total_variation",
]
