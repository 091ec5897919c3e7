"""VotingEnsemble: golden votes (ties, weights of any sum, regression mean, inferred type)."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.routers.ensemble import VotingEnsemble, vote
from tests.unit.routers.fakes import Const, DictAnswer, router_fn


def ensemble(values, **args):
    """An ensemble of Const models m0, m1, ... answering ``values`` (one per model)."""
    models = {f"m{i}": (Const, {"value": v}) for i, v in enumerate(values)}
    return router_fn(VotingEnsemble, models, name="ens", **args).to_mock_server()


def voted(server, rows=1, **body):
    return server.test("/v2/models/ens/infer", {"inputs": [[0]] * rows, **body})["outputs"]


def test_regression_is_the_weighted_mean_not_the_weighted_sum():
    # MLRun 1.12 answers 5000 here (the weighted sum).
    weights = dict.fromkeys(["m0", "m1", "m2", "m3"], 1)
    server = ensemble([1000, 1000, 1000, 2000], vote_type="regression", weights=weights)
    assert voted(server) == [1250.0]
    assert voted(ensemble([1000, 1000, 1000, 2000], vote_type="regression")) == [1250.0]


@pytest.mark.parametrize("total", [0.5, 1, 3])
def test_weights_of_any_sum_give_the_same_vote(total):
    shares = {"m0": 0.5, "m1": 0.25, "m2": 0.25}
    weights = {k: v * total for k, v in shares.items()}
    # row 0: class 2 has 0.5, class 1 has 0.25 + 0.25: a tie, won by the lowest class (1);
    # row 1: class 0 has 0.75 against 0.25 for class 1.
    server = ensemble([[2, 0], [1, 1], [1, 0]], weights=weights)
    assert voted(server, rows=2) == [1, 0]
    server = ensemble([10.0, 20.0, 40.0], weights=weights)
    assert voted(server) == [pytest.approx(20.0)]  # 0.5 * 10 + 0.25 * 20 + 0.25 * 40


def test_ties_go_to_the_lowest_class_despite_rounding():
    assert voted(ensemble([3, 3, 1, 1])) == [1]
    assert voted(ensemble(["b", "a"])) == ["a"]
    # 0.1 + 0.2 != 0.3 in floating point; still a tie between class 5 and class 0
    weights = {"m0": 0.1, "m1": 0.2, "m2": 0.3}
    assert voted(ensemble([5, 5, 0], weights=weights)) == [0]
    assert voted(ensemble([0, 0, 5], weights=weights)) == [0]


def test_the_vote_type_is_inferred_from_the_predictions():
    assert voted(ensemble([1, 1, 2])) == [1]  # integers: classification
    assert voted(ensemble([1.0, 1.0, 2.5])) == [1.5]  # floats: regression
    assert voted(ensemble([True, False, False])) == [False]
    assert voted(ensemble([1, 1, 2], vote_type="regression")) == [pytest.approx(4 / 3)]


def test_weights_decide_the_majority():
    weights = {"m0": 3, "m1": 1, "m2": 1}
    assert voted(ensemble([7, 8, 8], weights=weights)) == [7]


def test_every_row_and_every_output_is_voted():
    server = ensemble([[[1, 0]] * 3, [[1, 1]] * 3, [[0, 1]] * 3])
    assert voted(server, rows=3) == [[1, 1]] * 3


def test_listing_and_metadata_show_the_weights():
    server = ensemble([1, 2], weights={"m0": 3, "m1": 1})
    described = {
        "kind": "VotingEnsemble",
        "routes": ["m0", "m1"],
        "vote_type": "inferred",
        "weights": {"m0": 0.75, "m1": 0.25},
        "prediction_col_name": "prediction",
    }
    assert server.test("/v2/models")["routers"] == {"ens": described}
    meta = server.test("/v2/models/ens")
    assert {k: meta[k] for k in described} == described


def test_return_children_adds_each_models_outputs():
    server = ensemble([1, 2, 2], return_children=True)
    out = server.test("/v2/models/ens/infer", {"inputs": [[0]]})
    assert out["outputs"] == [2]
    assert out["children"] == {"m0": [1], "m1": [2], "m2": [2]}


def test_prediction_col_name_picks_the_predictions_from_dict_answers():
    models = {
        "a": (DictAnswer, {"answer": {"prediction": [1, 0], "proba": [0.9, 0.4]}}),
        "b": (DictAnswer, {"answer": {"prediction": [1, 1], "proba": [0.8, 0.6]}}),
    }
    server = router_fn(VotingEnsemble, models, name="ens").to_mock_server()
    assert voted(server, rows=2) == [1, 0]
    fn = router_fn(VotingEnsemble, models, name="ens", prediction_col_name="proba")
    assert voted(fn.to_mock_server(), rows=2) == [pytest.approx(0.85), pytest.approx(0.5)]
    fn = router_fn(VotingEnsemble, models, name="ens", prediction_col_name="label")
    err = fn.to_mock_server().test("/", {"inputs": [[0]]}, silent=True, get_body=False)
    assert err.status_code == 500
    assert err.body["error"] == (
        "model 'a' answered a dict without 'label' (keys: prediction, proba); set "
        "prediction_col_name= of VotingEnsemble 'ens' to the key holding the predictions"
    )


def test_predictions_of_different_shapes_are_an_error():
    server = ensemble([[1, 2], [1]])
    err = server.test("/", {"inputs": [[0], [0]]}, silent=True, get_body=False)
    assert err.status_code == 500
    assert err.body["error"] == (
        "the models' predictions cannot be voted on ('m0': shape [2] of int64, 'm1': shape [1] "
        "of int64); every model must answer the same number of numbers or labels per row"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"weights": {"m0": 1, "m1": 1, "zz": 1}},
         "VotingEnsemble 'ens': weights names unknown model(s) 'zz' (models: m0, m1)"),
        ({"weights": {"m0": 1}},
         "VotingEnsemble 'ens': weights gives no weight to 'm1'; give every model a weight"),
        ({"weights": {"m0": -1, "m1": 2}},
         "VotingEnsemble 'ens': weight of 'm0' must be 0 or more (got -1)"),
        ({"weights": {"m0": 0, "m1": 0.0}},
         "VotingEnsemble 'ens': weights are all zero; at least one model needs a weight > 0"),
        ({"weights": {"m0": "1", "m1": 1}},
         "VotingEnsemble 'ens': weight of 'm0' must be a number (got '1')"),
        ({"weights": [1, 1]},
         "VotingEnsemble 'ens': weights must be a dict of model key → weight (got list)"),
        ({"vote_type": "mean"},
         "VotingEnsemble 'ens': vote_type must be 'classification', 'regression' or None"),
    ],
)  # fmt: skip
def test_bad_arguments_are_config_errors(args, message):
    with pytest.raises(nuserve.ConfigError) as info:
        ensemble([1, 2], **args)
    assert str(info.value).startswith(message)


def test_vote_function_golden_numbers():
    assert vote([[1000.0], [1000.0], [1000.0], [2000.0]], [1, 1, 1, 1]) == [1250.0]
    assert vote([[1000], [1000], [1000], [2000]], [0.1] * 4, "regression") == [1250.0]
    assert vote([[1000], [1000], [1000], [2000]], [1] * 4) == [1000]  # integers: classes
    assert vote([[0], [1]], [1, 1]) == [0]
    assert vote([0, 2, 2], [0.6, 0.2, 0.2]) == 0
