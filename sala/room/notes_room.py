"""The shared notes as a room runs them: who may edit and how fast, the reset, and the log.

room/notes.py is the document; this is the room's side of it. Every accepted update is logged
before it is relayed, so a restart and a recording rebuild the same text. A moderator's
`notes.reset` starts a new, empty document: it is logged too, and edits still made on the old
one are refused (`stale`; the page starts over from the room's copy). Now and then the whole
document is logged as a snapshot, so that a restart replays the notes from the latest snapshot
or reset instead of from every update ever made.

Edits are rate-limited per user (room/limits.py), whatever number of connections they use: a
viewer cannot fill the notes' budget in seconds.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.model import Role
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.limits import (
    NOTES_BYTES_PER_USER,
    NOTES_SYNCS_PER_USER,
    NOTES_UPDATES_PER_USER,
    KeyedBuckets,
    Limited,
)
from sala.room.notes import NotesError, SharedNotes, decode_update, encode_update
from sala.room.port import Participant, RoomPort, Routes, route

SNAPSHOT_EVERY_UPDATES = 1000
"""How often (in accepted updates) the room considers logging a snapshot. It logs one only when
the updates since the last one add up to at least the document's size, so replaying them would
cost more than reading the snapshot: snapshots at most double the log."""

NotesMessage = p.NotesUpdate | p.NotesSync | p.NotesReset


def replay_notes(notes: SharedNotes, events: Sequence[MeetingEvent]) -> tuple[int, int]:
    """Rebuild the notes from a meeting's log, starting at its latest snapshot or reset: what
    came before is not needed (nor read). Returns the updates (count, bytes) after it."""
    start = 0
    for index, event in enumerate(events):
        if event.type in (types.NOTES_SNAPSHOT, types.NOTES_RESET):
            start = index
    updates = size = 0
    for event in events[start:]:
        if event.type == types.NOTES_RESET:
            notes.reset(int(event.data["generation"]))
            updates = size = 0
        elif event.type == types.NOTES_SNAPSHOT:
            notes.restore(base64.b64decode(event.data["update"]), int(event.data["generation"]))
            updates = size = 0
        elif event.type == types.NOTES_UPDATED:
            update = base64.b64decode(str(event.data["update"]))
            notes.replay(update)
            updates += 1
            size += len(update)
    return updates, size


class RoomNotes:
    def __init__(self, room: RoomPort) -> None:
        self._room = room
        self.document = SharedNotes()
        self._updates = KeyedBuckets(NOTES_UPDATES_PER_USER)
        self._bytes = KeyedBuckets(NOTES_BYTES_PER_USER)
        self._syncs = KeyedBuckets(NOTES_SYNCS_PER_USER)
        self._since_snapshot = (0, 0)
        """Updates (count, bytes) logged since the latest snapshot or reset."""

    def routes(self) -> Routes:
        return dict(
            [
                route(p.NotesUpdate, self.handle),
                route(p.NotesSync, self.handle),
                route(p.NotesReset, self.handle),
            ]
        )

    @property
    def text(self) -> str:
        return self.document.text

    def state(self) -> bytes:
        return self.document.state()

    def welcome(self) -> dict[str, Any]:
        """The notes' part of a `welcome`."""
        if not self._room.policy.enabled(Feature.SHARED_NOTES):
            return {"notes": None, "notesGeneration": self.document.generation}
        return {
            "notes": self.document.encoded_state(),
            "notesGeneration": self.document.generation,
        }

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        self._since_snapshot = replay_notes(self.document, events)

    async def handle(self, conn: Connection, me: Participant, message: NotesMessage) -> None:
        ref = message.ref
        if not self._room.policy.enabled(Feature.SHARED_NOTES):
            raise p.ProtocolError("disabled", "Shared notes are disabled in this meeting", ref)
        user_id = me.attendee.internal_user_id
        if isinstance(message, p.NotesSync):
            if not self._syncs.take(user_id):
                raise Limited("Asking for the notes again so soon", ref)
            conn.send(
                {
                    "type": "notes.state",
                    "update": self.document.encoded_state(),
                    "generation": self.document.generation,
                    "ref": ref,
                }
            )
        elif isinstance(message, p.NotesReset):
            await self._reset(me, ref)
        else:
            await self._edit(me, message)

    async def _edit(self, me: Participant, message: p.NotesUpdate) -> None:
        ref = message.ref
        notes = self.document
        if not self._room.policy.can_edit_notes(me.attendee):
            raise p.ProtocolError("locked", "A moderator has locked the shared notes", ref)
        if message.generation is not None and message.generation != notes.generation:
            raise p.ProtocolError(
                "stale", "The notes were reset; start over from the room's copy", ref
            )
        user_id = me.attendee.internal_user_id
        # Before decoding or merging anything; base64 tells the size.
        if not self._updates.take(user_id):
            raise Limited("Too many edits of the notes; slow down", ref)
        if not self._bytes.take(user_id, len(message.update) * 3 // 4):
            raise Limited("Too much text added to the notes at once; slow down", ref)
        try:
            update = decode_update(message.update)
            notes.apply(update)
        except NotesError as exc:
            raise p.ProtocolError(exc.code, str(exc), ref) from None
        encoded = encode_update(update)
        await self._log(me, types.NOTES_UPDATED, {"update": encoded})
        await self._room.activity("notes")
        await self._room.broadcast(
            {
                "type": "notes.update",
                "update": encoded,
                "generation": notes.generation,
                "from": user_id,
                "ref": ref,
            }
        )
        await self._maybe_snapshot(len(update))

    async def _reset(self, me: Participant, ref: str | None) -> None:
        if me.attendee.role is not Role.MODERATOR:
            raise p.ProtocolError("forbidden", "Only moderators can reset the shared notes", ref)
        notes = self.document
        notes.reset()
        self._since_snapshot = (0, 0)
        await self._log(me, types.NOTES_RESET, {"generation": notes.generation})
        await self._room.broadcast(
            {
                "type": "notes.reset",
                "update": notes.encoded_state(),
                "generation": notes.generation,
                "by": me.attendee.full_name,
                "ref": ref,
            }
        )

    async def _maybe_snapshot(self, size: int) -> None:
        count, logged = self._since_snapshot
        count, logged = count + 1, logged + size
        if count < SNAPSHOT_EVERY_UPDATES:
            self._since_snapshot = (count, logged)
            return
        state = self.document.state()
        if logged < len(state):
            self._since_snapshot = (0, logged)  # look again after as many updates
            return
        self._since_snapshot = (0, 0)
        await self._room.log(
            None,
            types.NOTES_SNAPSHOT,
            {"update": self.document.encoded_state(), "generation": self.document.generation},
        )

    async def _log(self, me: Participant, kind: str, data: dict[str, Any]) -> None:
        await self._room.log(me, kind, data)
