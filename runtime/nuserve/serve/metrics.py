"""Per-worker request metrics, shared between worker processes through snapshot files.

Counters live in plain Python objects touched only by the worker's event loop thread, so the
HTTP hot path takes no lock: one dict lookup (path → series, cached) and a few increments.
gRPC calls (``nuserve serve --grpc-port``) count in grpcio's threads, into counters of their
own (``Metrics.for_threads``), whose series count under a lock (``+=`` on an attribute is not
atomic between threads); snapshots and totals add the two up. Each
worker writes its snapshot as JSON into a shared directory (``<pid>.json``, at most once per
second, and fresh before answering ``/metrics``); ``/metrics`` sums the files of live workers.

Label values come from the graph, never from the request: a path naming a model the graph does
not serve counts as ``model="unknown"`` and an operation a model does not have as
``op="unknown"``. A client sending 404s for made-up names once created a series per name (raw
NUL bytes included) until the cap, after which the real models were lumped together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
from bisect import bisect_left
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import orjson

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Latency histogram upper bounds, in seconds (``+Inf`` is implied)."""
MAX_CACHED_PATHS = 1024
MAX_SERIES = 256
"""Distinct (model, op) pairs kept; more (a graph of very many models) count as "other"."""
OTHER = ("", "other")
UNKNOWN = "unknown"
UNKNOWN_MODEL = (UNKNOWN, UNKNOWN)
"""The one series of every request for a model the graph does not serve."""
MODEL_OPERATIONS = ("infer", "predict", "explain", "ready", "model")
"""What ``labels_for`` names for every model (``model`` is its metadata)."""
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]")
LABEL_LIMIT = 64
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Series:
    """Counters of one (model, op) pair, counted by one thread (the worker's loop)."""

    __slots__ = ("buckets", "errors", "labels", "requests", "seconds")

    def __init__(self, labels: tuple[str, str]) -> None:
        self.labels = labels
        self.requests = 0
        self.errors = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)
        """Per-bucket (not cumulative) counts; the last one is ``+Inf``."""

    def observe(self, status: int, seconds: float) -> None:
        self.requests += 1
        if status >= 400:
            self.errors += 1
        self.seconds += seconds
        self.buckets[bisect_left(BUCKETS, seconds)] += 1

    def row(self) -> list[Any]:
        """``[model, op, requests, errors, seconds, buckets]``."""
        return [*self.labels, self.requests, self.errors, self.seconds, list(self.buckets)]


class LockedSeries(Series):
    """A series that several threads count into (gRPC's): each count and read is whole."""

    __slots__ = ("lock",)

    def __init__(self, labels: tuple[str, str]) -> None:
        super().__init__(labels)
        self.lock = threading.Lock()

    def observe(self, status: int, seconds: float) -> None:
        with self.lock:
            super().observe(status, seconds)

    def row(self) -> list[Any]:
        """``[model, op, requests, errors, seconds, buckets]``, read at one instant."""
        with self.lock:
            return super().row()


