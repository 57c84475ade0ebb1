"""Token buckets: how much a user or a meeting may send, so one client cannot flood a room
(room/limits.py holds the rates)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, rate_per_s: float, burst: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._tokens = burst
        self._now = now
        self._last = now()

    def take(self, cost: float = 1.0) -> bool:
        current = self._now()
        self._tokens = min(self._burst, self._tokens + (current - self._last) * self._rate)
        self._last = current
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def full(self) -> bool:
        """Whether the bucket has filled up again (it is then as good as a new one)."""
        return self._tokens + (self._now() - self._last) * self._rate >= self._burst
