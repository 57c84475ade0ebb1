"""A read-through cache of live meetings by the meeting ID asked for, kept exact by the bus.

getMeetingInfo and isMeetingRunning are the calls integrations poll; answering them from memory
keeps them cheap. Every committed change publishes `meeting.changed`, which drops the entry. A
read that raced with a change is not stored: each key has a generation, bumped on invalidation,
and a loaded value is kept only if the generation did not move while it was being read.

With the in-process bus this is exact for one sala process, the only mode SQLite supports; several
processes sharing PostgreSQL need the shared bus (SALA_REDIS_URL, or `SALA_READ_CACHE=false`).
That bus can miss messages while Redis is unreachable: then (`bus.in_sync` False) every read
goes to the database and nothing is kept, and once the bus is whole again (`on_resync`) every
entry is dropped, since any of them may have changed unheard.
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
        self._epoch = 0
        """Bumped by drop_all: a read that began before it is not kept."""
        self._bus = bus
        bus.subscribe(MEETING_CHANGED_TOPIC, self._on_changed)
        bus.on_resync(self._on_resync)

    async def _on_changed(self, _topic: str, message: dict[str, Any]) -> None:
        # Entries are keyed by the meeting ID a caller asked for, internal or external
        # (MeetingService.get_live): drop both.
        self.invalidate(str(message["external_id"]))
        if message.get("internal_id"):
            self.invalidate(str(message["internal_id"]))

    async def _on_resync(self) -> None:
        self.drop_all()

    def drop_all(self) -> None:
        """Forget every entry, and every read in flight."""
        self._epoch += 1
        self._entries.clear()
        self._generations.clear()
        self._all_generation += 1
        self._all = None

    def invalidate(self, external_id: str) -> None:
        self._generations[external_id] = self._generations.get(external_id, 0) + 1
        self._entries.pop(external_id, None)
        self._all_generation += 1
        self._all = None

    async def get_all(
        self, load: Callable[[], Awaitable[tuple[Meeting, ...]]]
    ) -> tuple[Meeting, ...]:
        """Every live meeting (getMeetings); dropped on any change to any meeting."""
        if not self._bus.in_sync:
            return await load()
        if self._all is not None:
            return self._all
        generation = self._all_generation
        value = await load()
        if self._all_generation == generation and self._bus.in_sync:
            self._all = value
        return value

    async def get(
        self, external_id: str, load: Callable[[], Awaitable[Meeting | None]]
    ) -> Meeting | None:
        if not self._bus.in_sync:
            return await load()
        cached = self._entries.get(external_id, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        epoch, generation = self._epoch, self._generations.get(external_id, 0)
        value = await load()
        if (
            self._epoch == epoch
            and self._generations.get(external_id, 0) == generation
            and self._bus.in_sync
        ):
            if len(self._entries) >= self._max_entries:
                # Plain eviction of the oldest entry; polling keeps the hot ones coming back.
                self._entries.pop(next(iter(self._entries)))
            self._entries[external_id] = value
        return value