def labels_for(path: str) -> tuple[str, str]:
    """``(model, op)`` of a request path; paths that name no model give ``("", op)``."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "v2" and parts[2] == "models" and parts[3]:
        if len(parts) == 4 and parts[3] in ("infer", "predict"):
            return "", parts[3]
        rest = parts[4:]
        if rest[:1] == ["versions"]:
            rest = rest[2:]
        if not rest:
            return parts[3], "model"
        return (parts[3], rest[0]) if len(rest) == 1 and rest[0] else (parts[3], "other")
    if len(parts) == 4 and parts[1] == "v2" and parts[2] == "health":
        return "", "health"
    if len(parts) == 4 and parts[1] == "v1" and parts[2] == "models":
        name, sep, op = parts[3].partition(":")
        return name, op if sep else "model"
    return OTHER


def sanitise(value: str) -> str:
    """A label value from a name: letters, digits and ``_.:-`` only, at most 64 characters."""
    return _LABEL_UNSAFE.sub("_", value[:LABEL_LIMIT])


class Metrics:
    """One worker's counters; ``series(path)`` is the only call on the request path.

    ``models`` maps each model the graph serves to its custom operations; ``set_models``
    gives them once the graph is built (until then every model path counts as unknown).
    """

    def __init__(
        self,
        pid: int | None = None,
        models: Mapping[str, Collection[str]] | None = None,
        threaded: bool = False,
    ) -> None:
        self.pid = os.getpid() if pid is None else pid
        self.threaded = threaded
        """Whether several threads count here (``for_threads``' counters): locked series."""
        self._series: type[Series] = LockedSeries if threaded else Series
        self.threads: Metrics | None = None
        """The counters of the calls other threads answer (gRPC), added to this worker's."""
        self.known: dict[str, frozenset[str]] = {}
        self.in_flight = 0
        self.inits = 0
        self._by_path: dict[str, Series] = {}
        self._by_labels: dict[tuple[str, str], Series] = {}
        self._lock = threading.Lock()
        """Guards creating series and reading them all (a threaded one's readers are other
        threads)."""
        self.tracking: Callable[[], dict[str, int]] | None = None
        """The tracker's ``stats`` when the function tracks requests."""
        self.timeouts: Callable[[], dict[str, int]] | None = None
        """The lanes' ``stats`` (``timed_out``, ``stuck``) when a request_timeout is set."""
        if models is not None:
            self.set_models(models)

    def set_models(self, models: Mapping[str, Collection[str]]) -> None:
        """The models (name → custom operations) whose paths get series of their own."""
        with self._lock:
            self.known = {
                name: frozenset((*MODEL_OPERATIONS, *ops)) for name, ops in models.items()
            }
            self._by_path.clear()
        if self.threads is not None:
            self.threads.set_models(models)

    def for_threads(self) -> Metrics:
        """The counters that threads other than the worker's loop count into (gRPC's
        handler threads), created once; this worker's snapshots and totals include them.
        A threaded ``Metrics`` is its own."""
        if self.threaded:
            return self
        with self._lock:
            if self.threads is None:
                threads = Metrics(self.pid, threaded=True)
                threads.known = self.known
                self.threads = threads
            return self.threads

    def series(self, path: str) -> Series:
        series = self._by_path.get(path)
        if series is None:
            with self._lock:
                series = self._by_path.get(path)
                if series is None:
                    series = self._labelled(*self.known_labels(path))
                    if len(self._by_path) < MAX_CACHED_PATHS:
                        self._by_path[path] = series
        return series

    def known_labels(self, path: str) -> tuple[str, str]:
        """``labels_for(path)`` with unknown models and operations named ``unknown``."""
        model, op = labels_for(path)
        if not model:
            return model, op
        ops = self.known.get(model)
        if ops is None:
            return UNKNOWN_MODEL
        return sanitise(model), op if op in ops else UNKNOWN

    def labelled(self, model: str, op: str) -> Series:
        """The series of ``(model, op)``, created on first use (bounded in number)."""
        with self._lock:
            return self._labelled(model, op)

    def _labelled(self, model: str, op: str) -> Series:
        labels = (model, op)
        series = self._by_labels.get(labels)
        if series is None:
            if len(self._by_labels) >= MAX_SERIES:
                labels = OTHER
            series = self._by_labels.get(labels) or self._series(labels)
            self._by_labels[labels] = series
        return series

    def total(self) -> int:
        """Requests counted, the threads' included."""
        with self._lock:
            every = list(self._by_labels.values())
        threads = self.threads
        return sum(s.requests for s in every) + (threads.total() if threads is not None else 0)

    def rows(self) -> list[list[Any]]:
        """One row per series (``Series.row``); the threads' counts added to the same
        (model, op)'s."""
        with self._lock:
            every = list(self._by_labels.values())
        rows = [s.row() for s in every]
        if self.threads is not None:
            index = {(row[0], row[1]): row for row in rows}
            for extra in self.threads.rows():
                row = index.get((extra[0], extra[1]))
                if row is None:
                    rows.append(extra)
                    continue
                row[2] += extra[2]
                row[3] += extra[3]
                row[4] += extra[4]
                row[5] = [a + b for a, b in zip(row[5], extra[5], strict=True)]
        return rows

    def snapshot(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "inits": self.inits,
            "in_flight": self.in_flight,
            "tracking": self.tracking() if self.tracking is not None else {},
            "timeouts": self.timeouts() if self.timeouts is not None else {},
            "series": self.rows(),
        }

    def write_snapshot(self, directory: str) -> None:
        """Write ``<pid>.json`` atomically (a reader never sees half a file)."""
        target = Path(directory, f"{self.pid}.json")
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(self.snapshot()))
        os.replace(temporary, target)

    def remove_snapshot(self, directory: str) -> None:
        with contextlib.suppress(OSError):
            Path(directory, f"{self.pid}.json").unlink()

    def render(self, directory: str | None) -> str:
        """Prometheus text: this worker's counters, plus every live worker's when shared."""
        if directory is None:
            return render([self.snapshot()])
        self.write_snapshot(directory)
        return render(read_snapshots(directory))


