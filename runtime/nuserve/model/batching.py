"""Merging several requests' inputs into one ``predict`` call and splitting the outputs back.

Inputs merge along the first dimension: MLRun rows (lists) are concatenated, OIP tensors
(numpy arrays, or name → array dicts) are concatenated per name. The merged request is the
first one with every request's rows, so only requests alike in all else share a call
(``batch_key``). Outputs are split by each request's row count; an output whose length is
not the total row count is an error for every request of the batch, never a silent
misalignment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any

import orjson

from nuserve.aio import maybe_await
from nuserve.errors import ConfigError, ModelError

if TYPE_CHECKING:
    pass


def row_count(inputs: Any) -> int | None:
    """Rows in one request's inputs, or ``None`` when they cannot be merged with others."""
    if type(inputs) is list:
        return len(inputs)
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    if isinstance(inputs, np.ndarray):
        return int(inputs.shape[0]) if inputs.ndim else None
    if isinstance(inputs, dict) and inputs:
        counts = {row_count(v) for v in inputs.values() if isinstance(v, np.ndarray)}
        if len(counts) == 1 and len(inputs) == sum(
            isinstance(v, np.ndarray) for v in inputs.values()
        ):
            return counts.pop()
    return None


def merge_key(inputs: Any) -> tuple[Any, ...]:
    """Requests merge only with others of the same kind, dtype and trailing shape; named
    tensors also in the same order (a model's outputs may follow it, as an echo's do)."""
    if type(inputs) is list:
        return _ROWS_KEY
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    if isinstance(inputs, np.ndarray):
        return ("array", inputs.dtype.str, inputs.shape[1:])
    return ("dict", tuple((k, v.dtype.str, v.shape[1:]) for k, v in inputs.items()))


_ROWS_KEY = ("rows",)

NOT_KEYED = frozenset({"inputs", "id", "model", "version", "operation"})
"""Request fields that do not keep requests apart (``batch_key``)."""


def batch_key(request: dict[str, Any]) -> tuple[Any, ...] | None:
    """What a request must share with others to be merged with them (``None``: alone), for
    a request whose inputs have rows (``row_count`` is not ``None``).

    Besides the inputs' kind, dtype and trailing shape, every other field but the request's
    ``id`` and its routing (``model``, ``version``, ``operation``): the merged ``predict``
    sees the first request's ``outputs`` and ``parameters`` (and any field a hook added), and
    a model that answers the outputs asked for answered every request of a batch in the
    first one's order. A field JSON cannot hold keeps its request alone.
    """
    key = merge_key(request["inputs"])
    if len(request) == 1 or (len(request) == 2 and "id" in request):
        return key
    rest = {k: v for k, v in request.items() if k not in NOT_KEYED}
    if not rest:
        return key
    try:
        return (*key, orjson.dumps(rest, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY))
    except TypeError:  # orjson.JSONEncodeError
        return None


def mergeable_groups(requests: list[dict[str, Any] | None]) -> list[list[int]]:
    """Indices of the requests that may share one ``predict``, first come first; each that
    cannot merge (no rows, ``None``, or a ``batch_key`` of ``None``) in a group of its own.

    Nuclio's batch mode once merged whatever one model got: rows with tensors, FP32 with
    INT64, a 0-d array: wrong dtypes back, or an exception for the whole batch.
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, request in enumerate(requests):
        key = None
        if request is not None and row_count(request.get("inputs")) is not None:
            key = batch_key(request)
        groups.setdefault(("alone", i) if key is None else key, []).append(i)
    return list(groups.values())


def merge_inputs(batch: list[Any]) -> Any:
    """One input holding every request's rows, in order."""
    first = batch[0]
    if type(first) is list:
        merged: list[Any] = []
        for inputs in batch:
            merged.extend(inputs)
        return merged
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    if isinstance(first, np.ndarray):
        return np.concatenate(batch)
    return {name: np.concatenate([inputs[name] for inputs in batch]) for name in first}


