"""A flow step that returns a generator passes its chunks on: each later step gets each
chunk; the answer is streamed with ``set_streaming(True)``, else joined."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.server.mock import MockResponseError


def words(body):
    yield from body["text"].split()


def shout(chunk):
    return chunk.upper() + " "


def fails_on_b(chunk):
    if chunk == "b":
        raise ValueError("no b")
    return chunk


def flow(streaming: bool, *steps):
    fn = nuserve.new_function("flow-stream")
    graph = fn.set_topology("flow", engine="sync")  # chunks pass through a sync chain
    last = None
    for step in steps:
        last = graph.to(handler=step) if last is None else last.to(handler=step)
    if streaming:
        fn.set_streaming(True)
    return fn.to_mock_server(namespace={s.__name__: s for s in steps})


def test_steps_after_a_generator_get_each_chunk_and_the_answer_is_joined() -> None:
    mock = flow(False, words, shout)
    assert mock.test("/", {"text": "a b c"}) == "A B C "


def test_with_streaming_the_chunks_come_one_by_one() -> None:
    mock = flow(True, words, shout)
    assert list(mock.test("/", {"text": "a b c"})) == ["A ", "B ", "C "]


def test_a_step_failing_on_the_first_chunk_fails_the_request() -> None:
    mock = flow(True, words, fails_on_b)
    with pytest.raises(MockResponseError) as caught:
        mock.test("/", {"text": "b a"})
    assert caught.value.status_code >= 400 and "no b" in str(caught.value)
