"""Request tracking to streams: one record per sampled request, sent in the background.

    settings = tracking_settings(stream_path="kafka://broker:9092?topic=events", sample=10)
    fn.spec.tracking = settings          # or fn.set_tracking(...)

``GraphServer.start`` calls ``create_tracker(spec.tracking, context)`` and ``start()``;
``GraphServer.close`` calls ``close()``, which sends what is queued. Importing this package
imports no Kafka or v3io client: the sinks import theirs when created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nuserve.model.v2_model_server import Tracker
from nuserve.tracking.settings import TrackingSettings, tracking_settings
from nuserve.tracking.sinks import Sink, SinkError, create_sink

if TYPE_CHECKING:
    from nuserve.context import ServingContext


__all__ = [
    "Sink",
    "SinkError",
    "Tracker",
    "TrackingSettings",
    "create_sink",
    "create_tracker",
    "tracking_settings",
]


def create_tracker(settings: dict[str, Any], context: ServingContext) -> Tracker:
    """The tracker for ``spec.tracking`` (a ``tracking_settings`` dict), not started yet: a
    ``nuserve.tracking.tracker.StreamTracker``."""
    from nuserve.tracking.tracker import StreamTracker  # noqa: PLC0415 - only when tracking

    parsed = TrackingSettings.from_dict(settings)
    return StreamTracker(parsed, create_sink(parsed.stream_path), context)
