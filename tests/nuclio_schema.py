"""Checker for Nuclio ``function.yaml`` documents.

``check_function_config(doc)`` returns a list of human-readable problems (empty when the
document is valid).  Every problem names the offending path, e.g. ``spec.triggers.http.workers``.

Why this exists: nuctl reads ``function.yaml`` with ``ghodss/yaml`` (YAML -> JSON) followed by Go's
``encoding/json`` into ``functionconfig.Config``, and each trigger's ``attributes`` map is later
decoded with ``mapstructure`` by the processor.  Both decoders *silently drop* keys they do not
know, and both fail hard (at deploy or at processor start) on wrong value types.  So a typo such as
``spec.minReplica`` or a trigger ``workers:`` key is simply lost.  This module keeps an allow-list
of the documented keys per object, reports everything else with a closest-match suggestion, and
checks value types / enumerations the way the Go structs would.

Sources used (update the tables below from these when Nuclio changes):

Nuclio documentation
  * Function-configuration reference (metadata, spec, triggers.(name).*, build.*):
    https://docs.nuclio.io/en/latest/reference/function-configuration/function-configuration-reference.html
    (repo file docs/reference/function-configuration/function-configuration-reference.md)
  * HTTP trigger attributes:
    https://docs.nuclio.io/en/latest/reference/triggers/http.html
  * Kafka trigger (kind ``kafka-cluster``) attributes, explicit ack, configuration example:
    https://docs.nuclio.io/en/latest/reference/triggers/kafka.html
  * v3ioStream trigger, explicit ack:
    https://docs.nuclio.io/en/latest/reference/triggers/v3iostream.html
  * Cron trigger: https://docs.nuclio.io/en/latest/reference/triggers/cron.html
  * RabbitMQ trigger: https://docs.nuclio.io/en/latest/reference/triggers/rabbitmq.html
  * Event batching (http + python only):
    https://github.com/nuclio/nuclio/blob/development/docs/reference/function-configuration/batching.md
  * Async mode: https://github.com/nuclio/nuclio/blob/development/docs/reference/function-configuration/async-mode.md

Nuclio Go source (exact JSON / mapstructure field names)
  * https://github.com/nuclio/nuclio/blob/development/pkg/functionconfig/types.go
    (Config, Meta, Spec, Build, Trigger, BatchConfiguration, AsyncConfig, ExplicitAckMode)
  * https://github.com/nuclio/nuclio/blob/development/pkg/functionconfig/reader.go
    (ghodss/yaml + encoding/json: unknown keys dropped, key match is case-insensitive)
  * https://github.com/nuclio/nuclio/blob/development/pkg/processor/trigger/http/types.go
  * https://github.com/nuclio/nuclio/blob/development/pkg/processor/trigger/kafka/types.go
    (explicit ack is rejected unless the worker allocation mode is ``static``; the mode is read
    from the ``nuclio.io/kafka-worker-allocation-mode`` annotation before attributes are decoded)
  * https://github.com/nuclio/nuclio/blob/development/pkg/processor/trigger/v3iostream/types.go
  * https://github.com/nuclio/nuclio-jupyter/blob/development/nuclio/triggers.py
    (attribute names the Python SDK emits for kafka-cluster / v3ioStream / cron / http)

Kubernetes API (``spec.env``, ``spec.volumes``, ``spec.resources`` embed core/v1 types)
  * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/
  * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/

Deliberate project restrictions (stricter than Nuclio itself):
  * ``spec.runtime`` must be one of the python runtimes the current reference lists
    (python:3.10, python:3.11, python:3.12; python:3.9 was dropped from the list).
  * ``spec.env`` entries may only be ``{name, value}`` or
    ``{name, valueFrom: {secretKeyRef: {name, key[, optional]}}}``.
  * ``metadata.name`` is required; volumes must name both ``volume`` and ``volumeMount``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = [
    "PYTHON_RUNTIMES",
    "TRIGGER_KINDS",
    "check_function_config",
]

Check = Callable[[Any, str, list[str]], None]

NUCTL = "nuctl"
PROCESSOR = "the Nuclio processor"

# Runtimes listed by the current function-configuration reference (`spec.runtime` row):
# golang, python:3.10, python:3.11, python:3.12, shell, java, nodejs.  This project only deploys
# python functions.
PYTHON_RUNTIMES = ("python:3.10", "python:3.11", "python:3.12")
OTHER_DOCUMENTED_RUNTIMES = ("golang", "shell", "java", "nodejs")

# Trigger kinds documented under docs/reference/triggers (kind strings as used in the examples).
TRIGGER_KINDS = (
    "http",
    "cron",
    "kafka-cluster",
    "v3ioStream",
    "rabbit-mq",
    "nats",
    "natsjetstream",
    "kinesis",
    "eventhub",
    "mqtt",
)
_KIND_ALIASES = {"kafka": "kafka-cluster", "v3io-stream": "v3ioStream", "rabbitmq": "rabbit-mq"}

_STREAM_KINDS = ("kafka-cluster", "v3ioStream")
_BATCH_KINDS = ("http",)  # functionconfig.triggerKindsSupportBatching
_ASYNC_KINDS = ("http", "rabbit-mq")  # async-mode.md + rabbitmq.md "Asynchronous Mode"

_ALLOCATION_ANNOTATION = {
    "kafka-cluster": "nuclio.io/kafka-worker-allocation-mode",
    "v3ioStream": "nuclio.io/v3iostream-worker-allocation-mode",
}

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_PY_HANDLER = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
# Go time.ParseDuration: one or more <number><unit>, optional sign; a bare "0" is also accepted.
_GO_DURATION = re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")
_DURATION_UNIT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
# Kubernetes resource.Quantity (non-negative)
_QUANTITY = re.compile(
    r"^\+?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$"
)
_GPU = "nvidia.com/gpu"
_STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage", _GPU)


# --------------------------------------------------------------------------- helpers


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _expect(ok: bool, value: object, path: str, what: str, out: list[str]) -> bool:
    if not ok:
        out.append(f"{path}: expected {what}, got {_type_name(value)} {value!r}")
    return ok


def _suggest(key: str, allowed: Collection[str]) -> str | None:
    by_lower = {name.lower(): name for name in allowed}
    hits = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[hits[0]] if hits else None


def _check_keys(
    obj: Mapping[Any, Any],
    path: str,
    allowed: Collection[str],
    out: list[str],
    *,
    ignorer: str = NUCTL,
    aliases: Mapping[str, str] | None = None,
) -> None:
    """Report keys of ``obj`` that are not in ``allowed`` (the decoder would drop them)."""
    by_lower = {name.lower(): name for name in allowed}
    for key in obj:
        if not isinstance(key, str):
            out.append(f"{_join(path, repr(key))}: keys must be strings, got {_type_name(key)}")
            continue
        if key in allowed:
            continue
        where = _join(path, key)
        canonical = by_lower.get(key.lower())
        if canonical is not None:
            out.append(
                f"key '{where}' must be spelled '{canonical}' (the documented name; only Go's "
                "case-insensitive decoding makes this spelling work)"
            )
            continue
        hint = (aliases or {}).get(key) or _suggest(key, allowed)
        suffix = f"; did you mean '{hint}'?" if hint else ""
        out.append(f"unknown key '{where}' ({ignorer} ignores it{suffix})")


def _duration_seconds(text: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_UNIT.findall(text))


# --------------------------------------------------------------------------- value checks


def _any(_value: Any, _path: str, _out: list[str]) -> None:
    return None


def _str(value: Any, path: str, out: list[str]) -> None:
    _expect(isinstance(value, str), value, path, "a string", out)


def _nonempty_str(value: Any, path: str, out: list[str]) -> None:
    if _expect(isinstance(value, str), value, path, "a string", out) and not value.strip():
        out.append(f"{path}: must not be empty")


def _bool(value: Any, path: str, out: list[str]) -> None:
    _expect(isinstance(value, bool), value, path, "a boolean (true/false)", out)


def _int(minimum: int | None = None, maximum: int | None = None) -> Check:
    def check(value: Any, path: str, out: list[str]) -> None:
        if not _expect(_is_int(value), value, path, "an integer", out):
            return
        if minimum is not None and value < minimum:
            out.append(f"{path}: must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            out.append(f"{path}: must be <= {maximum}, got {value}")

    return check


def _duration(*, positive: bool = True) -> Check:
    def check(value: Any, path: str, out: list[str]) -> None:
        what = 'a Go duration string such as "30s", "500ms" or "1m30s"'
        if not _expect(isinstance(value, str), value, path, what, out):
            return
        if value != "0" and not _GO_DURATION.match(value):
            out.append(f'{path}: {value!r} is not a Go duration (expected e.g. "30s", "1m")')
            return
        if positive and _duration_seconds(value) <= 0:
            out.append(f"{path}: duration must be > 0, got {value!r}")

    return check


def _enum(values: Collection[str], *, case_insensitive: bool = False) -> Check:
    def check(value: Any, path: str, out: list[str]) -> None:
        if not _expect(isinstance(value, str), value, path, f"one of {sorted(values)}", out):
            return
        pool = {v.lower() for v in values} if case_insensitive else set(values)
        probe = value.lower() if case_insensitive else value
        if probe not in pool:
            hint = _suggest(value, values)
            suffix = f"; did you mean '{hint}'?" if hint else ""
            out.append(f"{path}: {value!r} is not one of {sorted(values)}{suffix}")

    return check


def _list_of(item: Check, *, nonempty: bool = False) -> Check:
    def check(value: Any, path: str, out: list[str]) -> None:
        if not _expect(isinstance(value, list), value, path, "a list", out):
            return
        if nonempty and not value:
            out.append(f"{path}: must not be an empty list")
        for index, element in enumerate(value):
            item(element, f"{path}[{index}]", out)

    return check


def _str_list(*, nonempty: bool = False) -> Check:
    return _list_of(_str, nonempty=nonempty)


def _map(value: Any, path: str, out: list[str]) -> None:
    _expect(isinstance(value, Mapping), value, path, "a map", out)


def _map_of(item: Check) -> Check:
    def check(value: Any, path: str, out: list[str]) -> None:
        if not _expect(isinstance(value, Mapping), value, path, "a map", out):
            return
        for key, element in value.items():
            if not isinstance(key, str):
                out.append(f"{_join(path, repr(key))}: keys must be strings")
                continue
            item(element, _join(path, key), out)

    return check


_str_map = _map_of(_str)


def _obj(
    fields: Mapping[str, Check],
    *,
    ignorer: str = NUCTL,
    required: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> Check:
    def check(value: Any, path: str, out: list[str]) -> None:
        if not _expect(isinstance(value, Mapping), value, path, "a map", out):
            return
        _check_keys(value, path, fields.keys(), out, ignorer=ignorer, aliases=aliases)
        for name in required:
            if name not in value:
                out.append(f"{_join(path, name)}: required key is missing")
        for name, sub in fields.items():
            if name in value:
                sub(value[name], _join(path, name), out)

    return check


# --------------------------------------------------------------------------- metadata


def _dns_label(value: Any, path: str, out: list[str]) -> None:
    if not _expect(isinstance(value, str), value, path, "a string", out):
        return
    if len(value) > 63:
        out.append(f"{path}: {value!r} is longer than 63 characters (DNS-1123 label)")
    if not _DNS1123_LABEL.match(value):
        out.append(
            f"{path}: {value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit)"
        )


_METADATA = _obj(
    {
        "name": _dns_label,
        "namespace": _dns_label,
        "labels": _str_map,
        "annotations": _str_map,
        "resourceVersion": _str,
    },
    required=("name",),
)


# --------------------------------------------------------------------------- spec pieces


def _runtime(value: Any, path: str, out: list[str]) -> None:
    if not _expect(isinstance(value, str), value, path, "a string", out):
        return
    if value in PYTHON_RUNTIMES:
        return
    if value in OTHER_DOCUMENTED_RUNTIMES:
        out.append(f"{path}: {value!r} is not a python runtime; use one of {list(PYTHON_RUNTIMES)}")
    elif value.startswith("python"):
        out.append(
            f"{path}: {value!r} is not a python runtime Nuclio documents; use one of "
            f"{list(PYTHON_RUNTIMES)}"
        )
    else:
        out.append(f"{path}: unknown runtime {value!r}; use one of {list(PYTHON_RUNTIMES)}")


def _handler(value: Any, path: str, out: list[str]) -> None:
    if not _expect(isinstance(value, str), value, path, "a string 'module:function'", out):
        return
    if not _PY_HANDLER.match(value):
        out.append(
            f"{path}: {value!r} is not of the form 'module:function' (dotted module path, "
            "a colon, then the function name)"
        )


_SECRET_KEY_REF = _obj(
    {"name": _nonempty_str, "key": _nonempty_str, "optional": _bool}, required=("name", "key")
)


def _env(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, Mapping):
        out.append(
            f"{path}: must be a list of {{name, value}} entries, not a map (nuctl cannot decode "
            "a map into []EnvVar); write entries like {name: KEY, value: 'v'}"
        )
        return
    if not _expect(isinstance(value, list), value, path, "a list of {name, value} entries", out):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(value):
        where = f"{path}[{index}]"
        if not _expect(isinstance(entry, Mapping), entry, where, "a map {name, value}", out):
            continue
        _check_keys(entry, where, ("name", "value", "valueFrom"), out)
        name = entry.get("name")
        if "name" not in entry:
            out.append(f"{where}.name: required key is missing")
        elif _expect(isinstance(name, str), name, f"{where}.name", "a string", out):
            if not _ENV_NAME.match(name):
                out.append(f"{where}.name: {name!r} is not a valid environment variable name")
            if name in seen:
                out.append(
                    f"{where}.name: duplicate environment variable {name!r} (first at "
                    f"{path}[{seen[name]}])"
                )
            seen.setdefault(name, index)
        has_value, has_from = "value" in entry, "valueFrom" in entry
        if has_value and has_from:
            out.append(f"{where}: set either 'value' or 'valueFrom', not both")
        elif not has_value and not has_from:
            out.append(f"{where}: needs 'value' or 'valueFrom.secretKeyRef'")
        if has_value:
            _expect(
                isinstance(entry["value"], str),
                entry["value"],
                f"{where}.value",
                "a string (quote numbers and booleans in YAML)",
                out,
            )
        if has_from:
            source = entry["valueFrom"]
            source_path = f"{where}.valueFrom"
            if not _expect(isinstance(source, Mapping), source, source_path, "a map", out):
                continue
            _check_keys(source, source_path, ("secretKeyRef",), out)
            if "secretKeyRef" not in source:
                out.append(f"{source_path}: only 'secretKeyRef' sources are allowed here")
            else:
                _SECRET_KEY_REF(source["secretKeyRef"], f"{source_path}.secretKeyRef", out)


def _quantity(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, bool) or not (isinstance(value, str) or _is_number(value)):
        out.append(
            f'{path}: expected a quantity string such as "500m" or "1Gi" (or a number), got '
            f"{_type_name(value)} {value!r}"
        )
        return
    if _is_number(value):
        if value < 0:
            out.append(f"{path}: quantity must not be negative, got {value}")
        return
    if not _QUANTITY.match(value):
        out.append(f"{path}: {value!r} is not a Kubernetes quantity (e.g. '500m', '2', '1Gi')")


def _resource_list(value: Any, path: str, out: list[str]) -> None:
    if not _expect(isinstance(value, Mapping), value, path, "a map of resource -> quantity", out):
        return
    for key, quantity in value.items():
        if not isinstance(key, str):
            out.append(f"{_join(path, repr(key))}: resource names must be strings")
            continue
        where = _join(path, key)
        known = key in _STANDARD_RESOURCES or key.startswith("hugepages-")
        if not known:
            hint = _suggest(key, _STANDARD_RESOURCES)
            if "/" not in key or hint == _GPU:
                suffix = f"; did you mean '{hint}'?" if hint else ""
                out.append(f"unknown resource '{where}' (Kubernetes rejects it{suffix})")
                continue
        _quantity(quantity, where, out)
        if key == _GPU and not _gpu_count_ok(quantity):
            out.append(f"{where}: GPU count must be a whole number, got {quantity!r}")


def _gpu_count_ok(quantity: Any) -> bool:
    if _is_int(quantity):
        return True
    return isinstance(quantity, str) and quantity.lstrip("+").isdigit()


def _resources(value: Any, path: str, out: list[str]) -> None:
    _obj({"requests": _resource_list, "limits": _resource_list, "claims": _any})(value, path, out)
    if not isinstance(value, Mapping):
        return
    requests, limits = value.get("requests"), value.get("limits")
    if isinstance(requests, Mapping) and _GPU in requests:
        if not isinstance(limits, Mapping) or _GPU not in limits:
            out.append(
                f"{path}.limits.{_GPU}: must be set when requests.{_GPU} is set "
                "(extended resources cannot be overcommitted)"
            )
        elif str(limits[_GPU]) != str(requests[_GPU]):
            out.append(
                f"{path}.requests.{_GPU}: must equal limits.{_GPU} "
                f"({requests[_GPU]!r} != {limits[_GPU]!r})"
            )


_VOLUME_SOURCES: dict[str, Check] = {
    "hostPath": _obj({"path": _nonempty_str, "type": _str}, required=("path",)),
    "emptyDir": _obj({"medium": _str, "sizeLimit": _quantity}),
    "configMap": _obj(
        {
            "name": _nonempty_str,
            "items": _list_of(_map),
            "defaultMode": _int(0, 0o777),
            "optional": _bool,
        },
        required=("name",),
        aliases={"secretName": "name", "configMapName": "name"},
    ),
    "secret": _obj(
        {
            "secretName": _nonempty_str,
            "items": _list_of(_map),
            "defaultMode": _int(0, 0o777),
            "optional": _bool,
        },
        required=("secretName",),
        aliases={"name": "secretName"},
    ),
    "persistentVolumeClaim": _obj(
        {"claimName": _nonempty_str, "readOnly": _bool},
        required=("claimName",),
        aliases={"name": "claimName"},
    ),
    "flexVolume": _obj(
        {
            "driver": _nonempty_str,
            "fsType": _str,
            "secretRef": _map,
            "readOnly": _bool,
            "options": _str_map,
        },
        required=("driver",),
    ),
    "nfs": _obj(
        {"server": _nonempty_str, "path": _nonempty_str, "readOnly": _bool},
        required=("server", "path"),
    ),
    "projected": _map,
    "downwardAPI": _map,
    "csi": _map,
    "ephemeral": _map,
}

_VOLUME_MOUNT = _obj(
    {
        "name": _dns_label,
        "mountPath": _nonempty_str,
        "readOnly": _bool,
        "subPath": _str,
        "subPathExpr": _str,
        "mountPropagation": _enum(("None", "HostToContainer", "Bidirectional")),
        "recursiveReadOnly": _enum(("Disabled", "IfPossible", "Enabled")),
    },
    required=("name", "mountPath"),
)


def _volumes(value: Any, path: str, out: list[str]) -> None:
    if not _expect(isinstance(value, list), value, path, "a list of {volume, volumeMount}", out):
        return
    names: dict[str, int] = {}
    mount_paths: dict[str, int] = {}
    for index, entry in enumerate(value):
        where = f"{path}[{index}]"
        if not _expect(isinstance(entry, Mapping), entry, where, "a map", out):
            continue
        _check_keys(entry, where, ("volume", "volumeMount"), out)
        for part in ("volume", "volumeMount"):
            if part not in entry:
                out.append(f"{where}.{part}: required key is missing")
        volume, mount = entry.get("volume"), entry.get("volumeMount")
        if "volume" in entry:
            _check_volume(volume, f"{where}.volume", out)
        if "volumeMount" in entry:
            _VOLUME_MOUNT(mount, f"{where}.volumeMount", out)
        volume_name = volume.get("name") if isinstance(volume, Mapping) else None
        mount_name = mount.get("name") if isinstance(mount, Mapping) else None
        both_named = isinstance(volume_name, str) and isinstance(mount_name, str)
        if both_named and volume_name != mount_name:
            out.append(
                f"{where}.volumeMount.name: {mount_name!r} does not match "
                f"{where}.volume.name {volume_name!r}"
            )
        if isinstance(volume_name, str):
            if volume_name in names:
                out.append(f"{where}.volume.name: duplicate volume name {volume_name!r}")
            names.setdefault(volume_name, index)
        mount_path = mount.get("mountPath") if isinstance(mount, Mapping) else None
        if isinstance(mount_path, str):
            if not mount_path.startswith("/"):
                out.append(f"{where}.volumeMount.mountPath: {mount_path!r} must be absolute")
            if mount_path in mount_paths:
                out.append(f"{where}.volumeMount.mountPath: {mount_path!r} is mounted twice")
            mount_paths.setdefault(mount_path, index)


def _check_volume(value: Any, path: str, out: list[str]) -> None:
    if not _expect(isinstance(value, Mapping), value, path, "a map", out):
        return
    _check_keys(value, path, ("name", *_VOLUME_SOURCES), out)
    if "name" not in value:
        out.append(f"{path}.name: required key is missing")
    else:
        _dns_label(value["name"], f"{path}.name", out)
    sources = [key for key in _VOLUME_SOURCES if key in value]
    if not sources:
        out.append(
            f"{path}: needs exactly one volume source (e.g. hostPath, configMap, secret, "
            "persistentVolumeClaim, flexVolume)"
        )
    elif len(sources) > 1:
        out.append(f"{path}: has more than one volume source {sources}")
    for key in sources:
        _VOLUME_SOURCES[key](value[key], _join(path, key), out)


_DIRECTIVE = _obj({"kind": _nonempty_str, "value": _str}, required=("kind", "value"))


def _directives(value: Any, path: str, out: list[str]) -> None:
    _obj({"preCopy": _list_of(_DIRECTIVE), "postCopy": _list_of(_DIRECTIVE)})(value, path, out)


_BUILD = _obj(
    {
        # Go tags of functionconfig.Build.  Note: the docs table spells it `noBaseImagePull`,
        # but the JSON tag is `noBaseImagesPull`; the docs spelling is silently dropped.
        "path": _str,
        "functionSourceCode": _str,
        "functionConfigPath": _str,
        "tempDir": _str,
        "registry": _str,
        "baseImageRegistry": _str,
        "imagePullSecrets": _str_list(),
        "image": _str,
        "noBaseImagesPull": _bool,
        "noCache": _bool,
        "noCleanup": _bool,
        "baseImage": _str,
        "commands": _str_list(),
        "directives": _directives,
        "scriptPaths": _str_list(),
        "addedPaths": _str_map,
        "dependencies": _str_list(),
        "onbuildImage": _str,
        "offline": _bool,
        "runtimeAttributes": _map,
        "codeEntryType": _enum(("archive", "git", "github", "image", "s3", "sourceCode")),
        "codeEntryAttributes": _map,
        "timestamp": _int(0),
        "buildTimeoutSeconds": _int(1),
        "mode": _enum(("neverBuild", "alwaysBuild")),
        "args": _str_map,
        "flags": _str_list(),
        "builderServiceAccount": _str,
    }
)

_LOGGER_SINK = _obj({"level": _enum(("debug", "info", "warn", "error")), "sink": _str})


# --------------------------------------------------------------------------- triggers

_BATCH = _obj(
    {"mode": _enum(("enable", "disable")), "batchSize": _int(1), "timeout": _duration()},
)
_ASYNC = _obj(
    {
        "minConnectionsNumber": _int(1),
        "maxConnectionsNumber": _int(1),
        "connectionCreationMode": _enum(("static", "dynamic")),
        "connectionAvailabilityTimeout": _duration(),
        "establishConnectionTimeout": _duration(),
    }
)
_EXPLICIT_ACK_MODES = ("enable", "disable", "explicitOnly")

# functionconfig.Trigger JSON tags (numWorkers replaces the deprecated maxWorkers).
_TRIGGER_FIELDS: dict[str, Check] = {
    "class": _str,
    "kind": _any,  # checked in _check_trigger
    "name": _str,
    "disabled": _bool,
    "numWorkers": _int(1),
    "maxWorkers": _int(1),
    "url": _str,
    "paths": _str_list(),
    "username": _str,
    "password": _str,
    "secret": _str,
    "partitions": _list_of(_map),
    "annotations": _str_map,
    "workerTerminationTimeout": _duration(),
    "workerAvailabilityTimeoutMilliseconds": _int(0),
    "workerAllocatorName": _str,
    "explicitAckMode": _enum(_EXPLICIT_ACK_MODES),
    "waitExplicitAckDuringRebalanceTimeout": _duration(),
    "batch": _BATCH,
    "total_tasks": _int(0),
    "max_task_allocation": _int(0),
    "attributes": _any,  # checked per kind in _check_trigger
    "mode": _enum(("sync", "async")),
    "async": _ASYNC,
}
_TRIGGER_ALIASES = {"workers": "numWorkers", "batching": "batch", "ackMode": "explicitAckMode"}

_ALLOCATION_MODE = _enum(("pool", "static"))

_HTTP_ATTRIBUTES = _obj(
    {
        "port": _int(1, 65535),
        "ingresses": _map_of(
            _obj(
                {
                    "host": _str,
                    "hostTemplate": _str,
                    "paths": _str_list(),
                    "pathType": _enum(("Exact", "Prefix", "ImplementationSpecific")),
                    "secretName": _str,
                },
                ignorer=PROCESSOR,
            )
        ),
        "readBufferSize": _int(1),
        "maxRequestBodySize": _int(1),
        "reduceMemoryUsage": _bool,
        "cors": _obj(
            {
                "enabled": _bool,
                "allowOrigins": _str_list(),
                "allowMethods": _str_list(),
                "allowHeaders": _str_list(),
                "exposeHeaders": _str_list(),
                "allowCredentials": _bool,
                "preflightMaxAgeSeconds": _int(-1),
            },
            ignorer=PROCESSOR,
        ),
        "serviceType": _enum(("ClusterIP", "NodePort", "LoadBalancer"), case_insensitive=True),
        "disablePortPublishing": _bool,
        "streamingFlushPeriod": _duration(),
        "authenticationMode": _enum(("none", "api", "browser", "basicAuth")),
        "authentication": _obj(
            {"basicAuth": _obj({"username": _str, "password": _str}, ignorer=PROCESSOR)},
            ignorer=PROCESSOR,
        ),
    },
    ignorer=PROCESSOR,
)

_KAFKA_ATTRIBUTES = _obj(
    {
        "brokers": _str_list(nonempty=True),
        "topics": _str_list(nonempty=True),
        "partitions": _list_of(_int(0)),
        "consumerGroup": _nonempty_str,
        "initialOffset": _enum(("earliest", "latest"), case_insensitive=True),
        "balanceStrategy": _enum(("range", "roundrobin", "sticky"), case_insensitive=True),
        "version": _str,
        "sasl": _obj(
            {
                "enable": _bool,
                "handshake": _bool,
                "user": _str,
                "password": _str,
                "mechanism": _enum(
                    ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"),
                    case_insensitive=True,
                ),
                "oauth": _obj(
                    {
                        "clientID": _str,
                        "clientSecret": _str,
                        "tokenURL": _str,
                        "scopes": _str_list(),
                    },
                    ignorer=PROCESSOR,
                ),
            },
            ignorer=PROCESSOR,
            aliases={"username": "user", "enabled": "enable"},
        ),
        # The kafka doc's attribute list says `minimumVersion`, its example says `minVersion`;
        # both are accepted until the Go source can be checked.
        "tls": _obj(
            {
                "enable": _bool,
                "insecureSkipVerify": _bool,
                "minimumVersion": _str,
                "minVersion": _str,
            },
            ignorer=PROCESSOR,
            aliases={"enabled": "enable"},
        ),
        "caCert": _str,
        "accessKey": _str,
        "accessCertificate": _str,
        "secretPath": _str,
        "sessionTimeout": _duration(),
        "heartbeatInterval": _duration(),
        "maxProcessingTime": _duration(),
        "rebalanceTimeout": _duration(),
        "rebalanceRetryBackoff": _duration(),
        "retryBackoff": _duration(),
        "maxWaitTime": _duration(),
        "maxWaitHandlerDuringRebalance": _duration(),
        "adminTimeout": _duration(),
        "metadataTimeout": _duration(),
        "metadataRetryBackoff": _duration(),
        "adminRetryBackoff": _duration(),
        "netDialTimeout": _duration(),
        "netKeepAliveInterval": _duration(),
        "rebalanceRetryMax": _int(0),
        "metadataRetryMax": _int(0),
        "adminRetryMax": _int(0),
        "fetchMin": _int(0),
        "fetchDefault": _int(0),
        "fetchMax": _int(0),
        "channelBufferSize": _int(0, 256),
        "logLevel": _int(),
        "ackWindowSize": _int(0),
        "workerAllocationMode": _ALLOCATION_MODE,
    },
    ignorer=PROCESSOR,
    required=("topics", "consumerGroup"),
    aliases={
        "topic": "topics",
        "broker": "brokers",
        "groupId": "consumerGroup",
        "autoOffsetReset": "initialOffset",
    },
)

_V3IO_ATTRIBUTES = _obj(
    {
        "containerName": _nonempty_str,
        "streamPath": _nonempty_str,
        "consumerGroup": _nonempty_str,
        "seekTo": _enum(("earliest", "latest")),
        "readBatchSize": _int(1),
        "pollingIntervalMs": _int(0),
        "sessionTimeout": _duration(),
        "heartbeatInterval": _duration(),
        "sequenceNumberCommitInterval": _duration(),
        "sequenceNumberShardWaitInterval": _duration(),
        "numTransportWorkers": _int(1),
        "recordBatchSizeChan": _int(0),
        "workerAllocationMode": _ALLOCATION_MODE,
        "ackWindowSize": _int(0),
    },
    ignorer=PROCESSOR,
    aliases={"path": "streamPath", "container": "containerName", "stream": "streamPath"},
)

_CRON_ATTRIBUTES = _obj(
    {
        "schedule": _nonempty_str,
        "interval": _duration(),
        "concurrencyPolicy": _enum(("Allow", "Forbid", "Replace")),
        "jobBackoffLimit": _int(0),
        "event": _obj(
            {"body": _str, "headers": _map_of(_any)},
            ignorer=PROCESSOR,
        ),
    },
    ignorer=PROCESSOR,
)

_RABBITMQ_ATTRIBUTES = _obj(
    {
        "exchangeName": _str,
        "queueName": _str,
        "topics": _str_list(),
        "reconnectDuration": _duration(),
        "reconnectInterval": _duration(),
        "prefetchCount": _int(0),
        "durableExchange": _bool,
        "durableQueue": _bool,
        "onError": _enum(("ack", "nack")),
        "requeueOnError": _bool,
    },
    ignorer=PROCESSOR,
)

_ATTRIBUTES_BY_KIND: dict[str, Check] = {
    "http": _HTTP_ATTRIBUTES,
    "kafka-cluster": _KAFKA_ATTRIBUTES,
    "v3ioStream": _V3IO_ATTRIBUTES,
    "cron": _CRON_ATTRIBUTES,
    "rabbit-mq": _RABBITMQ_ATTRIBUTES,
}


def _check_trigger(trigger: Any, path: str, annotations: Mapping[str, Any], out: list[str]) -> None:
    if not _expect(isinstance(trigger, Mapping), trigger, path, "a map", out):
        return
    _check_keys(trigger, path, _TRIGGER_FIELDS.keys(), out, aliases=_TRIGGER_ALIASES)
    for field, check in _TRIGGER_FIELDS.items():
        if field in trigger:
            check(trigger[field], _join(path, field), out)

    kind = trigger.get("kind")
    if "kind" not in trigger:
        out.append(f"{path}.kind: required key is missing")
        kind = None
    elif not _expect(isinstance(kind, str), kind, f"{path}.kind", "a string", out):
        kind = None
    elif kind not in TRIGGER_KINDS:
        hint = _KIND_ALIASES.get(kind.lower()) or _suggest(kind, TRIGGER_KINDS)
        suffix = f"; did you mean '{hint}'?" if hint else ""
        out.append(f"{path}.kind: unknown trigger kind {kind!r}{suffix}")
        kind = None

    if "numWorkers" in trigger and "maxWorkers" in trigger:
        out.append(f"{path}: set only 'numWorkers' ('maxWorkers' is its deprecated alias)")

    attributes = trigger.get("attributes", {})
    attributes_path = f"{path}.attributes"
    if not _expect(isinstance(attributes, Mapping), attributes, attributes_path, "a map", out):
        attributes = {}
    if kind in _ATTRIBUTES_BY_KIND and "attributes" in trigger:
        _ATTRIBUTES_BY_KIND[kind](attributes, attributes_path, out)

    if kind is not None:
        _check_kind_rules(kind, trigger, attributes, path, annotations, out)


def _check_kind_rules(
    kind: str,
    trigger: Mapping[str, Any],
    attributes: Mapping[str, Any],
    path: str,
    annotations: Mapping[str, Any],
    out: list[str],
) -> None:
    if kind == "kafka-cluster":
        if "attributes" not in trigger:
            out.append(
                f"{path}.attributes: required for kind 'kafka-cluster' "
                "(topics, consumerGroup, brokers)"
            )
        elif "brokers" not in attributes and not trigger.get("url"):
            out.append(f"{path}.attributes.brokers: required (or set {path}.url)")
    elif kind == "v3ioStream":
        parts = ("containerName", "streamPath", "consumerGroup")
        present = [p for p in parts if p in attributes]
        if not trigger.get("url"):
            out.append(f"{path}.url: required for kind 'v3ioStream' (the v3io web-API URL)")
        if present and len(present) != len(parts):
            missing = [p for p in parts if p not in attributes]
            out.append(
                f"{path}.attributes: also set {missing} (containerName, streamPath and "
                "consumerGroup go together)"
            )
        elif not present and "@" not in str(trigger.get("url", "")):
            out.append(
                f"{path}.attributes: set containerName, streamPath and consumerGroup "
                "(or use the legacy url form .../<container>/<stream>@<consumer group>)"
            )
    elif kind == "cron":
        has_schedule, has_interval = "schedule" in attributes, "interval" in attributes
        if has_schedule == has_interval:
            out.append(f"{path}.attributes: set exactly one of 'schedule' or 'interval'")

    batch = trigger.get("batch")
    if isinstance(batch, Mapping) and batch.get("mode") == "enable" and kind not in _BATCH_KINDS:
        out.append(
            f"{path}.batch.mode: batching is only supported for {list(_BATCH_KINDS)} "
            f"triggers, not {kind!r}"
        )

    if trigger.get("mode") == "async" and kind not in _ASYNC_KINDS:
        out.append(
            f"{path}.mode: async mode is only supported for {list(_ASYNC_KINDS)} "
            f"triggers, not {kind!r}"
        )
    async_cfg = trigger.get("async")
    if isinstance(async_cfg, Mapping):
        low, high = async_cfg.get("minConnectionsNumber"), async_cfg.get("maxConnectionsNumber")
        if _is_int(low) and _is_int(high) and low > high:
            out.append(
                f"{path}.async.minConnectionsNumber: {low} is greater than "
                f"maxConnectionsNumber {high}"
            )

    ack = trigger.get("explicitAckMode")
    if ack in ("enable", "explicitOnly"):
        if kind not in _STREAM_KINDS:
            out.append(
                f"{path}.explicitAckMode: explicit ack is only supported for stream "
                f"triggers {list(_STREAM_KINDS)}, not {kind!r}"
            )
        else:
            _check_static_allocation(kind, attributes, path, annotations, out)


def _check_static_allocation(
    kind: str,
    attributes: Mapping[str, Any],
    path: str,
    annotations: Mapping[str, Any],
    out: list[str],
) -> None:
    annotation = _ALLOCATION_ANNOTATION[kind]
    attribute_mode = attributes.get("workerAllocationMode")
    annotation_mode = annotations.get(annotation)
    if attribute_mode is not None and attribute_mode != "static":
        out.append(
            f"{path}.attributes.workerAllocationMode: must be 'static' when "
            f"explicitAckMode is enabled, got {attribute_mode!r}"
        )
    if annotation_mode == "static":
        return
    if kind == "kafka-cluster" or attribute_mode != "static":
        why = (
            " (the kafka trigger reads the mode from this annotation before it decodes attributes)"
            if kind == "kafka-cluster"
            else ""
        )
        out.append(
            f"{path}.explicitAckMode: explicit ack requires the static worker allocation mode; set "
            f"metadata.annotations['{annotation}'] to 'static'{why}"
        )


def _triggers(value: Any, path: str, annotations: Mapping[str, Any], out: list[str]) -> None:
    if isinstance(value, list):
        out.append(f"{path}: must be a map of trigger name -> trigger, not a list")
        return
    if not _expect(isinstance(value, Mapping), value, path, "a map of name -> trigger", out):
        return
    for name, trigger in value.items():
        if not isinstance(name, str) or not name:
            out.append(f"{_join(path, repr(name))}: trigger names must be non-empty strings")
            continue
        _check_trigger(trigger, _join(path, name), annotations, out)


# --------------------------------------------------------------------------- spec

_SPEC_FIELDS: dict[str, Check] = {
    # functionconfig.Spec JSON tags + rows of the function-configuration reference.
    "description": _str,
    "disable": _bool,
    "publish": _bool,
    "handler": _handler,
    "runtime": _runtime,
    "env": _env,
    "envFrom": _list_of(_map),
    "resources": _resources,
    "image": _str,
    "replicas": _int(0),
    "minReplicas": _int(0),
    "maxReplicas": _int(0),
    "targetCPU": _int(1, 100),
    "dataBindings": _map,
    "triggers": _any,  # needs metadata annotations; checked in check_function_config
    "volumes": _volumes,
    "version": _int(),
    "alias": _str,
    "build": _BUILD,
    "runRegistry": _str,
    "imagePullSecrets": _str,
    "runtimeAttributes": _map,
    "loggerSinks": _list_of(_LOGGER_SINK),
    "dealerURI": _str,
    "platform": _obj({"attributes": _map}),
    "readinessTimeoutSeconds": _int(1),
    "serviceType": _enum(("ClusterIP", "NodePort", "LoadBalancer"), case_insensitive=True),
    "imagePullPolicy": _enum(("Always", "IfNotPresent", "Never")),
    "securityContext": _map,
    "serviceAccount": _str,
    "scaleToZero": _map,
    "readinessProbe": _map,
    "livenessProbe": _map,
    "disableDefaultHTTPTrigger": _bool,  # Go JSON tag
    "disableDefaultHttpTrigger": _bool,  # spelling used by the docs table
    "disableSensitiveFieldsMasking": _bool,
    "devices": _str_list(),
    "affinity": _map,
    "nodeSelector": _str_map,
    "nodeName": _str,
    "tolerations": _list_of(_map),
    "priorityClassName": _str,
    "preemptionPolicy": _enum(("Never", "PreemptLowerPriority")),
    "deploymentStrategy": _map,
    "hostIPC": _bool,
    "customScalingMetricSpecs": _list_of(_map),
    "autoScaleMetrics": _list_of(_map),
    "waitReadinessTimeoutBeforeFailure": _bool,
    "eventTimeout": _duration(),
    "streamChunkTimeout": _duration(),
    "preemptionMode": _enum(("allow", "constrain", "prevent", "none")),
    "sidecars": _list_of(_map),
    "initContainers": _list_of(_map),
    "lastDeployTimestamp": _str,
    "runtimeClassName": _str,
    "avatar": _str,
}
_SPEC_REQUIRED = ("runtime", "handler")

_TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec")
_API_VERSIONS = ("nuclio.io/v1", "nuclio.io/v1beta1")


def check_function_config(doc: dict[str, Any]) -> list[str]:
    """Validate a parsed ``function.yaml``; return human-readable problems (empty when valid)."""
    out: list[str] = []
    if not isinstance(doc, Mapping):
        return [f"<root>: expected a map (the parsed function.yaml), got {_type_name(doc)}"]

    for key in doc:
        if key == "status":
            out.append("unknown key 'status' (nuctl ignores it; status is output-only)")
    _check_keys({k: v for k, v in doc.items() if k != "status"}, "", _TOP_LEVEL, out)

    if "apiVersion" in doc:
        _enum(_API_VERSIONS)(doc["apiVersion"], "apiVersion", out)
    if "kind" in doc:
        _enum(("NuclioFunction",))(doc["kind"], "kind", out)

    if "metadata" not in doc:
        out.append("metadata: required key is missing")
        annotations: Mapping[str, Any] = {}
    else:
        _METADATA(doc["metadata"], "metadata", out)
        metadata = doc["metadata"] if isinstance(doc["metadata"], Mapping) else {}
        raw_annotations = metadata.get("annotations")
        annotations = raw_annotations if isinstance(raw_annotations, Mapping) else {}

    if "spec" not in doc:
        out.append("spec: required key is missing")
        return out
    spec = doc["spec"]
    _obj(_SPEC_FIELDS, required=_SPEC_REQUIRED)(spec, "spec", out)
    if not isinstance(spec, Mapping):
        return out

    if "triggers" in spec:
        _triggers(spec["triggers"], "spec.triggers", annotations, out)

    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if _is_int(low) and _is_int(high) and low > high:
        out.append(f"spec.minReplicas: {low} is greater than spec.maxReplicas {high}")
    return out
