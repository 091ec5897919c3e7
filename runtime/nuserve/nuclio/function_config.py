"""The Nuclio function config (function.yaml) of a ServingFunction, and back.

nuctl decodes function.yaml with Go's ``encoding/json`` and trigger attributes with
``mapstructure``; both drop unknown keys without a word. So this module writes only keys the
function-configuration reference documents (the tests run every generated config through
``tests/nuclio_schema.py``), always sets ``numWorkers`` (Nuclio's kafka default is 32), and
builds dicts in a fixed order so that regenerating a file gives identical bytes.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any
from typing import Protocol as Interface

from nuserve.errors import ConfigError
from nuserve.nuclio.function_spec import (
    ACK_MODES,
    FunctionSpec,
    derived_event_timeout,
    dns_label,
    env_name,
    env_value,
    event_timeout,
    one_of,
    positive_int,
)
from nuserve.nuclio.spec_env import CODE_DIR_ENV, SPEC_ENV, decode_spec, encode_spec
from nuserve.nuclio.stream_output import check_stream_path
from nuserve.nuclio.trigger_defaults import (
    batch_mode,
    handler_name,
    is_generative,
    routes,
    worker_count,
)
from nuserve.spec.serving import ServingSpec
from nuserve.version import __version__


class Deployable(Interface):
    """What a function config is written from (``ServingFunction`` is one)."""

    spec: FunctionSpec
    metadata_name: str


API_VERSION = "nuclio.io/v1"
RUNTIMES = ("python:3.11", "python:3.12")
CODE_DIR = "/opt/nuclio"
"""Where Nuclio's python runtime puts the function's code (and its PYTHONPATH)."""
KAFKA_ALLOCATION_ANNOTATION = "nuclio.io/kafka-worker-allocation-mode"
ACK_ON = ACK_MODES
PIP_INSTALL = "pip install "
NO_INDEX = "--no-index --find-links "
NO_DEPS = "--no-deps "
POST_COPY = "@nuclio.postCopy"
"""Nuclio runs build commands before it copies the code directory into the image, and those
after this marker once it has: installing from a wheel directory needs the latter."""
KEY_REF = {"name", "key"}

BODY_HEADROOM_MIN = 1024 * 1024
"""The least room the HTTP trigger's limit leaves above nuserve's ``max_body_size``."""
NUCLIO_TOO_LARGE = (400, "text/plain", "Error when parsing request")
"""What Nuclio 1.14's HTTP trigger (fasthttp) answers to a body over ``maxRequestBodySize``:
the handler never sees it, so the answer is neither JSON nor a 413."""

_HANDLER = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_WHEEL_DIR = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")
_NUSERVE_REQ = re.compile(r"^nuserve($|[^A-Za-z0-9_.-]|\[)", re.IGNORECASE)
KAFKA_CLIENT = "confluent-kafka>=2.3,<3"
"""The Kafka client a function writing ``kafka://`` streams installs: the pin of nuserve's
``serve`` extra (``tests/unit/nuclio`` keeps the two equal)."""
_KAFKA_CLIENT_REQ = re.compile(r"^\s*confluent[-_.]kafka($|[^A-Za-z0-9_.-])", re.IGNORECASE)


# --------------------------------------------------------------------------- function config


def function_config(fn: Deployable) -> dict[str, Any]:
    """The Nuclio function config (``apiVersion: nuclio.io/v1``) that deploys ``fn``."""
    spec = fn.spec
    metadata: dict[str, Any] = {"name": dns_label(fn.metadata_name, "function name")}
    check_stream_path(spec.output_stream, "output_stream")
    check_stream_path(spec.error_stream, "error_stream")
    annotations = _annotations(spec)
    if annotations:
        metadata["annotations"] = annotations
    nuclio: dict[str, Any] = {
        "runtime": one_of(spec.runtime, RUNTIMES, "spec.runtime"),
        "handler": _handler(handler_name(spec)),
        "env": _env(spec),
        "build": _build(spec),
        "minReplicas": positive_int(spec.min_replicas, "min_replicas", 0),
        "maxReplicas": positive_int(spec.max_replicas, "max_replicas", 1),
        "readinessTimeoutSeconds": positive_int(spec.readiness_timeout, "readiness_timeout"),
    }
    if spec.min_replicas > spec.max_replicas:
        raise ConfigError(
            f"min_replicas {spec.min_replicas} is greater than max_replicas "
            f"{spec.max_replicas}; raise max_replicas"
        )
    timeout = event_timeout(spec)
    if timeout is not None:
        nuclio["eventTimeout"] = timeout
    resources = {
        k: dict(spec.resources[k]) for k in ("requests", "limits") if spec.resources.get(k)
    }
    if resources:
        nuclio["resources"] = resources
    if spec.volumes:
        nuclio["volumes"] = copy.deepcopy(spec.volumes)
    nuclio["triggers"] = {"http": _http_trigger(spec), **copy.deepcopy(spec.triggers)}
    return {
        "apiVersion": API_VERSION,
        "kind": "NuclioFunction",
        "metadata": metadata,
        "spec": nuclio,
    }


def _handler(handler: Any) -> str:
    if not isinstance(handler, str) or not _HANDLER.match(handler):
        raise ConfigError(
            f"spec.handler {handler!r} must be 'module:function', e.g. 'handler:handler' "
            "(handler.py at the code root) or 'nuserve.nuclio:handler'"
        )
    return handler


def _annotations(spec: FunctionSpec) -> dict[str, str]:
    """The user's annotations, plus the kafka static-allocation one explicit ack needs."""
    annotations = dict(spec.annotations)
    for name, trigger in spec.triggers.items():
        static = (trigger.get("attributes") or {}).get("workerAllocationMode") == "static"
        if trigger.get("kind") != "kafka-cluster" or not (
            static or trigger.get("explicitAckMode") in ACK_ON
        ):
            continue
        current = annotations.setdefault(KAFKA_ALLOCATION_ANNOTATION, "static")
        if current != "static":
            raise ConfigError(
                f"trigger {name!r} needs static worker allocation (explicit ack) but annotation "
                f"{KAFKA_ALLOCATION_ANNOTATION} is {current!r}; remove that annotation"
            )
    return annotations


