"""ServingFunction's deployment builders: what each writes into the spec, and the ConfigError
messages (value, expectation, fix) for bad input."""

from __future__ import annotations

import pytest

from nuserve.errors import ConfigError
from nuserve.function.serving_function import (
    FunctionSpec,
    ServingFunction,
    code_to_function,
    new_function,
)
from nuserve.spec.serving import ServingSpec
from tests.models import Echo


@pytest.fixture
def fn() -> ServingFunction:
    fn = new_function("iris")
    fn.add_model("iris", class_name=Echo)
    return fn


def test_existing_builder_behaviour_is_kept(fn):
    assert isinstance(fn.spec, FunctionSpec) and isinstance(fn.spec, ServingSpec)
    assert fn.name == fn.metadata_name == "iris"
    assert fn.to_mock_server().test("/v2/models/iris/infer", {"inputs": [1]})["outputs"] == [1]
    with pytest.raises(ConfigError, match="kind 'job' is not supported"):
        ServingFunction("x", kind="job")
    with pytest.raises(ConfigError, match=r"code file 'nope.py' not found"):
        code_to_function("x", filename="nope.py")


def test_serving_spec_is_the_serving_part_only(fn):
    fn.spec.parameters = {"a": 1}
    fn.gpu(1).set_env("A", "b")
    serving = fn.spec.serving_spec()
    assert type(serving) is ServingSpec
    assert serving.graph is not fn.spec.graph and serving.parameters == {"a": 1}
    assert serving.to_dict() == ServingSpec.from_dict(serving.to_dict()).to_dict()


def test_requirements_argument():
    assert new_function("a", requirements=["numpy"]).spec.requirements == ["numpy"]
    assert code_to_function("a", requirements=["x"]).spec.requirements == ["x"]


def test_builders_chain_and_return_the_function(fn):
    same = (
        fn.with_http(workers=2)
        .with_limits(mem="4Gi")
        .with_requests(cpu=1)
        .gpu(1)
        .set_env("A", "1")
        .set_env_from_secret("B", "s", "k")
        .add_volume("v", "/v", host_path="/data")
        .add_kafka_trigger(brokers="k:9092", topics="t")
        .add_v3io_stream_trigger("s", "p", container="users")
        .add_trigger("c", {"kind": "cron", "numWorkers": 1, "attributes": {"interval": "1m"}})
    )
    assert same is fn


def test_resources(fn):
    fn.with_limits(mem="4Gi", cpu=2, gpus=1).with_requests(mem=512, cpu=0.5)
    assert fn.spec.resources == {
        "limits": {"memory": "4Gi", "cpu": "2", "nvidia.com/gpu": "1"},
        "requests": {"memory": "512", "cpu": "0.5"},
    }
    fn.gpu(0)
    assert fn.spec.resources["limits"] == {"memory": "4Gi", "cpu": "2"}
    fn.gpu(2, gpu_type="amd.com/gpu")
    assert fn.spec.resources["limits"]["amd.com/gpu"] == "2"


def test_http_batch_mode(fn):
    fn.with_http(batch_size=8, batch_timeout=0.25)
    assert (fn.spec.http_batch_size, fn.spec.http_batch_timeout) == (8, "0.25s")
    fn.with_http(batch_size=0)
    assert (fn.spec.http_batch_size, fn.spec.http_batch_timeout) == (0, None)


def test_kafka_defaults(fn):
    fn.add_kafka_trigger(brokers=["k:9092"], topics=["t"])
    assert fn.spec.triggers["kafka"] == {
        "kind": "kafka-cluster",
        "numWorkers": 1,
        "attributes": {
            "brokers": ["k:9092"],
            "topics": ["t"],
            "consumerGroup": "nuserve",
            "initialOffset": "earliest",
            "workerAllocationMode": "pool",
        },
    }


def test_v3io_stream_paths(fn):
    fn.add_v3io_stream_trigger("a", "v3io:///users/admin/stream/", workers=3, seek_to="earliest")
    fn.add_v3io_stream_trigger("b", "admin/stream", container="users", webapi="http://w:8081")
    a, b = fn.spec.triggers["a"], fn.spec.triggers["b"]
    assert a["attributes"]["containerName"] == b["attributes"]["containerName"] == "users"
    assert a["attributes"]["streamPath"] == b["attributes"]["streamPath"] == "/admin/stream"
    assert (a["numWorkers"], a["attributes"]["seekTo"], b["url"]) == (
        3,
        "earliest",
        "http://w:8081",
    )
    assert "password" not in a and "explicitAckMode" not in a


def test_volume_of_the_same_name_is_replaced(fn):
    fn.add_volume("models", "/models", pvc="a")
    fn.add_volume("models", "/models", pvc="b")
    assert fn.spec.volumes == [
        {
            "volume": {"name": "models", "persistentVolumeClaim": {"claimName": "b"}},
            "volumeMount": {"name": "models", "mountPath": "/models"},
        }
    ]


def test_add_trigger_copies_its_input(fn):
    spec = {"kind": "cron", "numWorkers": 1, "attributes": {"interval": "1m"}}
    fn.add_trigger("tick", spec)
    spec["attributes"]["interval"] = "2m"
    assert fn.spec.triggers["tick"]["attributes"]["interval"] == "1m"


