"""Time as the rest of sala sees it.

Everything that depends on "now" (meeting expiry, token lifetimes, retries) takes a Clock, so tests
advance a ManualClock instead of sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the epoch (BBB's unit for every timestamp)."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start_ms: int = 1_767_261_600_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(
        self, *, hours: float = 0, minutes: float = 0, seconds: float = 0, ms: int = 0
    ) -> None:
        self._now += int(hours * 3_600_000 + minutes * 60_000 + seconds * 1000) + ms
