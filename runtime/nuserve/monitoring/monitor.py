"""Monitor: tracking records in, closed windows with drift verdicts out (store and alerts).

``feed(record)`` adds a record to its endpoint's open windows; ``advance()`` closes the
windows the stream's clock has passed and, for each, computes drift against the endpoint's
reference, stores the window and raises alerts. The stream's clock is the latest record
time seen, or the wall clock once no record has come for ``idle_close_s`` (so a quiet
stream still closes its windows). Methods are safe to call from two threads (the Nuclio
handler feeds while a ticker advances).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from nuserve.monitoring.alerts import DRIFT, ERROR_RATE, Alert, Alerter
from nuserve.monitoring.config import DRIFT_DETECTED, STATUS_LEVEL, MonitorConfig, window_name
from nuserve.monitoring.drift import DriftResult, compute_drift
from nuserve.monitoring.inputs import feature_rows, prediction_values
from nuserve.monitoring.reference import Counts, Reference
from nuserve.monitoring.store import EndpointInfo, Store
from nuserve.monitoring.windows import Windows, WindowSummary
from nuserve.tracking.record import endpoint_id as make_endpoint_id

logger = logging.getLogger("nuserve.monitoring")
PURGE_EVERY_S = 600.0


class Monitor:
    """Aggregates records per endpoint and window; see the module doc."""

    def __init__(
        self,
        store: Store,
        config: MonitorConfig | None = None,
        references: Mapping[str, Reference] | None = None,
        alerter: Alerter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config or MonitorConfig()
        self.references = dict(references or {})
        """By model name, ``model:version``, or ``""`` for every other model."""
        self.alerter = alerter or Alerter()
        self.clock = clock
        self.windows = Windows(self.config)
        self.counts = {"records": 0, "bad": 0, "windows": 0, "alerts": 0}
        self._endpoints: dict[str, tuple[EndpointInfo, Reference | None]] = {}
        self._watermark = float("-inf")
        self._last_record = clock()
        self._last_purge = float("-inf")
        self._lock = threading.RLock()

    def reference_for(self, model: str, version: str) -> Reference | None:
        refs = self.references
        return refs.get(f"{model}:{version}") or refs.get(model) or refs.get("")

    # ----- records in -----------------------------------------------------------------

    def feed(self, record: Any) -> bool:
        """Add one tracking record; False (and counted as ``bad``) when it is not one."""
        parsed = _header(record)
        if parsed is None:
            self.counts["bad"] += 1
            return False
        info, stamp = parsed
        when = self.clock() if stamp is None else stamp
        with self._lock:
            self.counts["records"] += 1
            known = self._endpoints.get(info.endpoint_id)
            if known is None:
                reference = self.reference_for(info.model, info.version)
                known = self._endpoints[info.endpoint_id] = (info, reference)
                self.store.save_endpoint(info, reference.to_dict() if reference else {}, when)
            reference = known[1]
            hists: Counts | None = None
            rows = 0
            if reference is not None:
                request = record.get("request")
                inputs = request.get("inputs") if isinstance(request, dict) else None
                matrix = feature_rows(inputs, reference.names)
                if matrix is not None and reference.binning.columns:
                    rows = int(matrix.shape[0])
                    hists = reference.binning.counts(matrix)
            resp = record.get("resp")
            outputs = resp.get("outputs") if isinstance(resp, dict) else None
            predictions = prediction_values(outputs) if record.get("error") is None else []
            binning = reference.binning if reference is not None else None
            self.windows.add(info.endpoint_id, when, record, hists, binning, rows, predictions)
            self._watermark = max(self._watermark, when)
            self._last_record = self.clock()
        return True

    # ----- windows out ----------------------------------------------------------------

    def advance(self) -> int:
        """Close and store the windows that are due; how many closed."""
        with self._lock:
            now = self.clock()
            clock = self._watermark
            if now - self._last_record >= self.config.idle_close_s:
                clock = max(clock, now)
            closed = self.windows.close_due(clock)
            for summary in closed:
                self._finish(summary)
            if now - self._last_purge >= PURGE_EVERY_S:
                self._last_purge = now
                removed = self.store.purge(now - self.config.retention_days * 86400)
                if removed:
                    logger.info("monitoring retention removed %d row(s)", removed)
        return len(closed)

    def flush(self) -> int:
        """Close every open window now (shutdown); how many closed."""
        with self._lock:
            closed = self.windows.close_all()
            for summary in closed:
                self._finish(summary)
        return len(closed)

    def _finish(self, summary: WindowSummary) -> None:
        info, reference = self._endpoints[summary.endpoint_id]
        if reference is None:
            drift = DriftResult((), None, None, None, None, "NO_DATA", 0)
        else:
            drift = compute_drift(reference, summary.counts, self.config)
        statuses = [drift.status, *(f.status for f in drift.features)]
        status = max(statuses, key=lambda s: STATUS_LEVEL.get(s, -1))
        window = {
            "endpoint_id": summary.endpoint_id,
            "window_s": summary.length,
            "start_time": summary.start,
            "requests": summary.requests,
            "errors": summary.errors,
            "error_rate": summary.error_rate,
            "p50": summary.p50,
            "p90": summary.p90,
            "p99": summary.p99,
            "row_count": summary.rows,
            "predictions": summary.predictions,
            "general_drift": drift.general,
            "tvd_mean": drift.tvd_mean,
            "hellinger_mean": drift.hellinger_mean,
            "kl_mean": drift.kl_mean,
            "general_status": drift.status,
            "status": status,
        }
        features = [f.to_dict() for f in drift.features]
        for feature in features:
            feature["current_counts"] = feature.pop("current")
        self.store.save_window(window, features, summary.metrics)
        self.counts["windows"] += 1
        if summary.length == min(self.config.windows):
            self.store.set_status(
                summary.endpoint_id,
                status,
                drift.general,
                summary.error_rate,
                drift.drifted,
                summary.end,
            )
        self._alerts(info, summary, drift, status)

    def _alerts(
        self, info: EndpointInfo, summary: WindowSummary, drift: DriftResult, status: str
    ) -> None:
        where = {
            "function_uri": info.function_uri,
            "model": info.model,
            "version": info.version,
            "window_s": summary.length,
            "window_start": summary.start,
        }
        alerts = []
        if status == DRIFT_DETECTED:
            worst = {f.feature: f.value for f in drift.features if f.status == DRIFT_DETECTED}
            listed = ", ".join(f"{name} {value:.3f}" for name, value in worst.items())
            alerts.append(Alert(
                info.endpoint_id, DRIFT,
                f"drift detected on {info.model}: {listed or 'general'} >= "
                f"{self.config.drift_detected} (general drift {drift.general:.3f})",
                max(worst.values(), default=drift.general),
                {**where, "features": list(worst), "general_drift": drift.general,
                 "general_status": drift.status,
                 "values": {f.feature: round(f.value, 4) for f in drift.features}},
            ))  # fmt: skip
        cfg = self.config
        if summary.requests >= cfg.min_requests and summary.error_rate > cfg.error_rate_threshold:
            alerts.append(Alert(
                info.endpoint_id, ERROR_RATE,
                f"error rate {summary.error_rate:.1%} on {info.model} over {summary.requests} "
                f"requests (threshold {cfg.error_rate_threshold:.1%})",
                summary.error_rate,
                {**where, "errors": summary.errors, "requests": summary.requests,
                 "threshold": cfg.error_rate_threshold},
            ))  # fmt: skip
        for alert in alerts:
            self.store.save_alert(alert.to_dict())
            self.alerter.send(alert)
            self.counts["alerts"] += 1

    def open_windows(self, endpoint_id: str) -> list[dict[str, Any]]:
        """The windows of ``endpoint_id`` still open (filling), shortest first, with what
        they hold so far and when each closes (its end plus ``grace_s``; sooner when the
        stream goes idle). The dashboard shows them: with the default windows (10 min and
        1 h) it said "no data" for ten minutes after the first requests."""
        grace = self.config.grace_s
        with self._lock:
            states = [s for k, s in self.windows.open.items() if k[0] == endpoint_id]
            summaries = sorted((s.summary() for s in states), key=lambda w: (w.length, w.start))
        return [
            {
                "window": window_name(w.length),
                "window_s": w.length,
                "start_time": w.start,
                "end_time": w.end,
                "closes_at": w.end + grace,
                "requests": w.requests,
                "errors": w.errors,
                "error_rate": w.error_rate,
                "p50": w.p50,
                "p90": w.p90,
                "p99": w.p99,
                "predictions": w.predictions,
            }
            for w in summaries
        ]

    def stats(self) -> dict[str, int]:
        """Counters: ``records`` fed, ``bad`` records, ``late`` ones, ``windows`` stored,
        ``alerts`` raised, ``open`` windows."""
        with self._lock:
            return {**self.counts, "late": self.windows.late, "open": len(self.windows.open)}


def _header(record: Any) -> tuple[EndpointInfo, float | None] | None:
    """The endpoint and event time of a tracking record, or None when it is not one."""
    if not isinstance(record, dict):
        return None
    model = record.get("model")
    if not isinstance(model, str) or not model:
        return None
    version = record.get("version") or ""
    function_uri = record.get("function_uri") or ""
    uid = record.get("endpoint_id") or make_endpoint_id(str(function_uri), model, str(version))
    labels = record.get("labels")
    info = EndpointInfo(
        str(uid), str(function_uri), model, str(version), str(record.get("class") or ""),
        labels if isinstance(labels, dict) else {},
    )  # fmt: skip
    return info, _when(record.get("when"))


def _when(value: Any) -> float | None:
    """ISO 8601 start time as epoch seconds (naive means UTC); None when missing or bad."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()
