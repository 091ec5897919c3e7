"""FunctionSpec: the serving spec plus what only deployment needs, and its checked values.

``ServingFunction``'s builder methods check each value where it is given, with a message
naming the value, what was expected and the fix, rather than at deploy time: nuctl silently
drops unknown keys, and the processor fails on a wrong type only when it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from nuserve.errors import ConfigError
from nuserve.nuclio.spec_env import SPEC_ENV
from nuserve.spec.serving import ServingSpec

GPU = "nvidia.com/gpu"
ACK_MODES = ("enable", "explicitOnly")
"""Nuclio ``explicitAckMode`` values under which the handler acks stream events itself."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_DURATION = re.compile(r"^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
EVENT_TIMEOUT_MARGIN_S = 5.0
"""Nuclio's ``eventTimeout`` is ``request_timeout`` plus this: nuserve answers its JSON 504
first, and Nuclio (which restarts the worker) steps in only when the handler itself is stuck."""
_QUANTITY = re.compile(r"^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")


@dataclass
class FunctionSpec(ServingSpec):
    """The serving spec plus what only deployment needs (written into function.yaml)."""

    image: str | None = None
    """A base image for the Nuclio build (``spec.build.baseImage``); Nuclio's default if None."""
    env: dict[str, Any] = field(default_factory=dict)
    """Environment variables: a value, or ``{"secretKeyRef": {"name", "key"}}``."""
    build_commands: list[str] = field(default_factory=list)
    """Extra build commands run after nuserve is installed."""
    wheel_dir: str | None = None
    """A directory of wheels in the code directory (``fn.build(dir)`` writes ``wheels``): the
    build installs nuserve from it, never from an index; ``None`` installs nuserve by name."""
    offline: bool = False
    """With ``wheel_dir``: every package comes from it (``pip install --no-index``), so the
    build needs no index at all; else only nuserve does and its dependencies come from the
    index the image's pip uses."""
    min_replicas: int = 1
    max_replicas: int = 4
    readiness_timeout: int = 120
    """Seconds Nuclio waits for ``init_context`` (model loading) before giving up."""
    event_timeout: str | None = None
    """Nuclio's per-event timeout, a duration such as ``"30s"``; ``None`` follows
    ``request_timeout`` (plus ``EVENT_TIMEOUT_MARGIN_S``), or sets none."""
    http_workers: int | None = None
    """``numWorkers`` of the HTTP trigger; ``None``: one per CPU of ``resources``
    (``nuserve.nuclio.trigger_defaults``)."""
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Triggers besides the HTTP one, in Nuclio's form (``add_kafka_trigger`` builds them)."""
    volumes: list[dict[str, Any]] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    """Packages pip installs in the image; one naming nuserve replaces ``nuserve==<version>``."""
    runtime: str = "python:3.11"
    handler: str | None = None
    """What Nuclio calls: ``handler.py`` at the code root (or ``nuserve.nuclio:handler``);
    ``None``: ``handler:handler_async`` for an async graph, else ``handler:handler``."""
    annotations: dict[str, str] = field(default_factory=dict)
    """``metadata.annotations`` (kafka explicit ack adds the static-allocation one itself)."""
    http_batch_size: int | None = None
    """Nuclio trigger batch mode on the HTTP trigger: the handler gets up to this many events;
    ``0``: off; ``None``: on when a model batches (its ``max_batch_size``)."""
    http_batch_timeout: str | None = None
    """How long a batch waits to fill (a Go duration)."""
    http_attributes: dict[str, Any] = field(default_factory=dict)
    """More HTTP trigger attributes (``port``, ``serviceType``, ``ingresses``, ...)."""

    def serving_spec(self) -> ServingSpec:
        """The serving part alone; class objects are kept (``to_dict`` names them)."""
        values = {f.name: getattr(self, f.name) for f in fields(ServingSpec)}
        graph = self.graph.copy() if self.graph is not None else None
        values.update(graph=graph, parameters=dict(self.parameters))
        values["ack_triggers"] = self.explicit_ack_triggers()
        return ServingSpec(**values)

    def explicit_ack_triggers(self) -> list[str]:
        """``ack_triggers`` and the triggers whose ``explicitAckMode`` is on, sorted."""
        named = [n for n, t in self.triggers.items() if t.get("explicitAckMode") in ACK_MODES]
        return sorted({*self.ack_triggers, *named})


# --------------------------------------------------------------------------- values


def dns_label(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        suggestion = re.sub(r"[^a-z0-9-]+", "-", str(value).lower()).strip("-")[:63] or "fn"
        raise ConfigError(
            f"{what} {value!r} is not a valid Kubernetes name (lowercase letters, digits and "
            f"'-', at most 63, starting and ending with a letter or digit); use e.g. "
            f"{suggestion!r}"
        )
    return value


def positive_int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum} (got {value!r})")
    return value


def one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{what} must be one of {', '.join(map(repr, allowed))} (got {value!r})")
    return str(value)


def text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what} must be a non-empty string (got {value!r})")
    return value