async def write_periodically(metrics: Metrics, directory: str, interval: float = 1.0) -> None:
    """Write ``metrics``' snapshot every ``interval`` seconds while it changes (a loop task).

    It runs on the worker's event loop, the thread that updates its counters, so a snapshot
    is never taken halfway through an update; the gRPC threads' series are read under their
    locks.
    """
    last: tuple[int, int, int, dict[str, int] | None, dict[str, int] | None] | None = None
    warned = False
    while True:
        tracking = metrics.tracking() if metrics.tracking is not None else None
        timeouts = metrics.timeouts() if metrics.timeouts is not None else None
        state = (metrics.total(), metrics.in_flight, metrics.inits, tracking, timeouts)
        if state != last:
            try:
                metrics.write_snapshot(directory)
            except OSError as exc:  # a full or removed directory must not stop the worker
                if not warned:
                    logging.getLogger("nuserve.serve").warning("cannot write metrics: %s", exc)
                    warned = True
            last = state
        await asyncio.sleep(interval)


def read_snapshots(directory: str) -> list[dict[str, Any]]:
    """The snapshots of live workers; files of dead ones are removed."""
    snapshots = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            pid = int(path.stem)
        except ValueError:
            continue
        if not alive(pid):
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        try:
            snapshots.append(orjson.loads(path.read_bytes()))
        except (OSError, ValueError):
            continue  # replaced or removed while we read it; the next scrape sees it
    return snapshots


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (killed, not reaped yet by uvicorn) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def render(snapshots: list[dict[str, Any]]) -> str:
    """Sum the workers' snapshots into Prometheus's text format."""
    merged: dict[tuple[str, str], list[Any]] = {}
    for snap in snapshots:
        for model, op, requests, errors, seconds, buckets in snap["series"]:
            row = merged.setdefault((model, op), [0, 0, 0.0, [0] * (len(BUCKETS) + 1)])
            row[0] += requests
            row[1] += errors
            row[2] += seconds
            row[3] = [a + b for a, b in zip(row[3], buckets, strict=True)]
    lines = [
        "# HELP nuserve_requests_total Requests answered, per model and operation.",
        "# TYPE nuserve_requests_total counter",
    ]
    lines += [f"nuserve_requests_total{_labels(k)} {r[0]}" for k, r in merged.items()]
    lines += [
        "# HELP nuserve_request_errors_total Requests answered with a status of 400 or more.",
        "# TYPE nuserve_request_errors_total counter",
    ]
    lines += [f"nuserve_request_errors_total{_labels(k)} {r[1]}" for k, r in merged.items()]
    lines += [
        "# HELP nuserve_request_duration_seconds Time to answer a request.",
        "# TYPE nuserve_request_duration_seconds histogram",
    ]
    for key, (requests, _errors, seconds, buckets) in merged.items():
        model, op = (_escape(v) for v in key)
        cumulative = 0
        for bound, count in zip((*(repr(b) for b in BUCKETS), "+Inf"), buckets, strict=True):
            cumulative += count
            lines.append(
                f'nuserve_request_duration_seconds_bucket{{model="{model}",op="{op}",'
                f'le="{bound}"}} {cumulative}'
            )
        lines.append(f"nuserve_request_duration_seconds_sum{_labels(key)} {seconds!r}")
        lines.append(f"nuserve_request_duration_seconds_count{_labels(key)} {requests}")
    lines += [
        "# HELP nuserve_requests_in_flight Requests being answered now.",
        "# TYPE nuserve_requests_in_flight gauge",
        f"nuserve_requests_in_flight {sum(s['in_flight'] for s in snapshots)}",
        "# HELP nuserve_worker_info One per live worker process.",
        "# TYPE nuserve_worker_info gauge",
        *(f'nuserve_worker_info{{pid="{s["pid"]}"}} 1' for s in snapshots),
        "# HELP nuserve_worker_inits_total Graphs built (init_context calls) by live workers.",
        "# TYPE nuserve_worker_inits_total counter",
        f"nuserve_worker_inits_total {sum(s['inits'] for s in snapshots)}",
        *_tracking_lines(snapshots),
        *_timeout_lines(snapshots),
    ]
    return "\n".join(lines) + "\n"


