"""V2ModelServer: hooks, call flow, operations registry, params, async hooks and async load."""

from __future__ import annotations

import time

import pytest

import nuserve
from tests.models import AsyncEcho, BrokenLoad, Echo, Gated, Params, Raising, Summer


def serve(*models, load_mode="sync", parameters=None, **kw):
    fn = nuserve.new_function("t")
    fn.spec.load_mode = load_mode
    fn.spec.parameters = parameters or {}
    for key, cls, args in models:
        fn.add_model(key, class_name=cls, **args)
    return fn.to_mock_server(**kw)


def test_operations_registry_is_built_at_class_creation():
    assert Summer.operations == {"describe": "op_describe", "ping": "op_ping"}
    assert Echo.operations == {}
    assert AsyncEcho.async_hooks == {"load", "preprocess", "predict"}
    assert Echo.async_hooks == frozenset()


def test_call_flow_runs_preprocess_validate_predict_postprocess_in_order():
    calls = []

    class Traced(nuserve.V2ModelServer):
        def load(self):
            calls.append("load")

        def preprocess(self, request, operation):
            calls.append(f"pre:{operation}")
            request["inputs"] = [[x * 2 for x in row] for row in request["inputs"]]
            return request

        def validate(self, request, operation):
            calls.append("validate")
            return super().validate(request, operation)

        def predict(self, request):
            calls.append("predict")
            return request["inputs"]

        def postprocess(self, response):
            calls.append("post")
            response["outputs"] = {"doubled": response["outputs"]}
            return response

    server = serve(("m", Traced, {}))
    out = server.test("/v2/models/m/infer", {"inputs": [[1, 2]]})
    assert calls == ["load", "pre:infer", "validate", "predict", "post"]
    assert out["outputs"] == {"doubled": [[2, 4]]}
    assert out["model_name"] == "m"
    assert "model_version" not in out


def test_explain_calls_explain_and_ops_get_the_event():
    server = serve(("s", Summer, {}))
    assert server.test("/v2/models/s/explain", {"inputs": [[1, 9, 3]]})["outputs"] == [1]
    assert server.test("/v2/models/s/infer", {"inputs": [[1, 9, 3]]})["rows"] == 1
    assert server.test("/v2/models/s/describe", {"a": 1}) == {
        "name": "s",
        "version": "",
        "got": {"a": 1},
    }
    assert server.test("/v2/models/s/describe", b'{"b": 2}')["got"] == {"b": 2}
    assert server.test("/v2/models/s/ping", {}) == "pong"


def test_request_id_from_body_is_echoed_else_event_id():
    server = serve(("e", Echo, {}))
    assert server.test("/v2/models/e/infer", {"id": "abc", "inputs": [1]})["id"] == "abc"
    out = server.test("/v2/models/e/infer", {"inputs": [1]}, event_id="ev-7")
    assert out["id"] == "ev-7"


def test_async_hooks_are_awaited():
    server = serve(("a", AsyncEcho, {}))
    out = server.test("/v2/models/a/infer", {"inputs": [[1]]})
    assert out["outputs"] == {"inputs": [[1]], "pre": True}


def test_model_given_means_no_load():
    class NeverLoad(Echo):
        def load(self):
            raise AssertionError("load must not run when model= is given")

    server = serve(("n", NeverLoad, {"model": object()}))
    assert server.test("/v2/models/n/infer", {"inputs": [3]})["outputs"] == [3]


def test_get_param_looks_in_class_args_then_spec_then_function(tmp_path):
    (tmp_path / "model.pkl").write_bytes(b"x")
    (tmp_path / "model_spec.yaml").write_text(
        "model_file: model.pkl\nparameters: {b: from-spec, a: shadowed}\n"
    )

    class SpecParams(Params):
        def load(self):
            self.get_model(".pkl")

    server = serve(
        ("p", SpecParams, {"a": "from-class", "model_path": str(tmp_path)}),
        parameters={"c": "from-function", "b": "shadowed"},
    )
    out = server.test("/v2/models/p/infer", {"inputs": ["a", "b", "c", "d"]})
    assert out["outputs"] == ["from-class", "from-spec", "from-function", "missing"]


