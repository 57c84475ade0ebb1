"""A read-through cache of live meetings by the meeting ID asked for, kept exact by the bus.

getMeetingInfo and isMeetingRunning are the calls integrations poll; answering them from memory
keeps them cheap. Every committed change publishes `meeting.changed`, which drops the entry. A
read that raced with a change is not stored: each key has a generation, bumped on invalidation,
and a loaded value is kept only if the generation did not move while it was being read.

With the in-process bus this is exact for one sala process, the only mode SQLite supports; several
processes sharing PostgreSQL need a shared bus (or `SALA_READ_CACHE=false`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sala.events.bus import Bus
from sala.events.types import MEETING_CHANGED_TOPIC
from sala.meetings.model import Meeting

_MISSING = object()


class LiveMeetingCache:
    def __init__(self, bus: Bus, max_entries: int = 10_000) -> None:
        self._entries: dict[str, Meeting | None] = {}
        self._generations: dict[str, int] = {}
        self._max_entries = max_entries
        self._all: tuple[Meeting, ...] | None = None
        self._all_generation = 0
        bus.subscribe(MEETING_CHANGED_TOPIC, self._on_changed)

    async def _on_changed(self, _topic: str, message: dict[str, Any]) -> None:
        # Entries are keyed by the meeting ID a caller asked for, internal or external
        # (MeetingService.get_live): drop both.
        self.invalidate(str(message["external_id"]))
        if message.get("internal_id"):
            self.invalidate(str(message["internal_id"]))

    def invalidate(self, external_id: str) -> None:
        self._generations[external_id] = self._generations.get(external_id, 0) + 1
        self._entries.pop(external_id, None)
        self._all_generation += 1
        self._all = None

    async def get_all(
        self, load: Callable[[], Awaitable[tuple[Meeting, ...]]]
    ) -> tuple[Meeting, ...]:
        """Every live meeting (getMeetings); dropped on any change to any meeting."""
        if self._all is not None:
            return self._all
        generation = self._all_generation
        value = await load()
        if self._all_generation == generation:
            self._all = value
        return value

    async def get(
        self, external_id: str, load: Callable[[], Awaitable[Meeting | None]]
    ) -> Meeting | None:
        cached = self._entries.get(external_id, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        generation = self._generations.get(external_id, 0)
        value = await load()
        if self._generations.get(external_id, 0) == generation:
            if len(self._entries) >= self._max_entries:
                # Plain eviction of the oldest entry; polling keeps the hot ones coming back.
                self._entries.pop(next(iter(self._entries)))
            self._entries[external_id] = value
        return value