def split_outputs(outputs: Any, counts: list[int], model: str) -> list[Any]:
    """Each request's share of ``outputs``; a length mismatch fails the whole batch."""
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    total = sum(counts)
    if isinstance(outputs, dict):
        parts = {k: split_outputs(v, counts, model) for k, v in outputs.items()}
        return [{k: parts[k][i] for k in outputs} for i in range(len(counts))]
    length = len(outputs) if isinstance(outputs, list | tuple | np.ndarray) else None
    if length != total:
        got = f"{length} rows" if length is not None else f"a {type(outputs).__name__}"
        raise ModelError(
            f"model '{model}' answered a batch of {total} rows with {got}; "
            "batched models must return one output row per input row"
        )
    result = []
    start = 0
    for count in counts:
        result.append(outputs[start : start + count])
        start += count
    return result


@dataclass(frozen=True)
class BatchSettings:
    """Adaptive batching of one model: ``add_model(..., max_batch_size=32, max_batch_time_ms=2)``

    ``batching={...}`` with the same keys works too.
    """

    max_batch_size: int = 32
    """Rows after which a batch is sent at once."""
    max_batch_time_ms: float = 2.0
    """How long the first request of a batch waits for others."""

    @classmethod
    def from_class_args(cls, class_args: dict[str, Any]) -> BatchSettings | None:
        """Take the batching arguments out of a model's class args (``None``: no batching)."""
        options = dict(class_args.pop("batching", None) or {})
        for key in ("max_batch_size", "max_batch_time_ms"):
            if key in class_args:
                options[key] = class_args.pop(key)
        if not options:
            return None
        unknown = set(options) - {"max_batch_size", "max_batch_time_ms"}
        if unknown:
            raise ConfigError(
                f"unknown batching options {sorted(unknown)}; "
                "use max_batch_size and max_batch_time_ms"
            )
        settings = cls(**options)
        if settings.max_batch_size < 1 or settings.max_batch_time_ms < 0:
            raise ConfigError(
                f"batching needs max_batch_size >= 1 and max_batch_time_ms >= 0 (got {settings})"
            )
        return settings


WAIT_STEPS = 16
"""The learned wait moves in steps of ``max_batch_time_ms / WAIT_STEPS``, or is none."""
GAP_FACTOR = 4
"""A batch goes once no request has come for this many times the usual gap between two
requests of a batch (learned), even before its wait is over."""
QUIET_SHARE = 16
"""The shortest quiet time that ends a batch early: ``max_batch_time_ms / QUIET_SHARE`` (a
burst of requests from clients on another machine, or another core, comes unevenly)."""
GAP_WEIGHT = 0.2
"""Weight of each new gap in the learned one (an exponentially weighted mean)."""


