"""function.yaml generation: every variation passes the Nuclio schema checker, the serving spec
round-trips through NUSERVE_SPEC, and function_from_yaml gives back the same text."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import nuserve
from nuserve.errors import ConfigError
from nuserve.function.serving_function import ServingFunction, function_from_yaml
from nuserve.nuclio.function_config import (
    CODE_DIR,
    KAFKA_ALLOCATION_ANNOTATION,
    KAFKA_CLIENT,
    function_config,
)
from nuserve.nuclio.spec_env import CODE_DIR_ENV, GZIP_PREFIX, SPEC_ENV, decode_spec
from tests.models import Echo
from tests.nuclio_schema import check_function_config


def base() -> ServingFunction:
    fn = nuserve.new_function("iris")
    fn.add_model("iris", class_name=Echo, model_path="/models/iris")
    return fn


def kafka_sasl(fn: ServingFunction) -> None:
    fn.add_kafka_trigger(
        brokers=["kafka-0:9092", "kafka-1:9092"],
        topics=["requests"],
        sasl={"user": "nuclio", "password": "secret", "mechanism": "SCRAM-SHA-256"},
        workers=4,
        extra_attributes={"sessionTimeout": "10s"},
    )


def kafka_explicit_ack(fn: ServingFunction) -> None:
    fn.add_kafka_trigger("requests", brokers="kafka:9092", topics="a,b", explicit_ack=True)


def v3io(fn: ServingFunction) -> None:
    fn.add_v3io_stream_trigger(
        "stream", "v3io:///users/admin/requests", access_key="key", explicit_ack=True
    )


def gpu(fn: ServingFunction) -> None:
    fn.gpu(2).with_limits(mem="8Gi", cpu=4).with_requests(mem="2Gi", cpu="500m")


def volumes(fn: ServingFunction) -> None:
    fn.add_volume("models", "/models", pvc="models-pvc", read_only=True)
    fn.add_volume("config", "/etc/nuserve", config_map="nuserve-config")
    fn.add_volume("certs", "/certs", secret="tls-certs")
    fn.add_volume("scratch", "/scratch", host_path="/mnt/scratch")


def secrets(fn: ServingFunction) -> None:
    fn.set_env("LOG_LEVEL", "info").set_env("RETRIES", 3).set_env("DEBUG", False)
    fn.set_env_from_secret("V3IO_ACCESS_KEY", "v3io-secret", "accessKey")


def batch(fn: ServingFunction) -> None:
    fn.with_http(workers=8, max_body_size=16 * 1024 * 1024, batch_size=16, batch_timeout="10ms")


def everything(fn: ServingFunction) -> None:
    for variation in (kafka_sasl, kafka_explicit_ack, v3io, gpu, volumes, secrets, batch):
        variation(fn)
    fn.spec.event_timeout = "30s"
    fn.spec.image = "python:3.11"
    fn.spec.requirements = ["scikit-learn>=1.4,<2"]
    fn.spec.build_commands = ["apt-get update"]
    fn.spec.load_mode = "async"
    fn.spec.readiness_timeout = 600
    fn.spec.http_attributes = {"serviceType": "NodePort", "port": 32001}
    fn.add_trigger("tick", {"kind": "cron", "numWorkers": 1, "attributes": {"interval": "1m"}})


def wheels(fn: ServingFunction) -> None:
    fn.spec.wheel_dir = "wheels"
    fn.spec.requirements = ["scikit-learn>=1.4,<2"]
    fn.spec.build_commands = ["echo done"]


def offline(fn: ServingFunction) -> None:
    wheels(fn)
    fn.spec.offline = True


def kafka_streams(fn: ServingFunction) -> None:
    fn.spec.output_stream = "kafka://kafka:9092?topic=answers"
    fn.spec.error_stream = "v3io:///users/admin/dead-letters"
    kafka_explicit_ack(fn)


VARIATIONS: dict[str, Callable[[ServingFunction], None]] = {
    "plain": lambda fn: None,
    "kafka_sasl": kafka_sasl,
    "kafka_explicit_ack": kafka_explicit_ack,
    "v3io": v3io,
    "gpu": gpu,
    "volumes": volumes,
    "secrets": secrets,
    "batch": batch,
    "everything": everything,
    "wheels": wheels,
    "offline": offline,
    "kafka_streams": kafka_streams,
}


def built(name: str) -> ServingFunction:
    fn = base()
    VARIATIONS[name](fn)
    return fn


@pytest.mark.parametrize("name", VARIATIONS)
def test_generated_config_passes_the_nuclio_schema(name):
    doc = yaml.safe_load(built(name).to_yaml())
    assert check_function_config(doc) == []
    assert doc == function_config(built(name))


@pytest.mark.parametrize("name", VARIATIONS)
def test_function_from_yaml_round_trip_gives_identical_text(name, tmp_path):
    text = built(name).to_yaml(tmp_path / "function.yaml")
    assert (tmp_path / "function.yaml").read_text(encoding="utf-8") == text
    again = function_from_yaml(tmp_path / "function.yaml")
    assert again.to_yaml() == text
    assert again.spec.serving_spec().to_dict() == built(name).spec.serving_spec().to_dict()


def test_to_yaml_is_deterministic():
    assert built("everything").to_yaml() == built("everything").to_yaml()
    fn = built("everything")
    assert fn.to_yaml() == fn.to_yaml()


def test_top_level_shape():
    doc = function_config(base())
    assert list(doc) == ["apiVersion", "kind", "metadata", "spec"]
    assert (doc["apiVersion"], doc["kind"], doc["metadata"]) == (
        "nuclio.io/v1",
        "NuclioFunction",
        {"name": "iris"},
    )
    spec = doc["spec"]
    assert (spec["runtime"], spec["handler"]) == ("python:3.11", "handler:handler")
    assert spec["build"] == {"commands": [f"pip install nuserve=={nuserve.__version__}"]}
    assert (spec["minReplicas"], spec["maxReplicas"], spec["readinessTimeoutSeconds"]) == (
        1,
        4,
        120,
    )
    assert "eventTimeout" not in spec
    assert spec["triggers"] == {
        "http": {"kind": "http", "numWorkers": 1, "attributes": {"maxRequestBodySize": 8388608}}
    }


def test_env_is_a_list_of_name_value_or_secret_refs():
    env = function_config(built("secrets"))["spec"]["env"]
    assert [e["name"] for e in env] == [
        SPEC_ENV,
        CODE_DIR_ENV,
        "LOG_LEVEL",
        "RETRIES",
        "DEBUG",
        "V3IO_ACCESS_KEY",
    ]
    assert env[1:5] == [
        {"name": CODE_DIR_ENV, "value": CODE_DIR},
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "RETRIES", "value": "3"},
        {"name": "DEBUG", "value": "false"},
    ]
    assert env[5] == {
        "name": "V3IO_ACCESS_KEY",
        "valueFrom": {"secretKeyRef": {"name": "v3io-secret", "key": "accessKey"}},
    }


def test_serving_spec_round_trips_through_the_env():
    fn = built("everything")
    env = function_config(fn)["spec"]["env"]
    value = next(e["value"] for e in env if e["name"] == SPEC_ENV)
    assert decode_spec(value) == fn.spec.serving_spec().to_dict()
    assert decode_spec(value)["graph"]["routes"][0]["class_name"] == "tests.models.Echo"


def test_large_spec_is_gzip_encoded_and_still_round_trips(tmp_path):
    fn = base()
    fn.spec.parameters = {f"p{i}": "x" * 100 for i in range(500)}
    value = next(e["value"] for e in function_config(fn)["spec"]["env"] if e["name"] == SPEC_ENV)
    assert value.startswith(GZIP_PREFIX)
    assert len(value) < 20_000
    assert decode_spec(value) == fn.spec.serving_spec().to_dict()
    text = fn.to_yaml(tmp_path / "function.yaml")
    assert check_function_config(yaml.safe_load(text)) == []
    assert function_from_yaml(tmp_path / "function.yaml").to_yaml() == text


def test_explicit_ack_adds_the_static_allocation_annotation():
    doc = function_config(built("kafka_explicit_ack"))
    assert doc["metadata"]["annotations"] == {KAFKA_ALLOCATION_ANNOTATION: "static"}
    trigger = doc["spec"]["triggers"]["requests"]
    assert trigger["explicitAckMode"] == "enable"
    assert trigger["attributes"]["workerAllocationMode"] == "static"
    assert trigger["attributes"]["topics"] == ["a", "b"]


def test_a_conflicting_allocation_annotation_is_an_error():
    fn = built("kafka_explicit_ack")
    fn.spec.annotations[KAFKA_ALLOCATION_ANNOTATION] = "pool"
    with pytest.raises(ConfigError, match=r"trigger 'requests' needs static worker allocation"):
        fn.to_yaml()


def test_requirements_naming_nuserve_replace_the_default_pin():
    fn = base()
    fn.spec.requirements = ["nuserve[serve] @ git+https://example.com/nuserve.git", "numpy<3"]
    commands = function_config(fn)["spec"]["build"]["commands"]
    assert commands == [
        "pip install 'nuserve[serve] @ git+https://example.com/nuserve.git' 'numpy<3'"
    ]


def test_a_function_writing_kafka_streams_installs_the_kafka_client():
    """Nuclio's processor consumes a kafka trigger itself, but the answers, dead letters and
    tracking records are written by nuserve's own producers: without confluent-kafka in the
    image, init_context failed under the real processor (bench/nuclio_kafka.py)."""
    commands = function_config(built("kafka_streams"))["spec"]["build"]["commands"]
    assert commands == [f"pip install nuserve=={nuserve.__version__} '{KAFKA_CLIENT}'"]
    tracked = base().set_tracking("kafka://kafka:9092?topic=tracking")
    assert KAFKA_CLIENT in function_config(tracked)["spec"]["build"]["commands"][0]
    own = built("kafka_streams")
    own.spec.requirements = ["confluent_kafka==2.6.0"]
    assert function_config(own)["spec"]["build"]["commands"] == [
        f"pip install nuserve=={nuserve.__version__} confluent_kafka==2.6.0"
    ]
    for name in ("plain", "kafka_sasl", "v3io"):  # a kafka trigger alone needs no client
        assert "confluent" not in function_config(built(name))["spec"]["build"]["commands"][0]


def test_the_kafka_client_pin_is_the_serve_extras():
    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert KAFKA_CLIENT in project["project"]["optional-dependencies"]["serve"]


def test_base_image_and_extra_build_commands():
    build = function_config(built("everything"))["spec"]["build"]
    assert build == {
        "baseImage": "python:3.11",
        "commands": [
            f"pip install nuserve=={nuserve.__version__} 'scikit-learn>=1.4,<2'",
            "apt-get update",
        ],
    }


def test_nuclios_body_limit_leaves_room_above_nuserves():
    fn = built("batch")
    http = function_config(fn)["spec"]["triggers"]["http"]
    limit = fn.spec.serving_spec().max_body_size
    assert http["attributes"]["maxRequestBodySize"] == limit + max(limit, 1024 * 1024)
    assert http["batch"] == {"mode": "enable", "batchSize": 16, "timeout": "10ms"}
    assert http["numWorkers"] == 8


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda fn: setattr(fn, "metadata_name", "Iris_Model"), r"function name 'Iris_Model' is "
         r"not a valid Kubernetes name .* use e.g. 'iris-model'"),
        (lambda fn: setattr(fn.spec, "min_replicas", 5), r"min_replicas 5 is greater than "
         r"max_replicas 4; raise max_replicas"),
        (lambda fn: setattr(fn.spec, "readiness_timeout", 0), r"readiness_timeout must be an "
         r"integer >= 1 \(got 0\)"),
        (lambda fn: setattr(fn.spec, "event_timeout", "30"), r"event_timeout must be a positive "
         r"Go duration such as \"30s\""),
        (lambda fn: setattr(fn.spec, "runtime", "python:3.9"), r"spec.runtime must be one of "
         r"'python:3.11', 'python:3.12' \(got 'python:3.9'\)"),
        (lambda fn: setattr(fn.spec, "handler", "handler"), r"spec.handler 'handler' must be "
         r"'module:function'"),
        (lambda fn: fn.spec.env.update(X={"name": "s"}), r"env 'X' must be a value or "
         r".*use set_env_from_secret"),
    ],
)  # fmt: skip
def test_bad_settings_are_reported_when_writing(mutate, message):
    fn = base()
    mutate(fn)
    with pytest.raises(ConfigError, match=message):
        fn.to_yaml()


def test_loader_refuses_what_it_does_not_model(tmp_path):
    doc = yaml.safe_load(base().to_yaml())
    doc["spec"]["nodeSelector"] = {"gpu": "a100"}
    path = tmp_path / "function.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"spec has \['nodeSelector'\], which nuserve's function"):
        function_from_yaml(path)


def test_loader_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"function.yaml '.*missing.yaml' not found"):
        function_from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("spec: [unclosed")
    with pytest.raises(ConfigError, match=r"is not valid YAML"):
        function_from_yaml(bad)
    doc = yaml.safe_load(base().to_yaml())
    doc["spec"]["env"] = doc["spec"]["env"][1:]
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"has no NUSERVE_SPEC in spec.env"):
        function_from_yaml(bad)


def test_loader_keeps_a_hand_set_code_dir_and_body_limit(tmp_path):
    doc = yaml.safe_load(base().set_env(CODE_DIR_ENV, "/srv/code").to_yaml())
    assert doc["spec"]["env"][1] == {"name": CODE_DIR_ENV, "value": "/srv/code"}
    edited = copy.deepcopy(doc)
    edited["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"] = 1024
    path = tmp_path / "function.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    fn = function_from_yaml(path)
    assert fn.spec.env == {CODE_DIR_ENV: "/srv/code"}
    assert fn.spec.max_body_size == 1024
    assert (
        function_config(fn)["spec"]["triggers"]["http"]["attributes"]["maxRequestBodySize"] == 1024
    )


def test_a_wheel_dir_installs_nuserve_from_it_after_the_code_is_copied():
    fn = base()
    wheels(fn)
    commands = function_config(fn)["spec"]["build"]["commands"]
    assert commands == [
        "@nuclio.postCopy",
        f"pip install --no-deps --no-index --find-links {CODE_DIR}/wheels nuserve=={nuserve.__version__}",
        f"pip install nuserve=={nuserve.__version__} 'scikit-learn>=1.4,<2'",
        "echo done",
    ]
    fn.spec.offline = True
    assert function_config(fn)["spec"]["build"]["commands"][1:] == [
        f"pip install --no-index --find-links {CODE_DIR}/wheels nuserve=={nuserve.__version__} "
        "'scikit-learn>=1.4,<2'",
        "echo done",
    ]


@pytest.mark.parametrize("bad", ["/abs/wheels", "../wheels", "a/../../b", "w h"])
def test_a_wheel_dir_must_stay_inside_the_code_directory(bad):
    fn = base()
    fn.spec.wheel_dir = bad
    with pytest.raises(ConfigError, match=r"wheel_dir .* must be a relative path inside the code"):
        function_config(fn)
