"""``nuserve monitor``: its arguments and its run (the CLI adds them with two calls).

nuserve monitor --stream kafka://127.0.0.1:9092?topic=tracking --reference examples/iris/model
nuserve monitor --stream file:///var/log/tracking.jsonl --serve --port 8090
nuserve monitor --serve --store postgresql://monitor@127.0.0.1:5432/monitoring
"""

from __future__ import annotations

import argparse
import re

from nuserve.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> float:
    """``"600"``, ``"10m"``, ``"1h"``, ``"2s"`` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; use 600, 10m, 1h or 2s")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--stream", help="tracking stream: kafka://host:port?topic=t, file:///path.jsonl, v3io://")
    add("--store", default="sqlite://.nuserve/monitor.db", help="sqlite path or postgresql:// URL")
    add(
        "--reference",
        action="append",
        default=[],
        metavar="[MODEL=]PATH",
        help="model spec (dir or yaml) or feature_stats JSON; MODEL= for one model only",
    )
    add("--window", action="append", type=seconds, help="window length (repeat; default 10m, 1h)")
    add("--grace", type=seconds, default=10.0, help="lateness allowed before a window closes")
    add("--possible-drift", type=float, default=0.5, help="possible drift threshold (0.5)")
    add("--drift-detected", type=float, default=0.7, help="drift detected threshold (0.7)")
    add("--min-samples", type=int, default=20, help="input rows a window needs for drift (20)")
    add("--error-rate", type=float, default=0.1, help="error rate alert threshold (0.1)")
    add("--retention-days", type=float, default=30.0, help="keep windows this long (30)")
    add("--alerts-stream", default="", help="where alerts go: file://, kafka://")
    add("--webhook", default="", help="http(s) URL each alert is POSTed to")
    add("--serve", action="store_true", help="serve the dashboard (and /metrics, /api)")
    add("--host", default="127.0.0.1", help="dashboard address (default 127.0.0.1)")
    add("--port", type=int, default=8090, help="dashboard port (default 8090)")
    add("--duration", type=seconds, help="stop after this long (default: until Ctrl-C)")


def run(args: argparse.Namespace) -> int:
    from nuserve.monitoring.config import DEFAULT_WINDOWS, MonitorConfig  # noqa: PLC0415
    from nuserve.monitoring.runner import run_monitor  # noqa: PLC0415

    if not args.stream and not args.serve:
        raise ConfigError("nothing to do: give --stream URL, --serve, or both")
    references: dict[str, str] = {}
    for item in args.reference:
        key, sep, path = item.partition("=")
        references[key if sep else ""] = path if sep else item
    config = MonitorConfig(
        windows=tuple(args.window or DEFAULT_WINDOWS),
        grace_s=args.grace,
        possible_drift=args.possible_drift,
        drift_detected=args.drift_detected,
        min_samples=args.min_samples,
        error_rate_threshold=args.error_rate,
        retention_days=args.retention_days,
        alerts_stream=args.alerts_stream,
        webhook_url=args.webhook,
    )
    run_monitor(
        args.stream,
        args.store,
        references=references or None,
        config=config,
        serve=args.serve,
        host=args.host,
        port=args.port,
        duration=args.duration,
    )
    return 0
