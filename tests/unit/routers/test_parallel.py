"""ParallelRun: every model answers; outputs keyed by model, or dicts merged."""

from __future__ import annotations

from nuserve.routers.parallel import ParallelRun
from tests.models import Echo
from tests.unit.routers.fakes import AsyncConst, Const, DictAnswer, router_fn


def test_outputs_are_keyed_by_model():
    models = {"a": (Const, {"value": 1}), "b:v2": (AsyncConst, {"value": 2}), "e": (Echo, {})}
    server = router_fn(ParallelRun, models, name="par").to_mock_server()
    out = server.test("/v2/models/par/infer", {"inputs": [[5]]})
    assert out["model_name"] == "par"
    assert out["outputs"] == {"a": [1], "b:v2": [2], "e": [[5]]}


def test_dict_outputs_are_merged():
    models = {
        "a": (DictAnswer, {"answer": {"score": 1, "shared": [1, 2]}}),
        "b": (DictAnswer, {"answer": {"label": "x", "shared": [1, 2]}}),
    }
    server = router_fn(ParallelRun, models, name="par").to_mock_server()
    assert server.test("/", {"inputs": [0]})["outputs"] == {
        "score": 1,
        "shared": [1, 2],
        "label": "x",
    }


def test_a_key_answered_twice_differently_is_an_error():
    models = {
        "a": (DictAnswer, {"answer": {"score": 1}}),
        "b": (DictAnswer, {"answer": {"score": 2}}),
    }
    server = router_fn(ParallelRun, models, name="par").to_mock_server()
    err = server.test("/", {"inputs": [0]}, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (
        500,
        "models 'a' and 'b' of router 'par' both answered 'score', with different values; "
        "override merge() of ParallelRun to combine them",
    )


class Averaging(ParallelRun):
    def merge(self, event, request, results):
        return {"mean": sum(v["score"] for v in results.values()) / len(results)}


def test_merge_is_the_hook_to_override():
    models = {
        "a": (DictAnswer, {"answer": {"score": 1}}),
        "b": (DictAnswer, {"answer": {"score": 2}}),
    }
    server = router_fn(Averaging, models).to_mock_server()
    assert server.test("/v2/models/Averaging/infer", {"inputs": [0]})["outputs"] == {"mean": 1.5}
    assert server.test("/v2/models")["routers"]["Averaging"]["kind"] == "Averaging"
