"""What one generation measured: time to first token, inter-token latency, tokens, finish.

The front ends fill one ``Meter`` per request and hand it to ``on_record`` (tracking), so the
monitoring views can show LLM traffic per endpoint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Meter:
    model: str
    endpoint: str
    started: float = field(default_factory=time.perf_counter)
    first: float | None = None
    last: float | None = None
    pieces: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    stream: bool = False
    status: int = 200

    def piece(self) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.pieces += 1

    def record(self) -> dict[str, Any]:
        ttft = None if self.first is None else (self.first - self.started) * 1000
        itl = None
        if self.first is not None and self.last is not None and self.completion_tokens > 1:
            itl = (self.last - self.first) * 1000 / (self.completion_tokens - 1)
        return {
            "model": self.model,
            "endpoint": self.endpoint,
            "stream": self.stream,
            "status": self.status,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": ttft,
            "itl_ms": itl,
            "latency_ms": (time.perf_counter() - self.started) * 1000,
            "finish_reason": self.finish_reason,
        }