def _env(spec: FunctionSpec) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {"name": SPEC_ENV, "value": encode_spec(spec.serving_spec().to_dict())},
        {
            "name": CODE_DIR_ENV,
            "value": env_value(spec.env.get(CODE_DIR_ENV, CODE_DIR), CODE_DIR_ENV),
        },
    ]
    for name, value in spec.env.items():
        if name == CODE_DIR_ENV:
            continue
        env_name(name)
        if isinstance(value, dict):
            ref = value.get("secretKeyRef")
            if set(value) != {"secretKeyRef"} or not isinstance(ref, dict) or set(ref) != KEY_REF:
                raise ConfigError(
                    f"env {name!r} must be a value or {{'secretKeyRef': {{'name', 'key'}}}} "
                    f"(got {value!r}); use set_env_from_secret(name, secret, key)"
                )
            entries.append({"name": name, "valueFrom": {"secretKeyRef": dict(ref)}})
        else:
            entries.append({"name": name, "value": env_value(value, name)})
    return entries


def requirements_with_nuserve(requirements: list[str]) -> list[str]:
    """``requirements`` with ``nuserve==<version>`` first, unless one of them names nuserve."""

    if any(_NUSERVE_REQ.match(r) for r in requirements):
        return list(requirements)
    return [f"nuserve=={__version__}", *requirements]


def uses_kafka_streams(spec: ServingSpec) -> bool:
    """Whether the serving spec names a ``kafka://`` stream (output, error or tracking stream,
    a queue step): the handler then produces to Kafka itself."""
    return "kafka://" in json.dumps(spec.to_dict(), default=str)


def function_requirements(spec: FunctionSpec) -> list[str]:
    """What the image installs: ``requirements_with_nuserve``, plus ``KAFKA_CLIENT`` when the
    function writes ``kafka://`` streams and no requirement names a Kafka client (nuserve
    itself does not depend on one; Nuclio's processor consumes the kafka triggers, but
    nuserve's own producers write the answers, dead letters and tracking records)."""
    requirements = requirements_with_nuserve(spec.requirements)
    if uses_kafka_streams(spec.serving_spec()) and not any(
        _KAFKA_CLIENT_REQ.match(r) for r in requirements
    ):
        requirements.append(KAFKA_CLIENT)
    return requirements


def _build(spec: FunctionSpec) -> dict[str, Any]:
    build: dict[str, Any] = {}
    if spec.image:
        build["baseImage"] = spec.image
    packages = " ".join(shlex.quote(r) for r in function_requirements(spec))
    if spec.wheel_dir is None:
        build["commands"] = [PIP_INSTALL + packages, *spec.build_commands]
        return build
    links = f"{NO_INDEX}{shlex.quote(wheel_links(spec.wheel_dir))} "
    if spec.offline:
        install = [PIP_INSTALL + links + packages]
    else:  # nuserve from the directory alone; then its dependencies (and the rest) by name
        nuserve = requirements_with_nuserve([])[0]
        install = [PIP_INSTALL + NO_DEPS + links + nuserve, PIP_INSTALL + packages]
    build["commands"] = [POST_COPY, *install, *spec.build_commands]
    return build


