"""MonitorConfig: windows, drift thresholds, alert rules and retention, in one typed object.

The CLI and the Nuclio handler read their options (flags, ``NUSERVE_MONITOR``) once and
build this; nothing below them reads the environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from nuserve.errors import ConfigError

DEFAULT_WINDOWS = (600, 3600)
"""Tumbling window lengths in seconds: 10 minutes and 1 hour."""


@dataclass(frozen=True)
class MonitorConfig:
    """How the monitor aggregates, judges and alerts; every field has a default."""

    windows: tuple[float, ...] = DEFAULT_WINDOWS
    """Tumbling window lengths, in seconds (aligned on multiples of the length since the epoch)."""
    grace_s: float = 10.0
    """A window closes once the stream's clock is this far past its end (late records wait)."""
    idle_close_s: float = 2.0
    """With no record for this long, the wall clock drives the stream's clock (idle streams
    still close their windows)."""
    possible_drift: float = 0.5
    """General drift at or above this is ``POSSIBLE_DRIFT``."""
    drift_detected: float = 0.7
    """General drift at or above this is ``DRIFT_DETECTED`` (and raises an alert)."""
    min_samples: int = 20
    """Input rows a window needs before drift is judged; fewer give ``NO_DATA``."""
    error_rate_threshold: float = 0.1
    """An error rate above this (with ``min_requests``) raises an alert."""
    min_requests: int = 10
    """Requests a window needs before its error rate can raise an alert."""
    retention_days: float = 30.0
    """Windows, drift results and alerts older than this are deleted."""
    max_latencies: int = 20_000
    """Latencies kept per window for percentiles (a uniform reservoir sample beyond that)."""
    max_prediction_values: int = 50
    """Distinct prediction values counted per window; the rest count as ``other``."""
    alerts_stream: str = ""
    """Where alert records go (``file://``, ``kafka://``, ``memory://``); empty: none."""
    webhook_url: str = ""
    """An http(s) URL each alert is POSTed to as JSON; empty: none."""
    webhook_timeout_s: float = 3.0
    """Timeout of one webhook POST."""

    def __post_init__(self) -> None:
        if not self.windows or any(not _number(w) or w <= 0 for w in self.windows):
            raise ConfigError(
                f"monitor windows must be positive numbers of seconds (got {self.windows!r}); "
                "e.g. (600, 3600)"
            )
        object.__setattr__(self, "windows", tuple(float(w) for w in self.windows))
        if not (0 < self.possible_drift <= self.drift_detected):
            raise ConfigError(
                f"monitor thresholds must satisfy 0 < possible_drift <= drift_detected "
                f"(got {self.possible_drift!r} and {self.drift_detected!r})"
            )
        for name in ("grace_s", "idle_close_s", "retention_days", "webhook_timeout_s"):
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise ConfigError(
                    f"monitor {name} must be a number >= 0 (got {getattr(self, name)!r})"
                )
        for name in ("min_samples", "min_requests", "max_latencies", "max_prediction_values"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigError(f"monitor {name} must be an int >= 1 (got {value!r})")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["windows"] = list(self.windows)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorConfig:
        """Build from a dict (``NUSERVE_MONITOR``'s ``config``); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown monitor setting(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "windows" in values:
            values["windows"] = tuple(values["windows"])
        return cls(**values)

    def status(self, value: float | None) -> str:
        """The drift status of a general (or per-feature) drift value."""
        if value is None:
            return NO_DATA
        if value >= self.drift_detected:
            return DRIFT_DETECTED
        if value >= self.possible_drift:
            return POSSIBLE_DRIFT
        return NO_DRIFT


NO_DRIFT = "NO_DRIFT"
POSSIBLE_DRIFT = "POSSIBLE_DRIFT"
DRIFT_DETECTED = "DRIFT_DETECTED"
NO_DATA = "NO_DATA"
STATUS_LEVEL = {NO_DATA: -1, NO_DRIFT: 0, POSSIBLE_DRIFT: 1, DRIFT_DETECTED: 2}
"""Statuses as numbers (the Prometheus gauge's values; higher is worse)."""


def window_name(seconds: float) -> str:
    """``600`` → ``"10m"``, ``3600`` → ``"1h"``, ``2`` → ``"2s"``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _number(value: Any) -> bool:
    return type(value) in (int, float)


__all__ = [
    "DRIFT_DETECTED",
    "NO_DATA",
    "NO_DRIFT",
    "POSSIBLE_DRIFT",
    "STATUS_LEVEL",
    "MonitorConfig",
    "window_name",
]
