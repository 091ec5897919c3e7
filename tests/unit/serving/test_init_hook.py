"""MLRun's ``nuclio_init_hook``: a handler from SERVING_SPEC_ENV, classes from the globals."""

from __future__ import annotations

import json

import orjson

import nuserve
from nuserve.runtimes import nuclio_init_hook, serving_subkind
from nuserve.serving.server import GraphContext, MockEvent


class Times(nuserve.V2ModelServer):
    def load(self):
        self.model = "ok"

    def predict(self, request):
        return request["inputs"][0] * self.get_param("k")


def test_the_hook_serves_the_spec_in_the_environment(monkeypatch):
    spec = {"version": "v2", "graph": {"kind": "router", "routes": {
        "m": {"class_name": "Times", "class_args": {"model_path": "", "k": 3}}}}}  # fmt: skip
    monkeypatch.setenv("SERVING_SPEC_ENV", json.dumps(spec))
    context = GraphContext()
    nuclio_init_hook(context, globals(), serving_subkind)
    event = MockEvent('{"inputs": [5]}', path="/v2/models/m/infer", method="POST")
    answer = context.mlrun_handler(context, event)
    assert answer.status_code == 200 and orjson.loads(answer.body)["outputs"] == 15