KAFKA = {"brokers": ["k:9092"], "topics": ["t"]}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda fn: fn.add_kafka_trigger(**KAFKA, workers=0),
         r"kafka trigger 'kafka' workers must be an integer >= 1 \(got 0\)"),
        (lambda fn: fn.add_kafka_trigger(**KAFKA, initial_offset="oldest"),
         r"initial_offset must be one of 'earliest', 'latest' \(got 'oldest'\)"),
        (lambda fn: fn.add_kafka_trigger(**KAFKA, worker_allocation_mode="fixed"),
         r"worker_allocation_mode must be one of 'pool', 'static' \(got 'fixed'\)"),
        (lambda fn: fn.add_kafka_trigger(brokers=[], topics=["t"]),
         r"brokers must be a non-empty list of strings \(got \[\]\)"),
        (lambda fn: fn.add_kafka_trigger(**KAFKA, consumer_group=""),
         r"consumer_group must be a non-empty string"),
        (lambda fn: fn.add_kafka_trigger(**KAFKA, sasl={"user": "u"}),
         r"sasl must be a dict with 'user' and 'password' .* \(got keys \['user'\]\)"),
        (lambda fn: fn.add_kafka_trigger(**KAFKA, sasl={"user": "u", "password": "p",
                                                        "mechanism": "MD5"}),
         r"mechanism must be one of 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512' \(got 'MD5'\)"),
        (lambda fn: fn.add_kafka_trigger(**KAFKA, extra_attributes={"topics": ["x"]}),
         r"extra_attributes \['topics'\] repeat attributes set by the named arguments"),
        (lambda fn: fn.add_v3io_stream_trigger("s", "v3io://webapi/users/s"),
         r"stream_path 'v3io://webapi/users/s' must be v3io:///<container>/<path>"),
        (lambda fn: fn.add_v3io_stream_trigger("s", "admin/s"),
         r"stream_path 'admin/s' has no container; pass v3io:///<container>/admin/s or container="),
        (lambda fn: fn.add_v3io_stream_trigger("s", "v3io:///users/s", container="users"),
         r"without container="),
        (lambda fn: fn.add_v3io_stream_trigger("s", "v3io:///users/s", seek_to="now"),
         r"seek_to must be one of 'earliest', 'latest' \(got 'now'\)"),
        (lambda fn: fn.add_trigger("http", {"kind": "http", "numWorkers": 1}),
         r"trigger name 'http' is not allowed.*with_http\(\)"),
        (lambda fn: fn.add_trigger("t", {"numWorkers": 1}),
         r"trigger 't' needs a 'kind' such as 'kafka-cluster'"),
        (lambda fn: fn.add_trigger("k", {"kind": "kafka-cluster", "attributes": {}}),
         r"trigger 'k' must set numWorkers .* \(32 for kafka-cluster\)"),
        (lambda fn: fn.add_trigger("k", {"kind": "kafka-cluster", "maxWorkers": 2}),
         r"maxWorkers is its deprecated spelling"),
        (lambda fn: fn.with_http(workers=0), r"http workers must be an integer >= 1 \(got 0\)"),
        (lambda fn: fn.with_http(max_body_size=-1), r"max_body_size must be an integer >= 1"),
        (lambda fn: fn.with_http(batch_timeout="10ms"),
         r"batch_timeout needs batch mode: pass batch_size >= 1 as well"),
        (lambda fn: fn.with_http(batch_size=4, batch_timeout="soon"),
         r"batch_timeout must be a positive Go duration .* \(got 'soon'\)"),
        (lambda fn: fn.with_limits(mem="4 GB"),
         r"limits mem must be a Kubernetes quantity such as .* \(got '4 GB'\)"),
        (lambda fn: fn.with_requests(cpu=True), r"requests cpu must be a Kubernetes quantity"),
        (lambda fn: fn.gpu(-1), r"gpus must be an integer >= 0 \(got -1\)"),
        (lambda fn: fn.gpu(1.5), r"gpus must be an integer >= 0 \(got 1.5\)"),
        (lambda fn: fn.gpu(1, gpu_type="gpu"), r"gpu_type must be a resource name like"),
        (lambda fn: fn.set_env("1X", "v"), r"environment variable name '1X' is not valid"),
        (lambda fn: fn.set_env("NUSERVE_SPEC", "{}"), r"NUSERVE_SPEC is reserved"),
        (lambda fn: fn.set_env("X", [1]), r"env 'X' must be a string, number or boolean"),
        (lambda fn: fn.set_env_from_secret("X", "", "k"), r"secret must be a non-empty string"),
        (lambda fn: fn.add_volume("Models", "/m", pvc="p"),
         r"volume name 'Models' is not a valid Kubernetes name .* use e.g. 'models'"),
        (lambda fn: fn.add_volume("m", "models", pvc="p"),
         r"volume 'm' mount_path must be an absolute path \(got 'models'\)"),
        (lambda fn: fn.add_volume("m", "/m"), r"volume 'm' needs exactly one source: host_path=, "
         r"pvc=, config_map= or secret= \(got 0\)"),
        (lambda fn: fn.add_volume("m", "/m", pvc="p", secret="s"), r"\(got 2\)"),
    ],
)  # fmt: skip
def test_bad_input_is_a_config_error_that_names_it(fn, call, message):
    with pytest.raises(ConfigError, match=message):
        call(fn)


def test_a_mount_path_used_by_another_volume_is_refused(fn):
    fn.add_volume("a", "/data", pvc="a")
    with pytest.raises(ConfigError, match=r"mount_path '/data' is already used by volume 'a'"):
        fn.add_volume("b", "/data", pvc="b")


def test_nothing_is_stored_when_a_builder_refuses(fn):
    with pytest.raises(ConfigError):
        fn.add_kafka_trigger(brokers=["k:9092"], topics=["t"], workers=0)
    with pytest.raises(ConfigError):
        fn.with_limits(mem="lots")
    assert fn.spec.triggers == {}
    assert fn.spec.resources == {}
