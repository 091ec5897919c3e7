"""What the fuzz tests share: JSON strategies, hostile bodies and a guard against hangs.

Hypothesis's ``deadline`` only fails a call that *returns* late; a call that never returns
would block the run. ``within`` runs the call in a daemon thread and fails the example after
a few seconds instead, so a hang is a test failure, not a stuck CI job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from hypothesis import strategies as st

from nuserve.errors import NuserveError

T = TypeVar("T")

HANG_SECONDS = 10.0
"""How long one call may take before the example fails as a hang (generous: 2 shared cores)."""

INT64 = st.integers(-(2**63), 2**64 - 1)
"""The integers a JSON body can carry (orjson reads larger ones as floats)."""

json_scalars = (
    st.none()
    | st.booleans()
    | INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
"""Any value a JSON document can hold (what every adapter hands the core)."""

json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


def deep(depth: int, opener: bytes = b"[", closer: bytes = b"]", core: bytes = b"1") -> bytes:
    """A document nested ``depth`` levels deep (the JSON parser stops at 1024)."""
    return opener * depth + core + closer * depth


hostile_bytes = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"",
            b"\xff\xfe\xfd",
            b'{"inputs": "\xff"}',
            b'{"inputs": [NaN]}',
            b'{"inputs": [Infinity, -Infinity]}',
            b'{"inputs": [1e400]}',
            b'{"inputs": [123456789012345678901234567890]}',
            b'{"inputs": [1, 2',
            b"null",
            b"[]",
            b'"inputs"',
            b"\x00",
            b'{"\\ud800": 1}',
            deep(100_000),
            deep(1020),
            deep(1020, b'{"a":', b"}"),
            b'{"inputs": [{"name": "t", "shape": [1], "datatype": "FP32", "data": %s}]}'
            % deep(1000),
            b'{"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES", "data": %s}]}'
            % deep(1000, core=b'"a"'),
        ]
    ),
    json_values.map(orjson.dumps),
    st.tuples(json_objects.map(orjson.dumps), st.integers(0, 64), st.binary(max_size=4)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]  # a valid body with junk spliced in
    ),
)
"""Bytes a client may send: junk, broken JSON, out-of-range numbers, deep nesting."""


def within(call: Callable[[], T], seconds: float = HANG_SECONDS) -> T:
    """``call()``, failing the test when it has not returned after ``seconds``."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append((True, call()))
        except BaseException as exc:  # re-raised in the test's thread
            result.append((False, exc))

    thread = threading.Thread(target=run, name="fuzz-call", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"the call did not return within {seconds} s (a hang)")
    ok, value = result[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def decoded_or_refused(call: Callable[[], T]) -> T | NuserveError:
    """The decoded value, or our own 4xx error; any other exception fails the test."""
    try:
        return within(call)
    except NuserveError as err:
        assert 400 <= err.status < 500, f"{type(err).__name__} ({err.status}): {err.message}"
        assert isinstance(err.message, str) and err.message, "an error must say what is wrong"
        return err
