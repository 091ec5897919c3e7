"""Tumbling windows per endpoint: counts, latencies, input histograms, predictions.

Each window length (10 min and 1 h by default) tiles time from the epoch, so windows of
every endpoint line up and restarts do not shift them. A record belongs to the window of its
``when`` (event time). A window closes once the stream's clock passes its end by
``grace_s``; a record that arrives for a window already closed is *late*: it is counted in
``late`` and dropped (rewriting a stored window would need a merge the store does not do).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nuserve.monitoring.config import MonitorConfig
from nuserve.monitoring.reference import Binning, Counts

Key = tuple[str, float, float]
"""``(endpoint_id, window length, window start)``."""


@dataclass(frozen=True)
class WindowSummary:
    """What a closed window stores; latencies in microseconds."""

    endpoint_id: str
    length: float
    start: float
    requests: int
    errors: int
    p50: float | None
    p90: float | None
    p99: float | None
    rows: int
    counts: dict[str, list[int]] = field(default_factory=dict)
    """Input histograms on the reference bins, per feature."""
    predictions: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    """Means of the numeric ``metrics`` the model set (``set_metric``)."""

    @property
    def end(self) -> float:
        return self.start + self.length

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class WindowState:
    """One open window's running aggregates."""

    def __init__(self, key: Key, config: MonitorConfig) -> None:
        self.key = key
        self.requests = 0
        self.errors = 0
        self.rows = 0
        self.latencies: list[float] = []
        self._latency_seen = 0
        self._max_latencies = config.max_latencies
        self._max_predictions = config.max_prediction_values
        self._random = random.Random(f"{key}")  # noqa: S311 - sampling, not security
        self.counts: Counts | None = None
        self.binning: Binning | None = None
        self.predictions: Counter[str] = Counter()
        self.metric_sums: dict[str, list[float]] = {}

    def add(
        self,
        record: dict[str, Any],
        hists: Counts | None,
        binning: Binning | None,
        rows: int,
        predictions: list[Hashable],
    ) -> None:
        self.requests += 1
        if record.get("error") is not None:
            self.errors += 1
        latency = record.get("microsec")
        if isinstance(latency, int | float) and math.isfinite(latency):
            self._latency(float(latency))
        if hists is not None and binning is not None:
            self.rows += rows
            if self.counts is None:
                self.counts, self.binning = hists.copy(), binning
            else:
                self.counts += hists
        for value in predictions:
            label = str(value)
            if label in self.predictions or len(self.predictions) < self._max_predictions:
                self.predictions[label] += 1
            else:
                self.predictions["other"] += 1
        metrics = record.get("metrics")
        if isinstance(metrics, dict):
            for name, value in metrics.items():
                if type(value) in (int, float) and math.isfinite(value):
                    acc = self.metric_sums.setdefault(str(name), [0.0, 0.0])
                    acc[0] += value
                    acc[1] += 1

    def _latency(self, value: float) -> None:
        """Algorithm R: a uniform sample of ``max_latencies`` values."""
        self._latency_seen += 1
        if len(self.latencies) < self._max_latencies:
            self.latencies.append(value)
            return
        slot = self._random.randrange(self._latency_seen)
        if slot < self._max_latencies:
            self.latencies[slot] = value

    def summary(self) -> WindowSummary:
        endpoint_id, length, start = self.key
        p50 = p90 = p99 = None
        if self.latencies:
            p50, p90, p99 = (float(v) for v in np.percentile(self.latencies, [50, 90, 99]))
        return WindowSummary(
            endpoint_id,
            length,
            start,
            self.requests,
            self.errors,
            p50,
            p90,
            p99,
            self.rows,
            self.binning.to_dict(self.counts) if self.binning and self.counts is not None else {},
            dict(self.predictions),
            {name: total / n for name, (total, n) in self.metric_sums.items() if n},
        )


class Windows:
    """The open windows of every endpoint and length; closes them by the stream's clock."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.open: dict[Key, WindowState] = {}
        self.closed_until: dict[tuple[str, float], float] = {}
        self.late = 0

    def add(
        self,
        endpoint_id: str,
        when: float,
        record: dict[str, Any],
        hists: Counts | None,
        binning: Binning | None,
        rows: int,
        predictions: list[Hashable],
    ) -> None:
        for length in self.config.windows:
            start = math.floor(when / length) * length
            if start < self.closed_until.get((endpoint_id, length), -math.inf):
                self.late += 1
                continue
            key = (endpoint_id, length, start)
            state = self.open.get(key)
            if state is None:
                state = self.open[key] = WindowState(key, self.config)
            state.add(record, hists, binning, rows, predictions)

    def close_due(self, clock: float) -> list[WindowSummary]:
        """Close the windows that ended ``grace_s`` or more before ``clock``."""
        grace = self.config.grace_s
        due = [k for k in self.open if k[2] + k[1] + grace <= clock]
        return self._close(due)

    def close_all(self) -> list[WindowSummary]:
        """Close every open window (at shutdown: partial windows are stored as they are)."""
        return self._close(list(self.open))

    def _close(self, keys: list[Key]) -> list[WindowSummary]:
        out = []
        for key in sorted(keys, key=lambda k: (k[2], k[1])):
            state = self.open.pop(key)
            endpoint_id, length, start = key
            mark = (endpoint_id, length)
            self.closed_until[mark] = max(self.closed_until.get(mark, -math.inf), start + length)
            out.append(state.summary())
        return out