def test_get_model_sets_model_spec_and_width_check(tmp_path):
    (tmp_path / "m.pkl").write_bytes(b"x")
    (tmp_path / "model_spec.yaml").write_text(
        "model_file: m.pkl\ninputs: [{name: a, value_type: float}, {name: b, value_type: float}]\n"
        "outputs: [{name: y, value_type: int}]\nframework: sklearn\n"
    )

    class WithSpec(Echo):
        def load(self):
            self.model_file, _ = self.get_model(".pkl")

    server = serve(("w", WithSpec, {"model_path": str(tmp_path)}))
    meta = server.test("/v2/models/w", method="GET")
    assert meta["inputs"] == [
        {"name": "a", "datatype": "FP32", "shape": [-1]},
        {"name": "b", "datatype": "FP32", "shape": [-1]},
    ]
    assert meta["framework"] == "sklearn"
    err = server.test("/v2/models/w/infer", {"inputs": [[1, 2], [1, 2, 3]]}, silent=True).body
    assert err["error"] == "model 'w' expects rows of 2 features (row 1 has 3)"
    assert server.test("/v2/models/w/infer", {"inputs": [[1, 2]]})["outputs"] == [[1, 2]]
    # a float (32 bits, as MLRun's ValueType.FLOAT) cannot hold 1e308: once a meaningless 200
    err = server.test("/v2/models/w/infer", {"inputs": [[1, 1e308]]}, silent=True, get_body=False)
    assert err.status_code == 400
    assert err.body["error"].startswith("model 'w' expects finite values from -3.40282e+38 to")
    assert "(row 0 has 1e+308)" in err.body["error"]
    tensor = {"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 1e300]}
    err = server.test("/v2/models/w/infer", {"inputs": [tensor]}, silent=True, get_body=False)
    assert err.status_code == 400
    assert "(the tensor has 1e+300)" in err.body["error"]


def test_get_model_without_model_path_says_how_to_fix():
    class NoPath(Echo):
        def load(self):
            self.get_model(".pkl")

    with pytest.raises(nuserve.ConfigError, match="has no model_path; pass model_path="):
        serve(("np", NoPath, {}))


def test_set_metric_records_per_request_metrics():
    class Metered(Echo):
        def predict(self, request):
            self.set_metric("rows", len(request["inputs"]))
            return request["inputs"]

    server = serve(("m", Metered, {}))
    server.test("/v2/models/m/infer", {"inputs": [1, 2, 3]})
    assert server.root.routes["m"].metrics == {"rows": 3}


def test_user_exception_is_a_500_naming_model_stage_and_error_and_server_keeps_serving():
    server = serve(("bad", Raising, {}), ("good", Echo, {}))
    resp = server.test("/v2/models/bad/infer", {"inputs": [7]}, silent=True, get_body=False)
    assert resp.status_code == 500
    assert resp.body["error"] == "model 'bad' raised in infer: ValueError: cannot handle [7]"
    assert "Traceback" not in resp.body["error"]
    assert server.test("/v2/models/good/infer", {"inputs": [1]})["outputs"] == [1]


def test_user_raised_nuserve_errors_keep_their_status():
    class Picky(Echo):
        def validate(self, request, operation):
            raise nuserve.BadRequest(f"inputs {request['inputs']!r} must be positive")

    class Remote(Echo):
        def predict(self, request):
            raise nuserve.RemoteTimeout("remote model at http://127.0.0.1:9 did not answer in 1s")

    server = serve(("p", Picky, {}), ("r", Remote, {}))
    resp = server.test("/v2/models/p/infer", {"inputs": [-1]}, silent=True, get_body=False)
    assert (resp.status_code, resp.body["error"]) == (400, "inputs [-1] must be positive")
    resp = server.test("/v2/models/r/infer", {"inputs": [1]}, silent=True, get_body=False)
    assert resp.status_code == 504
    assert "did not answer" in resp.body["error"]


def test_async_load_answers_503_with_retry_after_then_200():
    Gated.release.clear()
    server = serve(("g", Gated, {}), load_mode="async")
    for path, body in (("/v2/models/g/infer", {"inputs": [1]}), ("/v2/models/g/ready", None)):
        resp = server.test(path, body, silent=True, get_body=False)
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "1"
        assert resp.body["error"] == "model g is loading"
    health = server.test("/v2/health/ready", silent=True, get_body=False)
    assert health.status_code == 503
    assert health.body["error"] == "models not ready: g (loading)"
    Gated.release.set()
    deadline = time.monotonic() + 10
    while not server.root.routes["g"].ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.test("/v2/models/g/infer", {"inputs": [1]})["outputs"] == [1]
    assert server.test("/v2/models/g/ready") == {"name": "g", "ready": True}
    assert server.test("/v2/health/ready") == {"ready": True, "models": 1}


def test_failed_async_load_answers_503_with_the_load_error():
    server = serve(("b", BrokenLoad, {}), load_mode="async")
    model = server.root.routes["b"]
    deadline = time.monotonic() + 10
    while model.loading and time.monotonic() < deadline:
        time.sleep(0.01)
    resp = server.test("/v2/models/b/infer", {"inputs": [1]}, silent=True, get_body=False)
    assert resp.status_code == 503
    expected = "model 'b' failed to load: FileNotFoundError: weights.bin is missing"
    assert resp.body["error"] == expected
    health = server.test("/v2/health/ready", silent=True).body
    assert health["error"] == f"models not ready: b ({expected})"


def test_failed_sync_load_fails_the_server_with_the_cause():
    with pytest.raises(nuserve.ConfigError, match="weights.bin is missing"):
        serve(("b", BrokenLoad, {}))
