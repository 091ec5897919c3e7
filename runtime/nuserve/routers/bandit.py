"""Bandit routers: send each request to one model and learn from rewards which one is best.

A client rewards an answer with ``POST /v2/models/<router>/feedback`` and
``{"id": "<the answer's id>", "reward": r}`` (the router remembers which model gave each of
its recent answers) or ``{"model": "<route key>", "reward": r}``; ``r`` is from 0 to 1 (a
click, a conversion, a score). What a router learned lives in its worker (each worker learns
from the feedback it receives) and shows in ``GET /v2/models/<router>`` under ``state``.
``seed`` makes the choices reproducible.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import BadRequest, ConfigError, NotFound
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.base import BaseRouter
from nuserve.routers.weights import is_number

MEMORY = 10_000
"""Recent answer ids remembered per router for feedback by id."""


@dataclass
class Arm:
    """What a router knows of one model."""

    pulls: int = 0
    """Requests sent to it."""
    rewards: int = 0
    """Feedbacks received for it."""
    total: float = 0.0
    """Sum of its rewards."""

    @property
    def mean(self) -> float:
        return self.total / self.rewards if self.rewards else 0.0

    def snapshot(self) -> dict[str, Any]:
        return {"pulls": self.pulls, "rewards": self.rewards, "mean_reward": self.mean}


class BanditRouter(BaseRouter):
    """Chooses one model per request (``choose``) and learns from ``op_feedback``."""

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        seed: int | None = None,
        memory: int = MEMORY,
        **class_args: Any,
    ) -> None:
        super().__init__(context, name, routes, **class_args)
        if isinstance(memory, bool) or not isinstance(memory, int) or memory < 1:
            raise ConfigError(f"{self.label}: memory must be an integer ≥ 1 (got {memory!r})")
        self.rng = random.Random(seed)  # noqa: S311 - routing, not cryptography
        self.memory = memory
        self.recent: OrderedDict[str, str] = OrderedDict()
        self.arms: dict[str, Arm] = {}

    @property
    def label(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def check(self) -> None:
        self.arms = {key: self.arms.get(key) or Arm() for key in self.routes}

    def choose(self) -> str:
        """The route key for the next request (called under ``self.lock``)."""
        raise NotImplementedError

    def select_routes(self, event: Event, request: dict[str, Any]) -> list[V2ModelServer]:
        with self.lock:
            key = self.choose()
            self.arms[key].pulls += 1
        return [self.routes[key]]

    def respond(
        self,
        event: Event,
        request: dict[str, Any],
        replies: dict[str, Response],
        outputs: Any,
    ) -> dict[str, Any]:
        response = super().respond(event, request, replies, outputs)
        answer_id = response.get("id")
        if isinstance(answer_id, str):
            (key,) = replies
            with self.lock:
                self.recent[answer_id] = key
                self.recent.move_to_end(answer_id)
                while len(self.recent) > self.memory:
                    self.recent.popitem(last=False)
        return response

    def op_feedback(self, event: Event) -> dict[str, Any]:
        """``{"id" | "model", "reward"}``: reward the model that gave an answer."""
        body = event.body
        if not isinstance(body, dict):
            raise BadRequest(
                f"feedback to router '{self.name}' must be a JSON object such as "
                '{"id": "<answer id>", "reward": 1} (got ' + type(body).__name__ + ")"
            )
        reward = _reward(body.get("reward"))
        answer_id, model = body.get("id"), body.get("model")
        with self.lock:
            key = self._rewarded(answer_id, model)
            arm = self.arms[key]
            arm.rewards += 1
            arm.total += reward
            state = self.arm_state(key)
        return {"router": self.name, "model": key, "reward": reward, "state": state}

    def _rewarded(self, answer_id: Any, model: Any) -> str:
        for field, value in (("id", answer_id), ("model", model)):
            if value is not None and not isinstance(value, str):
                raise BadRequest(f"feedback field {field!r} must be a string (got {value!r})")
        if model is not None and model not in self.routes:
            raise NotFound(
                f"router '{self.name}' has no model {model!r} (models: {', '.join(self.routes)})"
            )
        if answer_id is None:
            if model is None:
                raise BadRequest(
                    f"feedback to router '{self.name}' needs 'id' (of an earlier answer) or "
                    "'model', and 'reward'"
                )
            return str(model)
        key = self.recent.get(answer_id)
        if key is None:
            raise NotFound(
                f"router '{self.name}' has no unrewarded answer with id {answer_id!r} (it "
                f"remembers its last {self.memory} answers, each rewarded once); "
                'send {"model": ..., "reward": ...} instead'
            )
        if model is not None and model != key:
            raise BadRequest(f"answer {answer_id!r} came from model {key!r}, not {model!r}")
        del self.recent[answer_id]
        return key

    def arm_state(self, key: str) -> dict[str, Any]:
        return self.arms[key].snapshot()

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"models": {key: self.arm_state(key) for key in self.arms}}


class EpsilonGreedyRouter(BanditRouter):
    """The best mean reward so far; a random model with probability ``epsilon``.

    A model not rewarded yet counts as best, so each gets tried before exploiting.
    """

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        epsilon: float = 0.1,
        seed: int | None = None,
        **class_args: Any,
    ) -> None:
        super().__init__(context, name, routes, seed, **class_args)
        if not is_number(epsilon) or not 0 <= epsilon <= 1:
            raise ConfigError(f"{self.label}: epsilon must be from 0 to 1 (got {epsilon!r})")
        self.epsilon = float(epsilon)

    def choose(self) -> str:
        keys = list(self.arms)
        if self.rng.random() < self.epsilon:
            return self.rng.choice(keys)
        untried = [key for key in keys if not self.arms[key].rewards]
        if untried:
            return self.rng.choice(untried)
        best = max(self.arms[key].mean for key in keys)
        return self.rng.choice([key for key in keys if self.arms[key].mean >= best])

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "epsilon": self.epsilon}


class ThompsonSamplingRouter(BanditRouter):
    """Thompson sampling: each model's reward rate has a Beta posterior; the best draw wins.

    Starts from Beta(1, 1); a reward ``r`` adds ``r`` to alpha and ``1 - r`` to beta.
    """

    def choose(self) -> str:
        draws = {
            key: self.rng.betavariate(1 + arm.total, 1 + arm.rewards - arm.total)
            for key, arm in self.arms.items()
        }
        return max(draws, key=draws.__getitem__)

    def arm_state(self, key: str) -> dict[str, Any]:
        arm = self.arms[key]
        alpha, beta = 1 + arm.total, 1 + arm.rewards - arm.total
        return {**arm.snapshot(), "alpha": alpha, "beta": beta, "mean": alpha / (alpha + beta)}


def _reward(value: Any) -> float:
    if not is_number(value) or not 0 <= value <= 1:
        raise BadRequest(f"'reward' must be a number from 0 to 1 (got {value!r})")
    return float(value)
