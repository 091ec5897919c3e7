"""The Nuclio function.yaml checker (tests/nuclio_schema.py) accepts a documented example and
reports each kind of mistake with the offending path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.nuclio_schema import PYTHON_RUNTIMES, TRIGGER_KINDS, check_function_config

GOOD_YAML = """
apiVersion: nuclio.io/v1
kind: NuclioFunction
metadata:
  name: nuserve-model
  namespace: nuclio
  labels:
    app: nuserve
  annotations:
    nuclio.io/kafka-worker-allocation-mode: static
spec:
  description: model server
  runtime: python:3.11
  handler: nuserve.handler:handler
  env:
    - name: MODEL_PATH
      value: /models/model.pkl
    - name: WORKERS
      value: "4"
    - name: V3IO_ACCESS_KEY
      valueFrom:
        secretKeyRef:
          name: v3io-secret
          key: accessKey
  build:
    baseImage: python:3.11-slim
    image: nuserve-model:latest
    commands:
      - pip install nuserve
  minReplicas: 1
  maxReplicas: 4
  readinessTimeoutSeconds: 120
  eventTimeout: 30s
  resources:
    requests:
      cpu: 500m
      memory: 1Gi
    limits:
      cpu: "2"
      memory: 4Gi
      nvidia.com/gpu: 1
  volumes:
    - volume:
        name: models
        persistentVolumeClaim:
          claimName: models-pvc
      volumeMount:
        name: models
        mountPath: /models
    - volume:
        name: config
        configMap:
          name: nuserve-config
      volumeMount:
        name: config
        mountPath: /etc/nuserve
        readOnly: true
  triggers:
    http:
      kind: http
      numWorkers: 4
      attributes:
        port: 32001
        maxRequestBodySize: 10485760
        serviceType: ClusterIP
      batch:
        mode: enable
        batchSize: 16
        timeout: 10ms
    requests:
      kind: kafka-cluster
      numWorkers: 8
      explicitAckMode: enable
      workerTerminationTimeout: 10s
      attributes:
        brokers:
          - kafka:9092
        topics:
          - requests
        consumerGroup: nuserve
        initialOffset: earliest
        workerAllocationMode: static
        sessionTimeout: 10s
        heartbeatInterval: 3s
        sasl:
          enable: true
          user: nuclio
          password: secret
          mechanism: SCRAM-SHA-256
    stream:
      kind: v3ioStream
      maxWorkers: 2
      url: http://v3io-webapi:8081
      password: access-key
      attributes:
        containerName: users
        streamPath: /requests
        consumerGroup: cg0
        seekTo: earliest
        readBatchSize: 64
        pollingIntervalMs: 500
        sessionTimeout: 10s
    tick:
      kind: cron
      attributes:
        interval: 1m
        event:
          body: ping
