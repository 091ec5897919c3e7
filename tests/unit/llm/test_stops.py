"""Stop strings over streamed pieces: nothing from the stop on is sent, even split."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nuserve.llm.stops import StopScanner


def run(pieces: list[str], stops: list[str]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    out = []
    for piece in pieces:
        out.append(scanner.feed(piece))
        if scanner.stopped:
            break
    if not scanner.stopped:
        out.append(scanner.flush())
    return "".join(out), scanner.stopped


def test_a_stop_split_over_pieces_is_found_and_held_back_meanwhile() -> None:
    scanner = StopScanner(["\n\n"])
    assert scanner.feed("hello\n") == "hello"
    assert scanner.feed("\nworld") == ""
    assert scanner.stopped


def test_a_held_prefix_that_is_no_stop_is_sent_later() -> None:
    scanner = StopScanner(["END"])
    assert scanner.feed("the E") == "the "
    assert scanner.feed("ND") == ""
    assert scanner.stopped
    scanner = StopScanner(["END"])
    assert scanner.feed("the E") == "the "
    assert scanner.feed(" agle") == "E agle"
    assert not scanner.stopped


def test_no_stops_pass_everything() -> None:
    assert run(["a", "b"], []) == ("ab", False)


@given(st.text("abc", max_size=30), st.lists(st.integers(1, 5), max_size=10), st.text("abc", min_size=1, max_size=3))
def test_streamed_equals_the_text_cut_at_the_first_stop(text: str, cuts: list[int], stop: str) -> None:
    pieces, rest = [], text
    for cut in cuts:
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    out, stopped = run(pieces, [stop])
    index = text.find(stop)
    assert out == (text[:index] if index >= 0 else text)
    assert stopped == (index >= 0)
