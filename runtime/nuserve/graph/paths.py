"""``input_path`` and ``result_path``: a step's input taken from, and its output put into, a
dotted path of the body (``"a.b"`` is ``body["a"]["b"]``; in an input path a number indexes
a list).

Storing copies the dicts along the path instead of changing them in place: branches share
the body they fork from, so a step writing into it must not change what a sibling sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nuserve.errors import BadRequest, ConfigError


def split_path(path: str, what: str) -> tuple[str, ...]:
    keys = tuple(path.split("."))
    if not all(keys):
        raise ConfigError(f"{what} {path!r} must be dotted keys such as 'a' or 'a.b'")
    return keys


def get_path(body: Any, keys: tuple[str, ...], path: str) -> Any:
    """``body[a][b]``; a number indexes a list (``"outputs.0"``)."""
    value = body
    for i, key in enumerate(keys):
        if type(value) is dict and key in value:
            value = value[key]
        elif type(value) is list and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            where = ".".join(keys[:i]) or "the body"
            got = sorted(value) if isinstance(value, dict) else _describe(value)
            raise BadRequest(f"input_path {path!r}: {where} has no key {key!r} (got {got})")
    return value


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__


def set_path(body: Any, keys: tuple[str, ...], value: Any, path: str) -> dict[str, Any]:
    """A copy of ``body`` with ``value`` at ``keys``; missing dicts on the way are created."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest(
            f"result_path {path!r} needs a JSON object body to store into "
            f"(got {type(body).__name__})"
        )
    top: dict[str, Any] = dict(body)
    node = top
    for key in keys[:-1]:
        child = node.get(key)
        if child is not None and not isinstance(child, dict):
            raise BadRequest(
                f"result_path {path!r}: {key!r} holds a {type(child).__name__}, not an object"
            )
        node[key] = node = dict(child) if child else {}
    node[keys[-1]] = value
    return top


def with_paths(
    call: Callable[..., Any], input_path: str | None, result_path: str | None, name: str
) -> Callable[..., Any]:
    """``call`` reading its input from ``input_path`` and storing into ``result_path``."""
    ins = split_path(input_path, f"step {name!r} input_path") if input_path else ()
    outs = split_path(result_path, f"step {name!r} result_path") if result_path else ()
    source, target = input_path or "", result_path or ""

    def run(body: Any, *event: Any) -> Any:
        out = call(get_path(body, ins, source) if ins else body, *event)
        return set_path(body, outs, out, target) if outs else out

    return run


def await_paths(
    call: Callable[..., Any], input_path: str | None, result_path: str | None, name: str
) -> Callable[..., Any]:
    """The same as ``with_paths`` for a step returning an awaitable."""
    ins = split_path(input_path, f"step {name!r} input_path") if input_path else ()
    outs = split_path(result_path, f"step {name!r} result_path") if result_path else ()
    source, target = input_path or "", result_path or ""

    async def run(body: Any, *event: Any) -> Any:
        out = await call(get_path(body, ins, source) if ins else body, *event)
        return set_path(body, outs, out, target) if outs else out

    return run