class Batcher:
    """Collects concurrent requests of one model and answers them with merged ``predict`` calls.

    Runs on the asyncio loop of the server; a batch goes when it holds ``max_batch_size`` rows
    or when its first request has waited ``wait`` seconds. Requests whose inputs cannot be
    merged are predicted alone. When a merged ``predict`` raises, each request is retried alone
    so one bad request does not fail the others.

    The wait is learned from the arrivals, up to ``max_batch_time_ms``: a wait that ended with
    its request still alone halves it, down to none at all (the batch then goes once the loop
    has taken in what already arrived: the requests read while the last ``predict`` ran); a
    wait that gathered others, or a batch that filled, doubles it. A lone client (c=1) once
    paid the whole ``max_batch_time_ms`` on every request, for nothing.

    Within a wait, the batch goes as soon as the requests stop coming: once none has come for
    ``max_batch_time_ms / QUIET_SHARE``, or ``GAP_FACTOR`` times the learned gap between two
    requests of a batch if longer (a shorter quiet split wrk's bursts of 16 into batches of 7,
    a longer one idled the worker: measured in bench/RESULTS.md). Clients that wait for
    their answers (16 of them, a batch of 32 allowed) once waited out the whole wait on every
    batch: the 16 came within a tenth of it, and no 17th could come. While a batch waits, the
    quiet time is checked on each turn of the loop (``perf_counter``: the loop's own clock
    ticks in milliseconds under uvloop).
    """

    def __init__(
        self, predict_batch: PredictBatch, predict_one: PredictOne, settings: BatchSettings
    ) -> None:
        self.predict_batch = predict_batch
        self.predict_one = predict_one
        self.settings = settings
        self.batches = 0
        self.batched_requests = 0
        self._pending: list[tuple[dict[str, Any], asyncio.Future[Any], tuple[Any, ...]]] = []
        self._rows = 0
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self.most_wait = settings.max_batch_time_ms / 1000
        self.wait = self.most_wait
        """Seconds the first request of the next batch waits for others (learned)."""
        self.gap: float | None = None
        """The usual seconds between two requests of a batch (learned; ``None``: not yet)."""
        self._last = 0.0
        self._check: asyncio.Handle | None = None

    async def submit(self, request: dict[str, Any]) -> Any:
        rows = row_count(request.get("inputs"))
        key = batch_key(request) if rows is not None else None
        if rows is None or key is None:
            return await maybe_await(self.predict_one(request))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        now = perf_counter()
        if self._pending:
            gap = now - self._last
            known = self.gap
            self.gap = gap if known is None else known + GAP_WEIGHT * (gap - known)
        self._last = now
        self._pending.append((request, future, key))
        self._rows += rows
        if self._rows >= self.settings.max_batch_size:
            self.wait = self.most_wait
            self._flush()
        elif self._timer is None:
            wait = self.wait
            if wait:
                self._timer = loop.call_later(wait, self._timed_out)
                if self.gap is not None:
                    self._check = loop.call_soon(self._quiet, loop)
            else:
                self._timer = loop.call_soon(self._timed_out)
        return await future

    def _quiet(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send the waiting batch if no request came for a while; else look again on the
        loop's next turn."""
        self._check = None
        if not self._pending or self.gap is None:
            return
        quiet = max(self.most_wait / QUIET_SHARE, GAP_FACTOR * self.gap)
        if perf_counter() - self._last >= quiet:
            self._send()
        else:
            self._check = loop.call_soon(self._quiet, loop)

    def _timed_out(self) -> None:
        """The first request's wait is over."""
        self._timer = None
        self._send()

    def _send(self) -> None:
        """Learn from what the wait gathered, then send the batch."""
        if len(self._pending) > 1:
            self.wait = min(self.most_wait, max(2 * self.wait, self.most_wait / WAIT_STEPS))
        else:
            half = self.wait / 2
            self.wait = half if half >= self.most_wait / WAIT_STEPS else 0.0
        self._flush()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._check is not None:
            self._check.cancel()
            self._check = None
        pending, self._pending, self._rows = self._pending, [], 0
        groups: dict[tuple[Any, ...], list[tuple[dict[str, Any], asyncio.Future[Any]]]] = {}
        for request, future, key in pending:
            groups.setdefault(key, []).append((request, future))
        for group in groups.values():
            self.batches += 1
            self.batched_requests += len(group)
            self._answer(group)

    def _answer(self, group: list[tuple[dict[str, Any], asyncio.Future[Any]]]) -> None:
        try:
            parts = self.predict_batch([request for request, _ in group])
        except ModelError as exc:
            if len(group) == 1 or "answered a batch" in exc.message:
                _fail(group, exc)
                return
            for request, future in group:
                try:
                    _settle(future, self.predict_one(request))
                except Exception as single_exc:  # noqa: BLE001 - handed to its own request
                    _fail([(request, future)], single_exc)
            return
        except Exception as exc:  # noqa: BLE001 - every request of the batch gets the error
            _fail(group, exc)
            return
        for (_, future), part in zip(group, parts, strict=True):
            _settle(future, part)


PredictBatch = Callable[[list[dict[str, Any]]], list[Any]]
PredictOne = Callable[[dict[str, Any]], Any]


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(group: list[tuple[dict[str, Any], asyncio.Future[Any]]], exc: BaseException) -> None:
    for _, future in group:
        if not future.done():
            future.set_exception(exc)
