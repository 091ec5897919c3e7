"""WeightedRouter: the traffic split follows the weights; sticky keys keep their model."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.routers.weighted import WeightedRouter
from tests.unit.routers.fakes import Const, router_fn

MODELS = {"m:v1": (Const, {"value": 1}), "m:v2": (Const, {"value": 2})}


def canary(**args):
    return router_fn(WeightedRouter, MODELS, name="canary", **args).to_mock_server()


def version(server, headers=None):
    out = server.test("/v2/models/canary/infer", {"inputs": [[0]]}, headers=headers)
    assert out["model_name"] == "m"
    return out["model_version"]


def test_the_split_follows_the_weights():
    server = canary(routes_weights={"m:v1": 0.9, "m:v2": 0.1}, seed=1)
    versions = [version(server) for _ in range(5000)]
    assert 0.88 <= versions.count("v1") / 5000 <= 0.92
    assert server.test("/v2/models/m/infer", {"inputs": [[0]]})["outputs"] == [2]  # still direct


def test_weights_of_any_sum_and_zero_weights():
    server = canary(routes_weights={"m:v1": 0, "m:v2": 3}, seed=1)
    assert {version(server) for _ in range(200)} == {"v2"}
    server = canary(seed=2)  # no weights: an even split
    share = [version(server) for _ in range(2000)].count("v1") / 2000
    assert 0.45 <= share <= 0.55


def test_sticky_keys_keep_their_model_in_every_worker():
    weights = {"m:v1": 0.9, "m:v2": 0.1}
    first = canary(routes_weights=weights, sticky_header="X-User", seed=1)
    second = canary(routes_weights=weights, sticky_header="X-User", seed=99)  # another worker
    users = [f"user-{i}" for i in range(1000)]
    routes = {u: version(first, {"X-User": u}) for u in users}
    assert all(version(first, {"X-User": u}) == routes[u] for u in users[:50])
    assert all(version(second, {"x-user": u}) == routes[u] for u in users[:200])
    assert 0.07 <= list(routes.values()).count("v2") / 1000 <= 0.13
    assert {version(first) for _ in range(100)} == {"v1", "v2"}  # no header: drawn


def test_listing_shows_the_weights():
    server = canary(routes_weights={"m:v1": 9, "m:v2": 1}, sticky_header="X-User")
    assert server.test("/v2/models")["routers"]["canary"] == {
        "kind": "WeightedRouter",
        "routes": ["m:v1", "m:v2"],
        "weights": {"m:v1": 0.9, "m:v2": 0.1},
        "sticky_header": "X-User",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"routes_weights": {"m:v1": 1, "m:v3": 1}},
         "WeightedRouter 'canary': routes_weights names unknown model(s) 'm:v3' "
         "(models: m:v1, m:v2)"),
        ({"sticky_header": ""},
         "WeightedRouter 'canary': sticky_header must be a header name (got '')"),
    ],
)  # fmt: skip
def test_bad_arguments(args, message):
    with pytest.raises(nuserve.ConfigError) as info:
        canary(**args)
    assert str(info.value) == message
