"""``nuserve serve`` of the iris example, driven by its own OpenAPI document (schemathesis).

The model is trained by the test, as ``tests/e2e/test_iris_example.py`` trains it, into a
temporary directory that is the server's working directory: the root ``function.yaml`` is
served unchanged (its relative ``model_path`` resolves there first). schemathesis reads
``GET /openapi.json`` and sends, per operation, requests its schemas allow and requests they
do not; every answer must have a status and a body the document gives for that operation,
none may be a 5xx, and a method the document does not list for a path must get a 405 with an
``Allow`` header (that check was off while ``TRACE``, ``PUT`` or ``PATCH`` ran inference).
Left out: schemathesis's checks of how the server treats data (a 400 for a body the schema
allows is the OIP codec's job: JSON Schema cannot say that ``data`` holds ``prod(shape)``
values).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import schemathesis
import schemathesis.engine
from openapi_spec_validator import validate
from schemathesis.engine import events

from nuserve.cli.main import main
from tests.serve_models import HOST, ROOT, Served, free_port, request, stop, wait_until

pytestmark = pytest.mark.integration

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
)
EXAMPLES = 50
"""Generated requests per operation in the fuzzing phase (the coverage phase adds its own
edge cases: boundary values, missing and wrong-typed fields)."""
SEED = 9


def train_iris(out_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location("iris_train", ROOT / "examples/iris/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(out_dir)


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``nuserve serve function.yaml`` (the root one), one worker, model trained here."""
    tmp = tmp_path_factory.mktemp("iris")
    train_iris(tmp / "examples/iris/model")
    port, log = free_port(), tmp / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("NUSERVE_SPEC", None)
    command = [sys.executable, "-m", "nuserve.cli", "serve", str(ROOT / "function.yaml")]
    command += ["--host", HOST, "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=tmp, stdout=out, stderr=out)
    served = Served(process, port, tmp / "loads.txt", tmp / "calls.txt", log)
    try:
        wait_until(served.ready, 60, "the iris server answering /v2/health/ready")
        yield served
    finally:
        stop(process)


@pytest.fixture(scope="module")
def document(iris: Served) -> dict[str, Any]:
    status, body = request(iris.port, "GET", "/openapi.json")
    assert status == 200, body
    return orjson.loads(body)  # type: ignore[no-any-return]


def test_the_served_document_is_valid_and_is_what_the_cli_writes(
    iris: Served, document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validate(document)
    assert "/v2/models/iris/labels" in document["paths"]
    monkeypatch.chdir(iris.log.parent)  # where the trained model is, as for the server
    out = tmp_path / "openapi.json"
    assert main(["openapi", str(ROOT / "function.yaml"), "--load", "-o", str(out)]) == 0
    assert orjson.loads(out.read_bytes()) == document


def run_schemathesis(document: dict[str, Any], base_url: str) -> tuple[list[str], int]:
    """Run schemathesis's engine (coverage then fuzzing phases) against ``base_url``:
    the failures, one line each with the request that shows it, and the number of requests."""
    config = schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    found: dict[tuple[str | None, str, str], str] = {}
    requests = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            raise event.exception
        if isinstance(event, events.NonFatalError):
            found[(event.label, "error", str(event.value))] = f"{event.label}: {event.value!r}"
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            for case_id, checks in event.recorder.checks.items():
                for info in (c.failure_info for c in checks if c.failure_info is not None):
                    failure = info.failure
                    key = (failure.operation, failure.title, failure.message[:80])
                    answer = event.recorder.interactions.get(case_id)
                    got = answer.response if answer is not None else None
                    status = got.status_code if got is not None else "no answer"
                    body = got.content[:300] if got is not None else b""
                    found.setdefault(
                        key,
                        f"{failure.operation}: {failure.title} ({failure.message.strip()})\n"
                        f"    {info.code_sample}\n    -> {status} {body!r}",
                    )
    return list(found.values()), requests


def test_every_answer_conforms_to_the_document(iris: Served, document: dict[str, Any]) -> None:
    # Bounded by count (EXAMPLES per operation, one pass of each phase; no ``max-time``,
    # which would repeat the fuzzing until it is up), not by a clock: on a loaded machine the
    # same run once took 64 s where it takes 15 s alone, and speed is for bench/.
    failures, requests = run_schemathesis(document, f"http://{HOST}:{iris.port}")
    assert not failures, "\n".join(failures)
    assert requests >= 10 * len(document["paths"]), f"only {requests} requests were sent"
    assert iris.process.poll() is None, "the server died"
