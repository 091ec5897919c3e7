"""`nuserve serve` runs a function.yaml as MLRun generates it (the spec in SERVING_SPEC_ENV)."""

from __future__ import annotations

import json

import orjson
import pytest
import yaml

from tests.serve_models import request, serve

pytestmark = pytest.mark.integration


def test_nuserve_serve_reads_mlruns_serving_spec(tmp_path):
    spec = {
        "version": "v2",
        "parameters": {},
        "graph": {
            "kind": "router",
            "routes": {
                "echo": {
                    "class_name": "tests.serve_models.CountingEcho",
                    "class_args": {"model_path": ""},
                }
            },
        },
        "load_mode": "sync",
        "function_uri": "proj/mlrun-fn:latest",
        "verbose": False,
    }
    doc = {"kind": "serving", "metadata": {"name": "mlrun-fn"},
           "spec": {"env": [{"name": "SERVING_SPEC_ENV", "value": json.dumps(spec)}]}}  # fmt: skip
    path = tmp_path / "function.yaml"
    path.write_text(yaml.safe_dump(doc))
    with serve(path, workers=1) as served:
        status, body = request(served.port, "POST", "/v2/models/echo/infer", b'{"inputs": [3]}')
        assert status == 200 and orjson.loads(body)["outputs"] == [3]