"""


def good() -> dict[str, Any]:
    return yaml.safe_load(GOOD_YAML)


def spec_of(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]


def problems_after(mutate: Callable[[dict[str, Any]], None]) -> list[str]:
    doc = good()
    mutate(doc)
    return check_function_config(doc)


def assert_reported(problems: list[str], *fragments: str) -> None:
    """Some problem mentions every fragment (the first fragment is the offending path)."""
    assert problems, "expected at least one problem"
    matching = [p for p in problems if all(f in p for f in fragments)]
    assert matching, f"no problem contains {fragments!r}; got {problems!r}"


# --------------------------------------------------------------------------- good documents


def test_documented_example_passes():
    assert check_function_config(good()) == []


def test_minimal_document_passes():
    doc = {"metadata": {"name": "f"}, "spec": {"runtime": "python:3.12", "handler": "main:handler"}}
    assert check_function_config(doc) == []


@pytest.mark.parametrize("runtime", PYTHON_RUNTIMES)
def test_every_documented_python_runtime_passes(runtime):
    doc = good()
    spec_of(doc)["runtime"] = runtime
    assert check_function_config(doc) == []


def test_checker_does_not_mutate_its_input():
    doc = good()
    before = copy.deepcopy(doc)
    check_function_config(doc)
    assert doc == before


# --------------------------------------------------------------------------- unknown keys


def test_spec_typo_is_reported_with_suggestion():
    problems = problems_after(lambda d: spec_of(d).update(minReplica=1))
    assert (
        "unknown key 'spec.minReplica' (nuctl ignores it; did you mean 'minReplicas'?)" in problems
    )


def test_top_level_and_metadata_typos():
    def mutate(doc):
        doc["specs"] = {}
        doc["metadata"]["label"] = {"a": "b"}

    problems = problems_after(mutate)
    assert_reported(problems, "'specs'", "did you mean 'spec'")
    assert_reported(problems, "'metadata.label'", "did you mean 'labels'")


def test_status_is_output_only():
    problems = problems_after(lambda d: d.update(status={"state": "ready"}))
    assert_reported(problems, "'status'", "output-only")


def test_case_only_mismatch_is_reported():
    def mutate(doc):
        spec_of(doc)["MaxReplicas"] = spec_of(doc).pop("maxReplicas")

    assert_reported(problems_after(mutate), "'spec.MaxReplicas'", "'maxReplicas'")


def test_trigger_workers_key_is_unknown():
    problems = problems_after(lambda d: spec_of(d)["triggers"]["http"].update(workers=4))
    assert_reported(problems, "'spec.triggers.http.workers'", "did you mean 'numWorkers'")


def test_build_docs_spelling_of_no_base_images_pull():
    problems = problems_after(lambda d: spec_of(d)["build"].update(noBaseImagePull=True))
    assert_reported(problems, "'spec.build.noBaseImagePull'", "'noBaseImagesPull'")


def test_unknown_attribute_is_reported_per_kind():
    def mutate(doc):
        triggers = spec_of(doc)["triggers"]
        triggers["http"]["attributes"]["maxBodySize"] = 1024
        triggers["requests"]["attributes"]["topic"] = "x"
        triggers["stream"]["attributes"]["path"] = "/x"
        triggers["requests"]["attributes"]["sasl"]["username"] = "u"

    problems = problems_after(mutate)
    assert_reported(problems, "'spec.triggers.http.attributes.maxBodySize'", "maxRequestBodySize")
    assert_reported(problems, "'spec.triggers.requests.attributes.topic'", "'topics'")
    assert_reported(problems, "'spec.triggers.stream.attributes.path'", "'streamPath'")
    assert_reported(problems, "'spec.triggers.requests.attributes.sasl.username'", "'user'")


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("name", ["Model", "my_model", "-model", "m" * 64, ""])
def test_bad_function_name(name):
    problems = problems_after(lambda d: d["metadata"].update(name=name))
    assert_reported(problems, "metadata.name")


def test_missing_function_name():
    problems = problems_after(lambda d: d["metadata"].pop("name"))
    assert_reported(problems, "metadata.name", "required")


def test_labels_and_annotations_must_be_string_maps():
    def mutate(doc):
        doc["metadata"]["labels"]["replicas"] = 3
        doc["metadata"]["annotations"] = ["a"]

    problems = problems_after(mutate)
    assert_reported(problems, "metadata.labels.replicas", "string")
    assert_reported(problems, "metadata.annotations", "map")


def test_api_version_and_kind():
    def mutate(doc):
        doc["apiVersion"] = "v1"
        doc["kind"] = "Function"

    problems = problems_after(mutate)
    assert_reported(problems, "apiVersion")
    assert_reported(problems, "kind")


# --------------------------------------------------------------------------- runtime / handler


@pytest.mark.parametrize("runtime", ["python:3.8", "python:3.9", "python", "golang", "pyhton:3.11"])
def test_runtime_not_allowed(runtime):
    problems = problems_after(lambda d: spec_of(d).update(runtime=runtime))
    assert_reported(problems, "spec.runtime", repr(runtime))


@pytest.mark.parametrize("handler", ["main", "main.handler", "main:", ":handler", "a-b:handler", 3])
def test_bad_handler(handler):
    problems = problems_after(lambda d: spec_of(d).update(handler=handler))
    assert_reported(problems, "spec.handler")


def test_runtime_and_handler_required():
    def mutate(doc):
        del spec_of(doc)["runtime"]
        del spec_of(doc)["handler"]

    problems = problems_after(mutate)
    assert_reported(problems, "spec.runtime", "required")
    assert_reported(problems, "spec.handler", "required")


# --------------------------------------------------------------------------- env


def test_env_as_dict_is_an_error():
    problems = problems_after(lambda d: spec_of(d).update(env={"MODEL_PATH": "/m"}))
    assert_reported(problems, "spec.env", "list", "not a map")


@pytest.mark.parametrize(
    ("entry", "fragments"),
    [
        ({"value": "x"}, ("spec.env[0].name", "required")),
        ({"name": "A", "value": 3}, ("spec.env[0].value", "string")),
        ({"name": "A", "value": True}, ("spec.env[0].value", "string")),
        ({"name": "A"}, ("spec.env[0]", "value")),
        ({"name": "1A", "value": "x"}, ("spec.env[0].name", "not a valid")),
        ({"name": "A", "valu": "x"}, ("'spec.env[0].valu'", "did you mean 'value'")),
        (
            {"name": "A", "value": "x", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            ("spec.env[0]", "not both"),
        ),
        (
            {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
            ("spec.env[0].valueFrom", "secretKeyRef"),
        ),
        (
            {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}},
            ("spec.env[0].valueFrom.secretKeyRef.key", "required"),
        ),
        (
            {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "id": 1}}},
            ("'spec.env[0].valueFrom.secretKeyRef.id'", "ignores"),
        ),
    ],
)
def test_bad_env_entries(entry, fragments):
    problems = problems_after(lambda d: spec_of(d).update(env=[entry]))
    assert_reported(problems, *fragments)


def test_duplicate_env_names():
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    problems = problems_after(lambda d: spec_of(d).update(env=env))
    assert_reported(problems, "spec.env[1].name", "duplicate")


# --------------------------------------------------------------------------- build / scaling


def test_build_commands_must_be_list_of_strings():
    problems = problems_after(lambda d: spec_of(d)["build"].update(commands="pip install x"))
    assert_reported(problems, "spec.build.commands", "list")
    problems = problems_after(lambda d: spec_of(d)["build"].update(commands=["ok", 3]))
    assert_reported(problems, "spec.build.commands[1]", "string")


def test_build_images_must_be_strings():
    problems = problems_after(lambda d: spec_of(d)["build"].update(baseImage=None, image=1))
    assert_reported(problems, "spec.build.baseImage", "string")
    assert_reported(problems, "spec.build.image", "string")


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"minReplicas": 5, "maxReplicas": 2}, ("spec.minReplicas", "greater than")),
        ({"minReplicas": -1}, ("spec.minReplicas", ">= 0")),
        ({"maxReplicas": "4"}, ("spec.maxReplicas", "integer")),
        ({"maxReplicas": True}, ("spec.maxReplicas", "integer")),
        ({"readinessTimeoutSeconds": 0}, ("spec.readinessTimeoutSeconds", ">= 1")),
        ({"readinessTimeoutSeconds": 1.5}, ("spec.readinessTimeoutSeconds", "integer")),
        ({"eventTimeout": 30}, ("spec.eventTimeout", "duration")),
        ({"eventTimeout": "30"}, ("spec.eventTimeout", "not a Go duration")),
        ({"eventTimeout": "30 s"}, ("spec.eventTimeout", "not a Go duration")),
        ({"eventTimeout": "0s"}, ("spec.eventTimeout", "> 0")),
        ({"description": ["x"]}, ("spec.description", "string")),
    ],
)
def test_bad_scalar_spec_fields(changes, fragments):
    problems = problems_after(lambda d: spec_of(d).update(changes))
    assert_reported(problems, *fragments)


def test_compound_durations_are_accepted():
    doc = good()
    spec_of(doc)["eventTimeout"] = "1m30s"
    spec_of(doc)["triggers"]["http"]["batch"]["timeout"] = "1.5ms"
    assert check_function_config(doc) == []


# --------------------------------------------------------------------------- resources


@pytest.mark.parametrize(
    ("section", "key", "value", "fragments"),
    [
        ("limits", "memory", "4GB", ("spec.resources.limits.memory", "quantity")),
        ("limits", "memory", True, ("spec.resources.limits.memory", "quantity")),
        ("requests", "cpu", -1, ("spec.resources.requests.cpu", "negative")),
        (
            "limits",
            "nvidia.com/gpus",
            1,
            ("'spec.resources.limits.nvidia.com/gpus'", "nvidia.com/gpu"),
        ),
        ("limits", "gpu", 1, ("'spec.resources.limits.gpu'",)),
        ("limits", "memroy", "1Gi", ("'spec.resources.limits.memroy'", "did you mean 'memory'")),
        ("limits", "nvidia.com/gpu", "0.5", ("spec.resources.limits.nvidia.com/gpu", "whole")),
    ],
)
def test_bad_resources(section, key, value, fragments):
    problems = problems_after(lambda d: spec_of(d)["resources"][section].update({key: value}))
    assert_reported(problems, *fragments)


def test_resources_unknown_section_and_gpu_request_rules():
    problems = problems_after(lambda d: spec_of(d)["resources"].update(limit={"cpu": "1"}))
    assert_reported(problems, "'spec.resources.limit'", "did you mean 'limits'")

    def mutate(doc):
        doc["spec"]["resources"]["requests"]["nvidia.com/gpu"] = 2

    assert_reported(problems_after(mutate), "spec.resources.requests.nvidia.com/gpu", "equal")


def test_extended_resources_are_accepted():
    doc = good()
    spec_of(doc)["resources"]["limits"]["example.com/fpga"] = 1
    spec_of(doc)["resources"]["limits"]["hugepages-2Mi"] = "64Mi"
    assert check_function_config(doc) == []


# --------------------------------------------------------------------------- volumes


def test_volume_mount_name_must_match():
    def mutate(doc):
        doc["spec"]["volumes"][0]["volumeMount"]["name"] = "modles"

    problems = problems_after(mutate)
    assert_reported(problems, "spec.volumes[0].volumeMount.name", "does not match")


@pytest.mark.parametrize(
    ("entry", "fragments"),
    [
        (
            {"volume": {"name": "v"}, "volumeMount": {"name": "v", "mountPath": "/v"}},
            ("spec.volumes[0].volume", "volume source"),
        ),
        (
            {
                "volume": {"name": "v", "hostPath": {"path": "/a"}, "secret": {"secretName": "s"}},
                "volumeMount": {"name": "v", "mountPath": "/v"},
            },
            ("spec.volumes[0].volume", "more than one"),
        ),
        (
            {
                "volume": {"name": "v", "hostpath": {"path": "/a"}},
                "volumeMount": {"name": "v", "mountPath": "/v"},
            },
            ("'spec.volumes[0].volume.hostpath'", "'hostPath'"),
        ),
        (
            {
                "volume": {"name": "v", "secret": {"name": "s"}},
                "volumeMount": {"name": "v", "mountPath": "/v"},
            },
            ("'spec.volumes[0].volume.secret.name'", "secretName"),
        ),
        (
            {"volume": {"hostPath": {"path": "/a"}}, "volumeMount": {"mountPath": "/v"}},
            ("spec.volumes[0].volume.name", "required"),
        ),
        (
            {
                "volume": {"name": "v", "hostPath": {"path": "/a"}},
                "volumeMount": {"name": "v", "mountPath": "v"},
            },
            ("spec.volumes[0].volumeMount.mountPath", "absolute"),
        ),
        (
            {"volume": {"name": "v", "hostPath": {"path": "/a"}}},
            ("spec.volumes[0].volumeMount", "required"),
        ),
    ],
)
def test_bad_volumes(entry, fragments):
    problems = problems_after(lambda d: spec_of(d).update(volumes=[entry]))
    assert_reported(problems, *fragments)


def test_volumes_must_be_a_list():
    problems = problems_after(lambda d: spec_of(d).update(volumes={"models": {}}))
    assert_reported(problems, "spec.volumes", "list")


# --------------------------------------------------------------------------- triggers: common


def test_triggers_must_be_a_map():
    problems = problems_after(lambda d: spec_of(d).update(triggers=[{"kind": "http"}]))
    assert_reported(problems, "spec.triggers", "map")


@pytest.mark.parametrize(
    ("kind", "suggestion"),
    [("kafka", "kafka-cluster"), ("v3iostream", "v3ioStream"), ("htp", "http"), ("sqs", None)],
)
def test_unknown_trigger_kind(kind, suggestion):
    problems = problems_after(lambda d: spec_of(d)["triggers"]["tick"].update(kind=kind))
    fragments = ["spec.triggers.tick.kind", "unknown trigger kind"]
    if suggestion:
        fragments.append(f"did you mean '{suggestion}'")
    assert_reported(problems, *fragments)


def test_trigger_kind_required():
    problems = problems_after(lambda d: spec_of(d)["triggers"]["tick"].pop("kind"))
    assert_reported(problems, "spec.triggers.tick.kind", "required")


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"numWorkers": 0}, ("spec.triggers.http.numWorkers", ">= 1")),
        ({"numWorkers": "4"}, ("spec.triggers.http.numWorkers", "integer")),
        ({"maxWorkers": 2}, ("spec.triggers.http", "only 'numWorkers'")),
        ({"attributes": [1]}, ("spec.triggers.http.attributes", "map")),
        (
            {"batch": {"mode": "enabled"}},
            ("spec.triggers.http.batch.mode", "did you mean 'enable'"),
        ),
        ({"batch": {"mode": "enable", "batchSize": "8"}}, ("spec.triggers.http.batch.batchSize",)),
        ({"batch": {"mode": "enable", "timeout": 5}}, ("spec.triggers.http.batch.timeout",)),
        ({"batch": {"mode": "enable", "size": 8}}, ("'spec.triggers.http.batch.size'",)),
        ({"explicitAckMode": "on"}, ("spec.triggers.http.explicitAckMode", "'on'")),
        ({"explicitAckMode": "enable"}, ("spec.triggers.http.explicitAckMode", "stream")),
        ({"workerAllocatorName": 1}, ("spec.triggers.http.workerAllocatorName", "string")),
        ({"mode": "parallel"}, ("spec.triggers.http.mode",)),
        ({"async": {"maxConnections": 5}}, ("'spec.triggers.http.async.maxConnections'",)),
    ],
)
def test_bad_common_trigger_fields(changes, fragments):
    problems = problems_after(lambda d: spec_of(d)["triggers"]["http"].update(changes))
    assert_reported(problems, *fragments)


def test_batching_only_on_http():
    def mutate(doc):
        doc["spec"]["triggers"]["requests"]["batch"] = {"mode": "enable", "batchSize": 4}

    assert_reported(problems_after(mutate), "spec.triggers.requests.batch.mode", "only supported")


def test_maxworkers_alone_is_accepted_as_the_deprecated_alias():
    doc = good()
    http = spec_of(doc)["triggers"]["http"]
    http["maxWorkers"] = http.pop("numWorkers")
    assert check_function_config(doc) == []


# --------------------------------------------------------------------------- http


@pytest.mark.parametrize(
    ("attributes", "fragments"),
    [
        ({"port": "8080"}, ("spec.triggers.http.attributes.port", "integer")),
        ({"port": 70000}, ("spec.triggers.http.attributes.port", "<= 65535")),
        ({"maxRequestBodySize": "4MB"}, ("spec.triggers.http.attributes.maxRequestBodySize",)),
        ({"maxRequestBodySize": 0}, ("spec.triggers.http.attributes.maxRequestBodySize", ">= 1")),
        ({"serviceType": 1}, ("spec.triggers.http.attributes.serviceType",)),
        ({"serviceType": "Ingress"}, ("spec.triggers.http.attributes.serviceType", "'Ingress'")),
        ({"cors": {"enable": True}}, ("'spec.triggers.http.attributes.cors.enable'", "'enabled'")),
        (
            {"ingresses": {"i": {"host": "h", "path": ["/"]}}},
            ("'spec.triggers.http.attributes.ingresses.i.path'", "'paths'"),
        ),
    ],
)
def test_bad_http_attributes(attributes, fragments):
    problems = problems_after(
        lambda d: spec_of(d)["triggers"]["http"]["attributes"].update(attributes)
    )
    assert_reported(problems, *fragments)


# --------------------------------------------------------------------------- kafka-cluster


def kafka_attrs(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["triggers"]["requests"]["attributes"]


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"brokers": "kafka:9092"}, ("spec.triggers.requests.attributes.brokers", "list")),
        ({"topics": []}, ("spec.triggers.requests.attributes.topics", "empty")),
        ({"initialOffset": "oldest"}, ("spec.triggers.requests.attributes.initialOffset",)),
        ({"workerAllocationMode": "dynamic"}, ("attributes.workerAllocationMode", "'dynamic'")),
        ({"sessionTimeout": 10}, ("spec.triggers.requests.attributes.sessionTimeout", "duration")),
        ({"fetchDefault": "1MB"}, ("spec.triggers.requests.attributes.fetchDefault", "integer")),
        ({"channelBufferSize": 1000}, ("attributes.channelBufferSize", "<= 256")),
        (
            {"sasl": {"enabled": True}},
            ("'spec.triggers.requests.attributes.sasl.enabled'", "'enable'"),
        ),
        ({"sasl": {"enable": "yes"}}, ("spec.triggers.requests.attributes.sasl.enable", "boolean")),
        (
            {"tls": {"enable": True, "skipVerify": True}},
            ("'spec.triggers.requests.attributes.tls.skipVerify'",),
        ),
    ],
)
def test_bad_kafka_attributes(changes, fragments):
    problems = problems_after(lambda d: kafka_attrs(d).update(changes))
    assert_reported(problems, *fragments)


@pytest.mark.parametrize("key", ["topics", "consumerGroup"])
def test_kafka_required_attributes(key):
    problems = problems_after(lambda d: kafka_attrs(d).pop(key))
    assert_reported(problems, f"spec.triggers.requests.attributes.{key}", "required")


def test_kafka_brokers_may_come_from_url():
    doc = good()
    kafka_attrs(doc).pop("brokers")
    assert_reported(check_function_config(doc), "spec.triggers.requests.attributes.brokers")
    doc["spec"]["triggers"]["requests"]["url"] = "kafka:9092"
    assert check_function_config(doc) == []


def test_kafka_explicit_ack_requires_static_allocation():
    problems = problems_after(lambda d: d["metadata"]["annotations"].clear())
    assert_reported(
        problems,
        "spec.triggers.requests.explicitAckMode",
        "nuclio.io/kafka-worker-allocation-mode",
    )
    problems = problems_after(lambda d: kafka_attrs(d).update(workerAllocationMode="pool"))
    assert_reported(problems, "spec.triggers.requests.attributes.workerAllocationMode", "static")


def test_kafka_without_explicit_ack_needs_no_annotation():
    def mutate(doc):
        doc["metadata"]["annotations"].clear()
        doc["spec"]["triggers"]["requests"]["explicitAckMode"] = "disable"

    assert problems_after(mutate) == []


# --------------------------------------------------------------------------- v3ioStream


def v3io_attrs(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["triggers"]["stream"]["attributes"]


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"seekTo": "beginning"}, ("spec.triggers.stream.attributes.seekTo", "'beginning'")),
        ({"readBatchSize": "64"}, ("spec.triggers.stream.attributes.readBatchSize", "integer")),
        ({"pollingIntervalMs": "500ms"}, ("spec.triggers.stream.attributes.pollingIntervalMs",)),
        ({"container": "users"}, ("'spec.triggers.stream.attributes.container'", "containerName")),
        ({"partitions": [0, 1]}, ("'spec.triggers.stream.attributes.partitions'", "ignores")),
    ],
)
def test_bad_v3io_attributes(changes, fragments):
    problems = problems_after(lambda d: v3io_attrs(d).update(changes))
    assert_reported(problems, *fragments)


def test_v3io_needs_url_and_complete_stream_location():
    problems = problems_after(lambda d: spec_of(d)["triggers"]["stream"].pop("url"))
    assert_reported(problems, "spec.triggers.stream.url", "required")
    problems = problems_after(lambda d: v3io_attrs(d).pop("consumerGroup"))
    assert_reported(problems, "spec.triggers.stream.attributes", "consumerGroup")


def test_v3io_legacy_url_form_is_accepted():
    doc = good()
    stream = spec_of(doc)["triggers"]["stream"]
    stream["url"] = "http://v3io-webapi:8081/users/requests@cg0"
    stream["attributes"] = {"seekTo": "latest"}
    assert check_function_config(doc) == []


def test_v3io_explicit_ack_needs_static_mode():
    def mutate(doc):
        doc["spec"]["triggers"]["stream"]["explicitAckMode"] = "explicitOnly"

    assert_reported(
        problems_after(mutate),
        "spec.triggers.stream.explicitAckMode",
        "nuclio.io/v3iostream-worker-allocation-mode",
    )

    def mutate_static(doc):
        mutate(doc)
        v3io_attrs(doc)["workerAllocationMode"] = "static"

    assert problems_after(mutate_static) == []


# --------------------------------------------------------------------------- cron


def test_cron_needs_exactly_one_of_schedule_or_interval():
    problems = problems_after(
        lambda d: spec_of(d)["triggers"]["tick"]["attributes"].pop("interval")
    )
    assert_reported(problems, "spec.triggers.tick.attributes", "exactly one")

    def both(doc):
        doc["spec"]["triggers"]["tick"]["attributes"]["schedule"] = "*/5 * * * *"

    assert_reported(problems_after(both), "spec.triggers.tick.attributes", "exactly one")


# --------------------------------------------------------------------------- misc


def test_non_mapping_document():
    assert_reported(check_function_config([]), "<root>", "map")  # type: ignore[arg-type]


def test_missing_spec_and_metadata():
    problems = check_function_config({})
    assert_reported(problems, "metadata", "required")
    assert_reported(problems, "spec", "required")


def test_documented_trigger_kinds_are_unique():
    assert len(set(TRIGGER_KINDS)) == len(TRIGGER_KINDS)
    assert {"http", "kafka-cluster", "v3ioStream", "cron"} <= set(TRIGGER_KINDS)
