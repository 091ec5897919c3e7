"""Bandit routers: they learn the better model from feedback; state, validation, seeds."""

from __future__ import annotations

import random

import pytest

import nuserve
from nuserve.routers.bandit import EpsilonGreedyRouter, ThompsonSamplingRouter
from tests.unit.routers.fakes import Const, router_fn

BANDITS = [EpsilonGreedyRouter, ThompsonSamplingRouter]
PAYOFF = {"a": 0.4, "b": 0.8}


def bandit(cls, seed=7, **args):
    models = {"a": (Const, {"value": "a"}), "b": (Const, {"value": "b"})}
    return router_fn(cls, models, name="bandit", seed=seed, **args).to_mock_server()


def ask(server):
    return server.test("/v2/models/bandit/infer", {"inputs": [[0]]})


def feedback(server, body, **kw):
    return server.test("/v2/models/bandit/feedback", body, **kw)


@pytest.mark.parametrize("cls", BANDITS)
def test_after_500_feedbacks_the_better_model_gets_the_traffic(cls):
    server = bandit(cls)
    rewards = random.Random(42)
    for _ in range(500):
        out = ask(server)
        assert out["outputs"] == [out["model_name"]]  # the answer says which model gave it
        reward = 1 if rewards.random() < PAYOFF[out["model_name"]] else 0
        feedback(server, {"id": out["id"], "reward": reward})
    chosen = [ask(server)["model_name"] for _ in range(200)]
    assert chosen.count("b") >= 160, chosen.count("b")
    state = server.test("/v2/models/bandit")["state"]["models"]
    assert state["a"]["rewards"] + state["b"]["rewards"] == 500
    assert state["b"]["mean_reward"] > state["a"]["mean_reward"]


@pytest.mark.parametrize("cls", BANDITS)
def test_a_seed_makes_the_choices_reproducible(cls):
    runs = []
    for _ in range(2):
        server = bandit(cls, seed=3)
        runs.append([ask(server)["model_name"] for _ in range(30)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"a", "b"}


def test_feedback_by_model_and_the_state_snapshot():
    server = bandit(ThompsonSamplingRouter)
    out = feedback(server, {"model": "b", "reward": 0.25})
    assert out == {
        "router": "bandit",
        "model": "b",
        "reward": 0.25,
        "state": {"pulls": 0, "rewards": 1, "mean_reward": 0.25, "alpha": 1.25, "beta": 1.75,
                  "mean": 1.25 / 3},
    }  # fmt: skip
    meta = server.test("/v2/models/bandit")
    assert meta["kind"] == "ThompsonSamplingRouter"
    assert meta["operations"] == ["infer", "predict", "explain", "feedback"]
    assert meta["state"]["models"]["a"] == {
        "pulls": 0, "rewards": 0, "mean_reward": 0.0, "alpha": 1.0, "beta": 1.0, "mean": 0.5,
    }  # fmt: skip
    assert bandit(EpsilonGreedyRouter).test("/v2/models")["routers"]["bandit"] == {
        "kind": "EpsilonGreedyRouter",
        "routes": ["a", "b"],
        "epsilon": 0.1,
    }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "a", "reward": 1.5}, 400, "'reward' must be a number from 0 to 1 (got 1.5)"),
        ({"model": "a", "reward": "1"}, 400, "'reward' must be a number from 0 to 1 (got '1')"),
        ({"model": "a", "reward": True}, 400, "'reward' must be a number from 0 to 1 (got True)"),
        ({"model": "a"}, 400, "'reward' must be a number from 0 to 1 (got None)"),
        ({"reward": 1}, 400,
         "feedback to router 'bandit' needs 'id' (of an earlier answer) or 'model', and 'reward'"),
        ({"model": "zz", "reward": 1}, 404, "router 'bandit' has no model 'zz' (models: a, b)"),
        ({"model": 3, "reward": 1}, 400, "feedback field 'model' must be a string (got 3)"),
        ({"id": "nope", "reward": 1}, 404,
         "router 'bandit' has no unrewarded answer with id 'nope' (it remembers its last 10000 "
         'answers, each rewarded once); send {"model": ..., "reward": ...} instead'),
        ([1], 400,
         'feedback to router \'bandit\' must be a JSON object such as {"id": "<answer id>", '
         '"reward": 1} (got list)'),
    ],
)  # fmt: skip
@pytest.mark.parametrize("cls", BANDITS)
def test_bad_feedback_is_refused(cls, body, status, message):
    err = feedback(bandit(cls), body, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (status, message)


def test_an_answer_is_rewarded_once_and_old_ids_are_forgotten():
    server = bandit(EpsilonGreedyRouter, memory=2)
    ids = [ask(server)["id"] for _ in range(3)]
    assert feedback(server, {"id": ids[2], "reward": 1})["reward"] == 1.0
    again = feedback(server, {"id": ids[2], "reward": 1}, silent=True, get_body=False)
    assert again.status_code == 404
    forgotten = feedback(server, {"id": ids[0], "reward": 1}, silent=True, get_body=False)
    assert forgotten.status_code == 404
    out = ask(server)
    other = "a" if out["model_name"] == "b" else "b"
    wrong = feedback(server, {"id": out["id"], "model": other, "reward": 1}, silent=True).body
    assert (
        wrong["error"]
        == f"answer {out['id']!r} came from model {out['model_name']!r}, not {other!r}"
    )


def test_a_raw_json_feedback_body_is_read():
    server = bandit(EpsilonGreedyRouter)
    out = feedback(server, b'{"model": "a", "reward": 0}', content_type="application/json")
    assert out["state"]["rewards"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"epsilon": 2}, "EpsilonGreedyRouter 'bandit': epsilon must be from 0 to 1 (got 2)"),
        ({"memory": 0}, "EpsilonGreedyRouter 'bandit': memory must be an integer ≥ 1 (got 0)"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(nuserve.ConfigError) as info:
        bandit(EpsilonGreedyRouter, **args)
    assert str(info.value) == message
