"""``monitor_function``: the monitor as its own Nuclio function (a function.yaml).

A ``kafka-cluster`` trigger (or ``v3ioStream`` for ``v3io://``) on the tracking stream
calls ``nuserve.monitoring.nuclio:handler``; the store URL, references and configuration
travel in ``NUSERVE_MONITOR``. One replica and one worker: the open windows are in memory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from nuserve.errors import ConfigError
from nuserve.monitoring.config import MonitorConfig
from nuserve.monitoring.nuclio import ENV
from nuserve.nuclio.triggers import kafka_trigger, v3io_stream_trigger
from nuserve.streams.url import SCHEMES, parse_stream_url
from nuserve.version import __version__

HANDLER = "nuserve.monitoring.nuclio:handler"


def monitor_function(
    stream: str,
    store_url: str,
    *,
    name: str = "nuserve-monitor",
    references: str | Mapping[str, str] | None = None,
    config: MonitorConfig | None = None,
    consumer_group: str = "nuserve-monitor",
    initial_offset: str = "earliest",
    requirements: list[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The function.yaml (as a dict) of a monitor consuming ``stream`` into ``store_url``.

    ``references`` are paths inside the function's image (copy the model specs in, or
    mount them). ``env`` adds variables (``PGPASSWORD``, ``V3IO_ACCESS_KEY``...; prefer a
    secret in production).
    """
    url = parse_stream_url(stream, "monitor stream", SCHEMES)
    if url.scheme == "kafka":
        trigger = kafka_trigger(
            "tracking", list(url.brokers), [url.topic], consumer_group, initial_offset, workers=1
        )
    elif url.scheme == "v3io":
        trigger = v3io_stream_trigger("tracking", stream, consumer_group, initial_offset, workers=1)
    else:
        raise ConfigError(
            f"a monitor function consumes kafka:// or v3io:// streams (got {stream!r}); "
            "for file:// run `nuserve monitor --stream ...` instead"
        )
    settings = {
        "store": store_url,
        "references": references,
        "config": (config or MonitorConfig()).to_dict(),
    }
    variables = [{"name": ENV, "value": json.dumps(settings, separators=(",", ":"))}]
    variables += [{"name": k, "value": v} for k, v in (env or {}).items()]
    packages = [f"'nuserve[monitor-pg]=={__version__}'", *(f"'{r}'" for r in requirements or [])]
    return {
        "apiVersion": "nuclio.io/v1",
        "kind": "NuclioFunction",
        "metadata": {"name": name},
        "spec": {
            "runtime": "python:3.11",
            "handler": HANDLER,
            "env": variables,
            "build": {"commands": [f"pip install {' '.join(packages)}"]},
            "minReplicas": 1,
            "maxReplicas": 1,
            "triggers": {"tracking": trigger},
        },
    }


def monitor_function_yaml(stream: str, store_url: str, **options: Any) -> str:
    """``monitor_function(...)`` as function.yaml text (for ``nuctl deploy --file``)."""
    return yaml.safe_dump(monitor_function(stream, store_url, **options), sort_keys=False)