STREAMING_FLUSH_PERIOD = "50ms"
"""How often Nuclio's HTTP trigger flushes a streamed body (its default, 1 s, would hold a
token stream's chunks for a second); set when the function streams (``set_streaming``)."""


def streams(spec: FunctionSpec) -> bool:
    """Whether the function sends streamed answers: ``set_streaming``, or a generative model
    (``LLModel``), whose OpenAI endpoints stream when asked."""
    if spec.streaming:
        return True
    return any(is_generative(route.class_name) for route in routes(spec.graph))


def wheel_links(wheel_dir: str) -> str:
    """Where the image holds ``wheel_dir`` (a directory in the code directory)."""
    path = Path(wheel_dir)
    if path.is_absolute() or ".." in path.parts or not _WHEEL_DIR.match(wheel_dir):
        raise ConfigError(
            f"wheel_dir {wheel_dir!r} must be a relative path inside the code directory "
            "(letters, digits, '_', '-', '.', '/'), e.g. 'wheels'"
        )
    return f"{CODE_DIR}/{Path(wheel_dir).as_posix()}"


def trigger_body_limit(max_body_size: int) -> int:
    """The HTTP trigger's ``maxRequestBodySize`` for nuserve's ``max_body_size``.

    Twice the limit, and at least ``BODY_HEADROOM_MIN`` more: a body a little over nuserve's
    limit reaches the handler, which answers its JSON 413 (``{"error", "id"}``); only one
    far over it meets Nuclio's own answer (``NUCLIO_TOO_LARGE``).
    """
    size = positive_int(max_body_size, "max_body_size")
    return size + max(size, BODY_HEADROOM_MIN)


def _http_trigger(spec: FunctionSpec) -> dict[str, Any]:
    attributes = {k: v for k, v in spec.http_attributes.items() if k != "maxRequestBodySize"}
    limit = spec.http_attributes.get("maxRequestBodySize")  # one set by hand is kept
    trigger: dict[str, Any] = {
        "kind": "http",
        "numWorkers": positive_int(worker_count(spec), "http workers"),
        "attributes": {
            "maxRequestBodySize": (
                trigger_body_limit(spec.max_body_size)
                if limit is None
                else positive_int(limit, "http_attributes maxRequestBodySize")
            ),
            **copy.deepcopy(attributes),
        },
    }
    if streams(spec):
        trigger["attributes"].setdefault("streamingFlushPeriod", STREAMING_FLUSH_PERIOD)
    mode = batch_mode(spec)
    if mode is not None:
        batch: dict[str, Any] = {"mode": "enable", "batchSize": mode[0]}
        if mode[1]:
            batch["timeout"] = mode[1]
        trigger["batch"] = batch
    return trigger


def dump_yaml(config: dict[str, Any]) -> str:
    import yaml  # noqa: PLC0415 - keeps `import nuserve` light

    return yaml.safe_dump(
        config, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 30
    )


# --------------------------------------------------------------------------- loading back

_LOADED_SPEC_KEYS = frozenset(
    {
        "runtime",
        "handler",
        "env",
        "build",
        "minReplicas",
        "maxReplicas",
        "readinessTimeoutSeconds",
        "eventTimeout",
        "resources",
        "volumes",
        "triggers",
    }
)


def read_function_yaml(path: str | Path) -> tuple[str, FunctionSpec]:
    """``read_function_config`` of a function.yaml file."""
    import yaml  # noqa: PLC0415 - keeps `import nuserve` light

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"function.yaml {str(file)!r} not found (cwd is {Path.cwd()})")
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from None
    return read_function_config(doc, str(file))