def duration(value: Any, what: str) -> str:
    """A Go duration: text such as ``"30s"`` or ``"10ms"``, or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return f"{value:.9f}".rstrip("0").rstrip(".") + "s"
    if isinstance(value, str) and _DURATION.match(value) and re.search(r"[1-9]", value):
        return value
    raise ConfigError(
        f'{what} must be a positive Go duration such as "30s", "500ms" or "1m30s", or a '
        f"number of seconds (got {value!r})"
    )


def seconds(value: Any, what: str) -> float:
    """A duration (Go text such as ``"30s"``, or a number of seconds) in seconds."""
    text = duration(value, what)
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def event_timeout(spec: FunctionSpec) -> str | None:
    """Nuclio's ``eventTimeout``: the one set, else ``request_timeout`` plus the margin.

    One set below ``request_timeout`` is refused: Nuclio would restart the worker before
    nuserve could answer its 504.
    """
    if spec.event_timeout is None:
        return derived_event_timeout(spec.request_timeout)
    text = duration(spec.event_timeout, "event_timeout")
    if spec.request_timeout is not None and seconds(text, "event_timeout") < spec.request_timeout:
        raise ConfigError(
            f"event_timeout {text} is shorter than request_timeout {spec.request_timeout:g}s: "
            "Nuclio would restart the worker before nuserve answers 504; leave event_timeout "
            "unset (it follows request_timeout) or make it longer"
        )
    return text


def derived_event_timeout(request_timeout: float | None) -> str | None:
    """The ``eventTimeout`` that ``request_timeout`` alone gives (``None`` for none)."""
    if request_timeout is None:
        return None
    return duration(request_timeout + EVENT_TIMEOUT_MARGIN_S, "request_timeout")


def quantity(value: Any, what: str) -> str:
    """A Kubernetes quantity (``"500m"``, ``"2"``, ``"4Gi"``) as text."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    result = str(value) if number else value
    if not isinstance(result, str) or not _QUANTITY.match(result):
        raise ConfigError(
            f'{what} must be a Kubernetes quantity such as "500m", "2", "512Mi" or "4Gi" '
            f"(got {value!r})"
        )
    return result


def env_name(name: Any) -> str:
    if not isinstance(name, str) or not _ENV_NAME.match(name):
        raise ConfigError(
            f"environment variable name {name!r} is not valid (letters, digits, '_', '-' or "
            "'.', not starting with a digit)"
        )
    if name == SPEC_ENV:
        raise ConfigError(f"{SPEC_ENV} is reserved: to_yaml() writes the serving spec there")
    return name


def env_value(value: Any, name: str) -> str:
    """Nuclio env values are strings: numbers become their text, booleans true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConfigError(
        f"env {name!r} must be a string, number or boolean (got {type(value).__name__}); "
        "use set_env_from_secret() for secrets"
    )


# --------------------------------------------------------------------------- volumes, resources


def volume(
    name: str,
    mount_path: str,
    host_path: str | None = None,
    pvc: str | None = None,
    config_map: str | None = None,
    secret: str | None = None,
    read_only: bool = False,
) -> dict[str, Any]:
    """A ``{volume, volumeMount}`` entry with exactly one source."""
    dns_label(name, "volume name")
    if not isinstance(mount_path, str) or not mount_path.startswith("/"):
        raise ConfigError(
            f"volume {name!r} mount_path must be an absolute path (got {mount_path!r})"
        )
    given = {
        "hostPath": ("path", host_path),
        "persistentVolumeClaim": ("claimName", pvc),
        "configMap": ("name", config_map),
        "secret": ("secretName", secret),
    }
    sources = {k: v for k, v in given.items() if v[1] is not None}
    if len(sources) != 1:
        raise ConfigError(
            f"volume {name!r} needs exactly one source: host_path=, pvc=, config_map= or "
            f"secret= (got {len(sources)})"
        )
    ((kind, (key, value)),) = sources.items()
    source = {key: text(value, f"volume {name!r} source")}
    mount: dict[str, Any] = {"name": name, "mountPath": mount_path}
    if read_only:
        mount["readOnly"] = True
    return {"volume": {"name": name, kind: source}, "volumeMount": mount}


def set_resources(
    resources: dict[str, dict[str, str]],
    section: str,
    mem: str | int | None = None,
    cpu: str | int | float | None = None,
    gpus: int | None = None,
    gpu_type: str = GPU,
) -> None:
    """Set memory, cpu and GPU count of ``resources[section]``; 0 GPUs removes the GPU.

    All values are checked before any is stored, so a refused call changes nothing.
    """
    part = dict(resources.get(section) or {})
    if mem is not None:
        part["memory"] = quantity(mem, f"{section} mem")
    if cpu is not None:
        part["cpu"] = quantity(cpu, f"{section} cpu")
    if gpus is not None:
        if not isinstance(gpu_type, str) or "/" not in gpu_type:
            raise ConfigError(f"gpu_type must be a resource name like {GPU!r} (got {gpu_type!r})")
        if positive_int(gpus, "gpus", 0):
            part[gpu_type] = str(gpus)
        else:
            part.pop(gpu_type, None)
    if part:
        resources[section] = part
    else:
        resources.pop(section, None)
