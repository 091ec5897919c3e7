"""docs/reference/function-yaml.md lists exactly the fields nuserve writes into function.yaml.

A function built with every builder method is written out; each field path of its config
(trigger, annotation and user attribute names generalised to ``<name>``/``<attribute>``)
must be a row of the page's tables, and each row must be a path the config has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import nuserve
from nuserve.nuclio.function_config import KAFKA_ALLOCATION_ANNOTATION, function_config
from tests.docs.site import DOCS

PAGE = DOCS / "reference" / "function-yaml.md"
ROW = re.compile(r"^\| `([^`]+)` \|", re.M)


def every_feature() -> nuserve.ServingFunction:
    fn = nuserve.code_to_function(
        "full", filename="examples/iris/iris_model.py", image="python:3.11-slim",
        requirements=["scikit-learn>=1.4,<2"],
    )  # fmt: skip
    fn.set_topology("router")
    fn.add_model("iris", class_name="IrisClassifier", model_path="examples/iris/model")
    fn.spec.build_commands = ["echo built"]
    fn.spec.annotations = {"team": "ml"}
    fn.spec.event_timeout = "30s"
    fn.with_http(workers=2, max_body_size=8 << 20, batch_size=8, batch_timeout="10ms")
    fn.spec.http_attributes = {"port": 32001}
    fn.gpu(1)
    fn.with_limits(mem="2Gi", cpu=2)
    fn.with_requests(mem="1Gi", cpu="1")
    fn.set_env("LOG_LEVEL", "info")
    fn.set_env_from_secret("KEY", secret="s", key="k")
    fn.add_volume("models", "/models", pvc="models-pvc", read_only=True)
    fn.add_volume("config", "/etc/iris", config_map="iris-config")
    fn.add_volume("certs", "/certs", secret="iris-tls")
    fn.add_volume("scratch", "/scratch", host_path="/mnt/scratch")
    fn.add_kafka_trigger(
        "orders", brokers="b:9092", topics="orders", explicit_ack=True,
        sasl={"user": "u", "password": "p"}, extra_attributes={"sessionTimeout": "30s"},
    )  # fmt: skip
    fn.add_v3io_stream_trigger(
        "stream", "v3io:///users/admin/s", consumer_group="g", access_key="x",
        webapi="http://w:8081",
    )  # fmt: skip
    return fn


def field_paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from field_paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for item in value:
            yield from field_paths(item, prefix + "[]")
    else:
        yield prefix


def generalised(path: str) -> str:
    path = re.sub(r"^spec\.triggers\.(orders|stream)\.", "spec.triggers.<name>.", path)
    path = path.replace("attributes.sessionTimeout", "attributes.<attribute>")
    path = path.replace("spec.triggers.http.attributes.port", "spec.triggers.http.attributes.<name>")
    if path.startswith("metadata.annotations.") and KAFKA_ALLOCATION_ANNOTATION not in path:
        path = "metadata.annotations.<name>"
    return path


def documented() -> set[str]:
    return set(ROW.findall(PAGE.read_text(encoding="utf-8")))


def written() -> set[str]:
    return {generalised(p) for p in field_paths(function_config(every_feature()))}


def test_every_field_written_is_documented() -> None:
    missing = written() - documented()
    assert not missing, f"add rows to {PAGE.name}: {sorted(missing)}"


def test_every_documented_field_is_written() -> None:
    stale = documented() - written()
    assert not stale, f"{PAGE.name} documents fields nuserve does not write: {sorted(stale)}"


def test_the_check_sees_a_new_field() -> None:
    config = function_config(every_feature())
    config["spec"]["brandNewField"] = 1
    paths = {generalised(p) for p in field_paths(config)}
    assert "spec.brandNewField" in paths - documented()
