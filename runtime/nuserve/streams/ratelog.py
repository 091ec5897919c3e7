"""A logger wrapper that says the same thing at most once per interval (a down sink would
otherwise log on every retry)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any


class RateLimitedLog:
    """``warning(key, msg, ...)`` logs once per ``interval`` seconds per key and reports how
    many similar messages it held back meanwhile."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def log(self, level: int, key: str, msg: str, *args: Any, exc_info: bool = False) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                return False
            self._last[key] = now
            held = self._held.pop(key, 0)
        if held:
            msg += f" ({held} similar message(s) held back)"
        self.logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def throttled_warning(self, key: str, msg: str, *args: Any) -> bool:
        return self.log(logging.WARNING, key, msg, *args)

    def throttled_error(self, key: str, msg: str, *args: Any, exc_info: bool = False) -> bool:
        return self.log(logging.ERROR, key, msg, *args, exc_info=exc_info)