def read_function_config(doc: Any, source: str = "function.yaml") -> tuple[str, FunctionSpec]:
    """The function name and spec a config written by ``function_config`` describes."""
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        raise ConfigError(f"{source} is not a Nuclio function config (no 'spec' map)")
    metadata, nuclio = doc.get("metadata") or {}, doc["spec"]
    _no_unknown(metadata, {"name", "annotations"}, "metadata", source)
    _no_unknown(nuclio, _LOADED_SPEC_KEYS, "spec", source)
    env = {e.get("name"): e for e in nuclio.get("env") or []}
    if SPEC_ENV not in env:
        raise ConfigError(f"{source} has no {SPEC_ENV} in spec.env; write it with fn.to_yaml()")
    serving = ServingSpec.from_dict(decode_spec(str(env[SPEC_ENV].get("value"))))
    spec = FunctionSpec(**vars(serving))
    function_name = str(metadata.get("name") or serving.name)
    spec.annotations = dict(metadata.get("annotations") or {})
    spec.runtime = nuclio.get("runtime", spec.runtime)
    spec.handler = nuclio.get("handler")
    if spec.handler == handler_name(replace(spec, handler=None)):
        spec.handler = None  # it follows the graph, as when it was written
    for name, entry in env.items():
        if name != SPEC_ENV:
            spec.env[name] = entry["valueFrom"] if "valueFrom" in entry else entry.get("value")
    if spec.env.get(CODE_DIR_ENV) == CODE_DIR:
        del spec.env[CODE_DIR_ENV]
    build = nuclio.get("build") or {}
    _no_unknown(build, {"baseImage", "commands"}, "spec.build", source)
    spec.image = build.get("baseImage")
    _load_build_commands(spec, list(build.get("commands") or []))
    spec.min_replicas = nuclio.get("minReplicas", spec.min_replicas)
    spec.max_replicas = nuclio.get("maxReplicas", spec.max_replicas)
    spec.readiness_timeout = nuclio.get("readinessTimeoutSeconds", spec.readiness_timeout)
    spec.event_timeout = nuclio.get("eventTimeout")
    if spec.event_timeout == derived_event_timeout(spec.request_timeout):
        spec.event_timeout = None  # it follows request_timeout, as when it was written
    spec.resources = copy.deepcopy(nuclio.get("resources") or {})
    spec.volumes = copy.deepcopy(nuclio.get("volumes") or [])
    triggers = copy.deepcopy(nuclio.get("triggers") or {})
    _load_http(spec, triggers.pop("http", None), source)
    spec.triggers = triggers
    return function_name, spec


def _load_build_commands(spec: FunctionSpec, commands: list[str]) -> None:
    """The requirements and wheel directory back from the commands ``_build`` wrote; other
    commands stay build commands."""
    links_prefix = PIP_INSTALL + NO_INDEX
    if commands[:1] == [POST_COPY] and len(commands) > 1:
        first = commands[1]
        no_deps = first.startswith(PIP_INSTALL + NO_DEPS + NO_INDEX)
        tokens = shlex.split(first[len(PIP_INSTALL + (NO_DEPS if no_deps else "")) :])
        location = tokens[2] if first.startswith(links_prefix) or no_deps else ""
        if location.startswith(CODE_DIR + "/") and (not no_deps or len(tokens) == 4):
            spec.wheel_dir = location[len(CODE_DIR) + 1 :]
            spec.offline = not no_deps
            commands = commands[2:]
            if spec.offline:
                commands.insert(0, PIP_INSTALL + shlex.join(tokens[3:]))
    if commands and commands[0].startswith(PIP_INSTALL):
        spec.requirements = shlex.split(commands.pop(0)[len(PIP_INSTALL) :])
        if spec.requirements[:1] == requirements_with_nuserve([])[:1]:
            spec.requirements.pop(0)
    spec.build_commands = commands


def _load_http(spec: FunctionSpec, trigger: Any, source: str) -> None:
    if trigger is None:
        return
    _no_unknown(trigger, {"kind", "numWorkers", "attributes", "batch"}, "the http trigger", source)
    spec.http_workers = trigger.get("numWorkers")
    if spec.http_workers == worker_count(replace(spec, http_workers=None)):
        spec.http_workers = None  # it follows the resources, as when it was written
    attributes = dict(trigger.get("attributes") or {})
    limit = attributes.pop("maxRequestBodySize", None)
    if limit is not None and limit != trigger_body_limit(spec.max_body_size):
        # set by hand: Nuclio's limit stays as it is, and nuserve's is no larger
        attributes["maxRequestBodySize"] = limit
        if isinstance(limit, int) and limit < spec.max_body_size:
            spec.max_body_size = limit
    if streams(spec) and attributes.get("streamingFlushPeriod") == STREAMING_FLUSH_PERIOD:
        del attributes["streamingFlushPeriod"]  # it follows set_streaming, as when written
    spec.http_attributes = attributes
    batch = trigger.get("batch") or {}
    written = (
        (batch.get("batchSize", 1), batch.get("timeout")) if batch.get("mode") == "enable" else None
    )
    if written != batch_mode(replace(spec, http_batch_size=None, http_batch_timeout=None)):
        spec.http_batch_size, spec.http_batch_timeout = written or (0, None)


def _no_unknown(data: Any, known: set[str] | frozenset[str], where: str, source: str) -> None:
    unknown = sorted(set(data) - known) if isinstance(data, dict) else []
    if unknown:
        raise ConfigError(
            f"{source}: {where} has {unknown}, which nuserve's function builder does not model "
            f"(it reads {sorted(known)}); deploy such a file as it is with "
            "nuserve.nuclio.deploy.deploy_file() or `nuctl deploy --file`"
        )
