"""WeightedRouter: split traffic between models by weight (canary releases, A/B tests).

``WeightedRouter(routes_weights={"m:v1": 0.9, "m:v2": 0.1})`` sends about 90 % of requests
to ``m:v1``. With ``sticky_header="X-User"`` every request carrying the same header value goes
to the same model: the value is hashed (BLAKE2b, not Python's per-process ``hash``) into
the same [0, 1) point the random draw would give, so every worker and every restart agrees,
and the sticky keys still split by the weights. Requests without the header are drawn at
random.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError
from nuserve.event import Event
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.base import BaseRouter
from nuserve.routers.weights import normalise_weights


class WeightedRouter(BaseRouter):
    """One model per request, chosen by weight; optionally sticky by a header's value."""

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        routes_weights: dict[str, float] | None = None,
        sticky_header: str | None = None,
        seed: int | None = None,
        **class_args: Any,
    ) -> None:
        """
        :param routes_weights: route key → weight (≥ 0, any sum); ``None`` splits equally.
        :param sticky_header: a header whose value pins a client to one model.
        :param seed: seeds the random draw of requests that are not sticky.
        """
        super().__init__(context, name, routes, **class_args)
        if sticky_header is not None and (not isinstance(sticky_header, str) or not sticky_header):
            raise ConfigError(
                f"WeightedRouter '{self.name}': sticky_header must be a header name "
                f"(got {sticky_header!r})"
            )
        self.routes_weights = routes_weights
        self.sticky_header = sticky_header
        self.rng = random.Random(seed)  # noqa: S311 - routing, not cryptography
        self.weights: dict[str, float] = {}
        self._keys: list[str] = []
        self._bounds: list[float] = []
        self._last = 0

    def check(self) -> None:
        owner = f"WeightedRouter '{self.name}'"
        self.weights = normalise_weights(self.routes_weights, self.routes, owner, "routes_weights")
        self._keys = list(self.weights)
        self._bounds = list(itertools.accumulate(self.weights.values()))
        self._last = max(i for i, w in enumerate(self.weights.values()) if w > 0)

    def select_routes(self, event: Event, request: dict[str, Any]) -> list[V2ModelServer]:
        point = self.sticky_point(event) if self.sticky_header else None
        if point is None:
            with self.lock:
                point = self.rng.random()
        index = min(bisect.bisect_right(self._bounds, point), self._last)
        return [self.routes[self._keys[index]]]

    def sticky_point(self, event: Event) -> float | None:
        """The header's value hashed into [0, 1); ``None`` when the request has no such header."""
        assert self.sticky_header is not None
        headers = event.headers
        value = headers.get(self.sticky_header)
        if value is None:
            wanted = self.sticky_header.lower()
            value = next((v for k, v in headers.items() if str(k).lower() == wanted), None)
        if value is None or value in ("", b""):
            return None
        data = value if isinstance(value, bytes) else str(value).encode()
        digest = hashlib.blake2b(data, digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "weights": dict(self.weights),
            "sticky_header": self.sticky_header,
        }
