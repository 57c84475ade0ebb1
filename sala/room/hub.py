"""The rooms of this process: one Room per meeting with connections here, made on demand.

A new room rebuilds its state (chat, whiteboard, shared notes from their latest snapshot or
reset, polls, zoom, hands, reactions and away, recording marks) from the meeting's event log, so
a restart, or another process taking the meeting over, keeps them; the rest of what people see is
in the store (settings, attendees, presentations).
The hub closes rooms when their meeting ends, whatever ended it (the end call, a moderator, a
lifecycle rule), and hands chat from sendChatMessage to the room.

In a cluster (room/ownership.py) the hub keeps the leases of its rooms, hands a room over when
another front end took its meeting, and, since a room it builds may be a takeover from a front
end that died, gives the people the database still counts as present a grace period to
reconnect before marking them as left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sala.clock import Clock
from sala.events.bus import Bus
from sala.events.log import read_all_events
from sala.events.types import MEETING_ENDED_TOPIC, PUBLIC_CHAT_TOPIC
from sala.media.engine import MediaEngine
from sala.meetings.model import Meeting
from sala.meetings.service import MeetingService
from sala.meetings.sessions import end_user_sessions
from sala.presentations.service import PRESENTATION_TOPIC, PROGRESS_TOPIC, PresentationService
from sala.room.ownership import RoomOwnership
from sala.room.room import Room
from sala.store.db import Database

HAND_OVER_WAIT_S = 2.0
"""How long a stopping front end waits for its connections to take their MOVED."""


class RoomHub:
    def __init__(
        self,
        db: Database,
        meetings: MeetingService,
        bus: Bus,
        clock: Clock,
        default_logout: str,
        media_engine: MediaEngine | None = None,
        ice_servers: Callable[[str], list[dict[str, Any]]] | None = None,
        presentations: PresentationService | None = None,
        recordings_root: Path | None = None,
        ownership: RoomOwnership | None = None,
        presence_grace_s: float = 60.0,
    ) -> None:
        self.ownership = ownership
        self._presence_grace_s = presence_grace_s
        self._settling: set[asyncio.Task[int]] = set()
        self._media_engine = media_engine
        self._recordings_root = recordings_root
        self._presentations = presentations
        self._ice_servers = ice_servers
        self._db = db
        self._meetings = meetings
        self._bus = bus
        self._clock = clock
        self._default_logout = default_logout
        self._rooms: dict[str, Room] = {}
        self._lock = asyncio.Lock()
        bus.subscribe(MEETING_ENDED_TOPIC, self._on_ended)
        bus.subscribe(PUBLIC_CHAT_TOPIC, self._on_chat)
        bus.subscribe(PRESENTATION_TOPIC, self._on_presentation)
        bus.subscribe(PROGRESS_TOPIC, self._on_progress)

    def load(self) -> dict[str, float]:
        """What this node carries, for the cluster's registry."""
        return {
            "rooms": float(len(self._rooms)),
            "participants": float(sum(len(r.participants) for r in self._rooms.values())),
        }

    def get(self, meeting_id: str) -> Room | None:
        return self._rooms.get(meeting_id)

    async def room(self, meeting: Meeting) -> Room:
        async with self._lock:
            room = self._rooms.get(meeting.internal_id)
            if room is None:
                logout = meeting.settings.get("logoutURL") or self._default_logout
                room = Room(
                    meeting,
                    self._meetings,
                    self._bus,
                    self._clock,
                    logout,
                    self._forget,
                    self._media_engine,
                    self._ice_servers,
                    self._presentations,
                    self._recordings_root,
                    end_sessions=partial(end_user_sessions, self._db, self._clock),
                )
                await self._load(room)
                self._rooms[meeting.internal_id] = room
                if self.ownership is not None:
                    self._settle_later(meeting.internal_id)
            return room

    def _settle_later(self, meeting_id: str) -> None:
        task = asyncio.create_task(self.settle_presence(self._presence_grace_s, meeting_id))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    def start(self) -> None:
        """Keep this node's room leases (a cluster's front end)."""
        if self.ownership is not None:
            self.ownership.start(lambda: list(self._rooms), self.hand_over)

    async def hand_over(self, meeting_id: str) -> None:
        """Another front end owns `meeting_id` now: send this node's connections there."""
        room = self._rooms.pop(meeting_id, None)
        if room is not None:
            await room.hand_over()

    async def _load(self, room: Room) -> None:
        async with self._db.read() as conn:
            events = await read_all_events(conn, room.id)
        room.replay(events)

    async def _forget(self, room: Room) -> None:
        if self._rooms.get(room.id) is room and not room.participants and not room.lobby:
            del self._rooms[room.id]
            await room.close("empty")
            if self.ownership is not None:
                await self.ownership.release(room.id)

    async def _on_ended(self, _topic: str, message: dict[str, Any]) -> None:
        room = self._rooms.pop(str(message["internal_id"]), None)
        if room is not None:
            await room.close(str(message.get("reason", "ended")))

    async def _on_presentation(self, _topic: str, message: dict[str, Any]) -> None:
        room = self._rooms.get(str(message["meeting_id"]))
        if room is not None:
            await room.presentations_changed()

    async def _on_progress(self, _topic: str, message: dict[str, Any]) -> None:
        room = self._rooms.get(str(message["meeting_id"]))
        if room is not None:
            await room.broadcast(
                {
                    "type": "presentation.progress",
                    "presentation": message["presentation"],
                    "done": message["done"],
                    "total": message["total"],
                }
            )

    async def _on_chat(self, _topic: str, message: dict[str, Any]) -> None:
        room = self._rooms.get(str(message["meeting_id"]))
        if room is not None:
            await room.external_chat(message)

    async def release_stale_presence(self, grace_s: float) -> int:
        """After a restart, people the database still counts as present get `grace_s` to
        reconnect (their pages retry on their own); whoever does not is marked as left, so the
        empty-meeting timer and the attendee lists are right again. Returns how many left.
        A single process only: in a cluster the others' people are not stale."""
        return await self.settle_presence(grace_s)

    async def settle_presence(self, grace_s: float, meeting_id: str | None = None) -> int:
        """Whoever the database counts as present (in `meeting_id`, or anywhere) and is not
        connected here after `grace_s` is marked as left."""
        stale = await self._meetings.present_attendees()
        if meeting_id is not None:
            stale = [(m, u) for m, u in stale if m == meeting_id]
        if not stale:
            return 0
        await asyncio.sleep(grace_s)
        released = 0
        for meeting_id, user_id in stale:
            room = self._rooms.get(meeting_id)
            if room is not None and user_id in room.participants:
                continue
            if room is None and self.ownership is not None:
                continue  # handed over meanwhile: its new owner settles it
            await self._meetings.release_absent(meeting_id, user_id)
            released += 1
        return released

    async def hand_over_all(self, within_s: float = HAND_OVER_WAIT_S) -> None:
        """A cluster's front end stopping (drained, upgraded): its meetings go on elsewhere at
        once. It takes no meeting any more, gives its leases up, and sends every connection on
        with MOVED; returns when those have closed (or after `within_s`), so that they are gone
        before the web server closes whatever is left its own way (room/stopping.py)."""
        if self.ownership is None:
            return
        for task in list(self._settling):
            task.cancel()
        self.ownership.leave()
        rooms = list(self._rooms)
        # Leases first: a page sent on must find the meeting free, not still ours.
        await self.ownership.stop(release=rooms)
        closed = []
        for meeting_id in rooms:
            room = self._rooms.pop(meeting_id, None)
            if room is not None:
                closed += await room.hand_over()
        if closed:
            waits = [asyncio.create_task(conn.written.wait()) for conn in closed]
            _, pending = await asyncio.wait(waits, timeout=within_s)
            for task in pending:
                task.cancel()

    async def close_all(self) -> None:
        if self.ownership is not None:
            await self.hand_over_all()
            return
        for task in list(self._settling):
            task.cancel()
        for room in list(self._rooms.values()):
            await room.close("shutdown")
        self._rooms.clear()
