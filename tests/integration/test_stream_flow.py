"""A flow across two functions, each under its own ``nuserve serve``, joined by a Kafka topic.

The parent (HTTP) runs a step and publishes to the queue; the child consumes the queue
(the kafka trigger ``split_function`` gave it), runs its step, responds, and its answer lands
on the child's output topic.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import nuserve
from tests.integration.test_stream_serve import read_topic
from tests.kafka.broker import KafkaBroker
from tests.kafka.fixtures import new_topic
from tests.serve_models import HOST, ROOT, free_port, request, stop, wait_until
from tests.unit.graph.flow_steps import Add, Double, Trace

pytestmark = pytest.mark.integration


def flow_functions(directory: Path, bootstrap: str, queue: str, output: str, child: str) -> Path:
    """``function.yaml`` (parent) and ``function.<child>.yaml``, written by ``fn.to_yaml``."""
    fn = nuserve.new_function("parent")
    graph = fn.set_topology("flow")
    graph.to(Add, name="enrich", amount=1).to(Trace, name="parent-trace").to(
        ">>", "q", path=f"kafka://{bootstrap}?topic={queue}"
    ).to(Double, name="score", function=child).to(Trace, name="child-trace").respond()
    fn.add_child_function(child).spec.output_stream = f"kafka://{bootstrap}?topic={output}"
    fn.to_yaml(directory / "function.yaml")
    return directory / "function.yaml"


@contextlib.contextmanager
def served(function_yaml: Path, timeout: float = 30) -> Iterator[int]:
    """``nuserve serve function_yaml`` on a free port until the block ends; yields the port."""
    port, log = free_port(), function_yaml.with_suffix(".log")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("NUSERVE_SPEC", None)
    command = [sys.executable, "-m", "nuserve.cli", "serve", str(function_yaml)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port), "--workers", "1"],
            env=env, cwd=function_yaml.parent, stdout=out, stderr=out,
        )  # fmt: skip

    def up() -> bool:  # uvicorn listens only once the lifespan startup (init_context) is done
        assert process.poll() is None, log.read_text()
        try:
            return request(port, "GET", "/metrics", timeout=2)[0] == 200
        except OSError:
            return False

    try:
        wait_until(up, timeout, f"{function_yaml.name} serving")
        yield port
    finally:
        stop(process)


def test_a_request_to_the_parent_is_answered_on_the_childs_output_topic(
    kafka_broker: KafkaBroker,
    tmp_path: Path,
) -> None:
    bootstrap, tag = kafka_broker.bootstrap, uuid.uuid4().hex[:8]
    queue, output, child = f"queue-{tag}", f"out-{tag}", f"child-{tag}"
    for topic in (queue, output):
        new_topic(kafka_broker, topic)
    parent_yaml = flow_functions(tmp_path, bootstrap, queue, output, child)
    child_yaml = tmp_path / f"function.{child}.yaml"
    assert child_yaml.is_file()
    with served(parent_yaml) as parent_port, served(child_yaml):
        body = orjson.dumps({"x": 1, "order": tag})
        status, answer = request(parent_port, "POST", "/", body)
        assert status == 200, answer
        # the parent answers with what it published to the queue
        assert orjson.loads(answer) == {"x": 2, "order": tag, "trace": ["parent-trace"]}
        answers = read_topic(bootstrap, output, lambda got: len(got) >= 1)
    ((key, value, headers),) = answers
    assert orjson.loads(value) == {"x": 4, "order": tag, "trace": ["parent-trace", "child-trace"]}
    assert key is not None and headers["X-Request-Id"] == key