def _timeout_lines(snapshots: list[dict[str, Any]]) -> list[str]:
    """Requests cut off by request_timeout and the abandoned calls still running, summed."""
    timeouts = [s["timeouts"] for s in snapshots if s.get("timeouts")]
    if not timeouts:
        return []
    return [
        "# HELP nuserve_request_timeouts_total Requests answered 504 by request_timeout.",
        "# TYPE nuserve_request_timeouts_total counter",
        f"nuserve_request_timeouts_total {sum(t.get('timed_out', 0) for t in timeouts)}",
        "# HELP nuserve_abandoned_calls Model calls past request_timeout, still running.",
        "# TYPE nuserve_abandoned_calls gauge",
        f"nuserve_abandoned_calls {sum(t.get('stuck', 0) for t in timeouts)}",
    ]


def _tracking_lines(snapshots: list[dict[str, Any]]) -> list[str]:
    """Tracking records by what became of them, summed over the workers."""
    totals: dict[str, int] = {}
    for snapshot in snapshots:
        for key, value in (snapshot.get("tracking") or {}).items():
            totals[key] = totals.get(key, 0) + value
    if not totals:
        return []
    return [
        "# HELP nuserve_tracking_records_total Tracking records, by what became of them.",
        "# TYPE nuserve_tracking_records_total counter",
        *(
            f'nuserve_tracking_records_total{{state="{k}"}} {totals.get(k, 0)}'
            for k in ("tracked", "sent", "dropped")
        ),
        "# HELP nuserve_tracking_queued Tracking records waiting to be sent.",
        "# TYPE nuserve_tracking_queued gauge",
        f"nuserve_tracking_queued {totals.get('queued', 0)}",
        "# HELP nuserve_tracking_send_retries_total Failed sends that were retried.",
        "# TYPE nuserve_tracking_send_retries_total counter",
        f"nuserve_tracking_send_retries_total {totals.get('retried', 0)}",
        "# HELP nuserve_tracking_errors_total Sink, encoding and logged_results failures.",
        "# TYPE nuserve_tracking_errors_total counter",
        f"nuserve_tracking_errors_total {totals.get('errors', 0)}",
    ]


def _labels(key: tuple[str, str]) -> str:
    return f'{{model="{_escape(key[0])}",op="{_escape(key[1])}"}}'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
