"""What the generated function.yaml picks when the user leaves it open: numWorkers from the
resources, the async handler for async graphs, trigger batch mode for a batching model; what
the user sets wins, and reading the file back gives the same file."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

import nuserve
from nuserve.errors import ConfigError
from nuserve.function.serving_function import ServingFunction, function_from_yaml
from nuserve.nuclio.function_config import function_config
from nuserve.nuclio.trigger_defaults import cpu_cores
from tests.models import AsyncEcho, Echo
from tests.nuclio_schema import check_function_config


def echo() -> ServingFunction:
    fn = nuserve.new_function("defaults")
    fn.add_model("e", class_name=Echo)
    return fn


def written(fn: ServingFunction) -> dict[str, Any]:
    config = function_config(fn)
    check_function_config(config)
    return config["spec"]


def http(fn: ServingFunction) -> dict[str, Any]:
    trigger: dict[str, Any] = written(fn)["triggers"]["http"]
    return trigger


@pytest.mark.parametrize(
    ("resources", "workers"),
    [
        (lambda fn: fn, 1),
        (lambda fn: fn.with_limits(cpu=4), 4),
        (lambda fn: fn.with_requests(cpu="1500m"), 2),
        (lambda fn: fn.with_requests(cpu="250m"), 1),
        (lambda fn: fn.with_limits(cpu="3").with_requests(cpu="1"), 3),
        (lambda fn: fn.with_limits(cpu=8).gpu(1), 1),
    ],
    ids=["none", "limit", "request-millicores", "under-one", "limit-over-request", "gpu"],
)
def test_num_workers_follow_the_cpus_the_function_may_use(resources, workers):
    assert http(resources(echo()))["numWorkers"] == workers


def test_workers_set_by_hand_win_over_the_resources():
    assert http(echo().with_limits(cpu=4).with_http(workers=2))["numWorkers"] == 2


def test_a_cpu_that_is_not_a_quantity_is_refused_by_name():
    assert cpu_cores("500m") == 0.5
    with pytest.raises(ConfigError, match="'lots' is not a CPU quantity"):
        cpu_cores("lots")


class LocalAsync(nuserve.V2ModelServer):
    def load(self) -> None:
        self.model = "m"

    async def predict(self, request: dict[str, Any]) -> Any:
        await asyncio.sleep(0)
        return request["inputs"]


def flow(engine: str | None) -> ServingFunction:
    fn = nuserve.new_function("flowing")
    graph = fn.set_topology("flow") if engine is None else fn.set_topology("flow", engine=engine)
    graph.to(name="one", handler="tests.models.async_double").respond()
    return fn


def streamed() -> ServingFunction:
    return echo().set_streaming(True)


def generative() -> ServingFunction:
    fn = nuserve.new_function("chat")
    fn.add_model("llm", class_name="nuserve.llm.LLModel", model_path="/models/tiny.gguf")
    return fn


def with_model(cls: Any) -> ServingFunction:
    fn = nuserve.new_function("m")
    fn.add_model("m", class_name=cls)
    return fn


@pytest.mark.parametrize(
    ("make", "handler"),
    [
        (echo, "handler:handler"),
        (lambda: flow("sync"), "handler:handler"),
        (lambda: flow(None), "handler:handler_async"),
        (lambda: with_model(AsyncEcho), "handler:handler_async"),
        (lambda: with_model(LocalAsync), "handler:handler_async"),
        (streamed, "handler:handler_async"),
        (generative, "handler:handler_async"),
    ],
    ids=["sync-router", "sync-flow", "async-flow", "async-hooks", "async-predict", "streamed",
         "llm"],
)  # fmt: skip
def test_the_handler_is_async_when_the_graph_is(make, handler):
    assert written(make())["handler"] == handler


def test_a_handler_set_by_hand_wins():
    fn = flow(None)
    fn.spec.handler = "nuserve.nuclio:handler"
    assert written(fn)["handler"] == "nuserve.nuclio:handler"


def batching(**batch: Any) -> ServingFunction:
    fn = nuserve.new_function("batched")
    fn.add_model("a", class_name=Echo, **batch)
    fn.add_model("b", class_name=Echo)
    return fn


def test_a_batching_model_turns_on_trigger_batch_mode_with_its_size_and_wait():
    trigger = http(batching(max_batch_size=16, max_batch_time_ms=5))
    assert trigger["batch"] == {"mode": "enable", "batchSize": 16, "timeout": "5ms"}
    fractional = http(batching(batching={"max_batch_size": 8, "max_batch_time_ms": 0.5}))
    assert fractional["batch"] == {"mode": "enable", "batchSize": 8, "timeout": "500us"}


def test_batch_mode_set_by_hand_wins_and_zero_turns_it_off():
    assert "batch" not in http(echo())
    assert "batch" not in http(batching(max_batch_size=16).with_http(batch_size=0))
    by_hand = http(batching(max_batch_size=16).with_http(batch_size=4, batch_timeout="20ms"))
    assert by_hand["batch"] == {"mode": "enable", "batchSize": 4, "timeout": "20ms"}


def test_batch_mode_without_a_timeout_gets_nuserves_not_nuclios_second():
    trigger = http(echo().with_http(batch_size=8))
    assert trigger["batch"] == {"mode": "enable", "batchSize": 8, "timeout": "2ms"}


@pytest.mark.parametrize(
    "make",
    [
        lambda: echo().with_limits(cpu=4),
        lambda: echo().with_limits(cpu=4).with_http(workers=1),
        lambda: flow(None),
        lambda: batching(max_batch_size=16, max_batch_time_ms=5),
        lambda: batching(max_batch_size=16).with_http(batch_size=0),
        lambda: batching(max_batch_size=16).with_http(batch_size=3),
    ],
    ids=["derived-workers", "workers-by-hand", "async", "batch", "batch-off", "batch-by-hand"],
)
def test_reading_the_file_back_gives_the_same_file(make, tmp_path):
    path = tmp_path / "function.yaml"
    make().to_yaml(path)
    text = path.read_text()
    again = function_from_yaml(path)
    again.to_yaml(path)
    assert path.read_text() == text


def test_a_file_edited_by_hand_keeps_what_it_says(tmp_path):
    path = tmp_path / "function.yaml"
    batching(max_batch_size=16).with_limits(cpu=4).to_yaml(path)
    doc = yaml.safe_load(path.read_text())
    del doc["spec"]["triggers"]["http"]["batch"]
    doc["spec"]["triggers"]["http"]["numWorkers"] = 1
    doc["spec"]["handler"] = "handler:handler_async"
    path.write_text(yaml.safe_dump(doc))
    spec = written(function_from_yaml(path))
    assert (spec["handler"], spec["triggers"]["http"]["numWorkers"]) == ("handler:handler_async", 1)
    assert "batch" not in spec["triggers"]["http"]
