"""People left in meetings whose front end died and whom nobody took over.

When a front end dies, the people in its meetings reconnect and another front end takes each
meeting over (room/ownership.py), settling who came back. But if none of a meeting's people
come back (they closed the tab during the outage), nobody takes the meeting over, and the
database would count them as present for ever: the meeting would never empty, never end. A
worker sweeps for that: a meeting with people counted as present and no room owner for longer
than the reconnect grace has them marked as left, which starts its empty-meeting timer.
"""

from __future__ import annotations

import logging
import time

from sala.cluster.directory import Directory
from sala.cluster.periodic import Periodic
from sala.meetings.service import MeetingService

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 5.0


class OrphanSweeper:
    def __init__(self, meetings: MeetingService, rooms: Directory, grace_s: float) -> None:
        self._meetings = meetings
        self._rooms = rooms
        self._grace_s = grace_s
        self._orphaned_since: dict[str, float] = {}
        self._loop = Periodic(
            "sala-orphans", SWEEP_EVERY_S, self.sweep, "sweeping orphaned meetings failed"
        )

    async def sweep(self) -> int:
        """One pass; returns how many people were marked as left."""
        present: dict[str, list[str]] = {}
        for meeting_id, user_id in await self._meetings.present_attendees():
            present.setdefault(meeting_id, []).append(user_id)
        now = time.monotonic()
        released = 0
        for meeting_id in list(self._orphaned_since):
            if meeting_id not in present:
                del self._orphaned_since[meeting_id]
        for meeting_id, users in present.items():
            if await self._rooms.owner(meeting_id) is not None:
                self._orphaned_since.pop(meeting_id, None)
                continue
            since = self._orphaned_since.setdefault(meeting_id, now)
            if now - since < self._grace_s:
                continue
            # Checked again right before: a page may have just come back and claimed it.
            if await self._rooms.owner(meeting_id) is not None:
                continue
            for user_id in users:
                await self._meetings.release_absent(meeting_id, user_id)
                released += 1
            del self._orphaned_since[meeting_id]
            log.info(
                "meeting %s had no front end: %d people marked as left", meeting_id, len(users)
            )
        return released

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
