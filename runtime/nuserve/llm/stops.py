"""Stop strings over a stream of text pieces: nothing past a stop is ever sent.

A stop may arrive split over several pieces ("\\n" then "\\n"), so the tail of the text that
could still begin a stop is held back until the next piece settles it.
"""

from __future__ import annotations


class StopScanner:
    """Feed pieces in; get back the text that is safe to send, and whether a stop was met."""

    __slots__ = ("held", "stopped", "stops")

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if not self.stops:
            return piece
        text = self.held + piece
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.held, self.stopped = "", True
            return text[:cut]
        keep = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(text)), keep, -1):
                if text.endswith(stop[:size]):
                    keep = size
                    break
        self.held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """What was held back, at the end of the generation."""
        held, self.held = self.held, ""
        return held
