"""ModelRouter: every path in wire.md, versions, body routing, listing, health, 404/405."""

from __future__ import annotations

import pytest

import nuserve
from tests.models import Echo, Summer


@pytest.fixture
def server():
    fn = nuserve.new_function("r")
    fn.set_topology("router")
    fn.add_model("m:v1", class_name=Summer)
    fn.add_model("m:v2", class_name=Summer)
    fn.add_model("e", class_name=Echo)
    return fn.to_mock_server()


def version_of(server, path, body=None, **kw):
    return server.test(path, body if body is not None else {"inputs": [[1, 2]]}, **kw).get(
        "model_version"
    )


def test_versions_and_default_is_last_added(server):
    assert version_of(server, "/v2/models/m/infer") == "v2"
    assert version_of(server, "/v2/models/m/versions/v1/infer") == "v1"
    assert version_of(server, "/v2/models/m/versions/v2/predict") == "v2"
    assert version_of(server, "/v2/models/m") == "v2"
    assert server.test("/v2/models/m/versions/v1/describe", {})["version"] == "v1"


def test_the_unversioned_model_is_the_default_and_every_version_has_its_path():
    """As MLRun routes it: ``/v2/models/m`` is the model added as ``m`` (whatever was added
    after it), ``/v2/models/m/versions/<v>`` each version."""
    for keys in (["m", "m:v2", "m:v3"], ["m:v2", "m", "m:v3"], ["m:v2", "m:v3", "m"]):
        fn = nuserve.new_function("r")
        for key in keys:
            fn.add_model(key, class_name=Summer)
        server = fn.to_mock_server()
        assert version_of(server, "/v2/models/m/infer") is None, keys  # no model_version
        assert server.test("/v2/models/m", method="GET")["versions"] == [], keys
        assert server.test("/v2/models/m/versions/v3", method="GET")["versions"] == ["v3"]
        assert version_of(server, "/v2/models/m/versions/v2/infer") == "v2", keys
        assert version_of(server, "/v2/models/m/versions/v3/infer") == "v3", keys
        out = server.test("/", {"model": "m", "inputs": [[1, 1]]})
        assert out.get("model_version") is None, keys


def test_marked_default_version_wins():
    fn = nuserve.new_function("r")
    fn.add_model("m:v1", class_name=Summer, default=True)
    fn.add_model("m:v2", class_name=Summer)
    server = fn.to_mock_server()
    assert version_of(server, "/v2/models/m/infer") == "v1"


def test_trailing_slash_and_query_string_are_normalised(server):
    assert server.test("/v2/models/e/infer/", {"inputs": [1]})["outputs"] == [1]
    assert server.test("/v2/models/e/infer?x=1", {"inputs": [2]})["outputs"] == [2]
    assert server.test("/v2/models/", method="GET")["models"] == ["e", "m"]


def test_body_routing_for_stream_triggers(server):
    body = {"model": "m", "version": "v1", "operation": "explain", "inputs": [[5, 1]]}
    out = server.test("/", body, trigger="kafka")
    assert (out["model_version"], out["outputs"]) == ("v1", [0])
    out = server.test("/", b'{"model": "e", "inputs": [3]}')
    assert out["outputs"] == [3]
    out = server.test("/v2/models/infer", {"model": "m", "inputs": [[1, 1]]})
    assert out["model_version"] == "v2"
    err = server.test("/", {"inputs": [1]}, silent=True, get_body=False)
    assert err.status_code == 400
    assert err.body["error"].startswith("request names no model;")
    err = server.test("/", {"model": "zz", "inputs": [1]}, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (404, "model 'zz' not found (models: e, m)")
    err = server.test("/", {"model": 3, "inputs": [1]}, silent=True, get_body=False)
    assert err.body["error"] == "body field 'model' must be a string (got 3)"


def test_single_model_needs_no_name_in_body():
    fn = nuserve.new_function("one")
    fn.add_model("only", class_name=Echo)
    server = fn.to_mock_server()
    assert server.test("/", {"inputs": [4]})["outputs"] == [4]


def test_listing_health_and_server_metadata(server):
    assert server.test("/v2/models", method="GET") == {
        "models": ["e", "m"],
        "versions": {"e": [], "m": ["v1", "v2"]},
    }
    assert server.test("/v2/health/live") == {"live": True}
    assert server.test("/v2/health/ready") == {"ready": True, "models": 3}
    assert server.test("/") == {"status": "alive", "ready": True, "models": 3}
    meta = server.test("/v2")
    assert meta["name"] == "nuserve" and meta["version"] == nuserve.__version__
    model_meta = server.test("/v2/models/m/versions/v1")
    assert model_meta["name"] == "m" and model_meta["versions"] == ["v1"]
    assert model_meta["operations"] == ["infer", "predict", "explain", "describe", "ping"]
    assert server.test("/v2/models/m/ready") == {"name": "m", "ready": True}


@pytest.mark.parametrize(
    ("path", "method", "status", "message"),
    [
        ("/v2/models/nope/infer", "POST", 404, "model 'nope' not found (models: e, m)"),
        ("/v2/models/m/versions/v9/infer", "POST", 404,
         "model 'm' has no version 'v9' (versions: v1, v2)"),
        ("/v2/models/m/fly", "POST", 404,
         "model 'm' has no operation 'fly' (operations: infer, predict, explain, ready, "
         "describe, ping)"),
        ("/v2/models/m/__class__", "POST", 404,
         "model 'm' has no operation '__class__' (operations: infer, predict, explain, ready, "
         "describe, ping)"),
        ("/v2/models/e/_private", "POST", 404,
         "model 'e' has no operation '_private' (operations: infer, predict, explain, ready)"),
        ("/v3/whatever", "GET", 404,
         "no route for GET /v3/whatever; model paths are /v2/models/<model>/infer"),
        ("/v2/models/e/infer", "GET", 405, "/v2/models/e/infer accepts POST, not GET"),
        ("/v2/models/e/ready", "POST", 405, "/v2/models/e/ready accepts GET or HEAD, not POST"),
        ("/v2/models", "DELETE", 405, "/v2/models accepts GET or HEAD, not DELETE"),
    ],
)
def test_errors_name_what_exists(server, path, method, status, message):
    resp = server.test(path, {"inputs": [1]}, method=method, silent=True, get_body=False)
    assert (resp.status_code, resp.body["error"]) == (status, message)
    assert resp.body["id"]
    assert server.test("/v2/models/e/infer", {"inputs": [1]})["outputs"] == [1]


def test_bad_keys_are_rejected():
    fn = nuserve.new_function("bad")
    with pytest.raises(nuserve.ConfigError, match="is not 'name' or 'name:version'"):
        fn.add_model("a/b", class_name=Echo)
        fn.to_mock_server()
