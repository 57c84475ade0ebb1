"""Recording marks: whether the meeting is recording now, and who started or stopped it.

Owns `recording.set` (moderators, in a recorded meeting, when allowStartStopRecording lets
them), autoStartRecording at the first join, and the marks' state, rebuilt from the log when a
room starts. Only what lies between a start and a stop ends up in the playback: the recording
pipeline and the analytics callback read the marks (`meeting-recording-started/stopped`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.model import Role
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, route


class RecordingMarks:
    def __init__(self, room: RoomPort) -> None:
        self._room = room
        self.recording = False
        """Whether the meeting is recording now (between a started and a stopped mark)."""
        self.recording_ever = False

    def routes(self) -> Routes:
        return dict([route(p.RecordingSet, self.set)])

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        for event in events:
            if event.type in (types.RECORDING_STARTED, types.RECORDING_STOPPED):
                self.recording = event.type == types.RECORDING_STARTED
                self.recording_ever = self.recording_ever or self.recording

    async def set(self, _conn: Connection, me: Participant, message: p.RecordingSet) -> None:
        ref = message.ref
        if me.attendee.role is not Role.MODERATOR:
            raise Refused("forbidden", "Only moderators start and stop the recording", ref)
        if not self._room.policy.record:
            raise Refused("disabled", "This meeting is not recorded", ref)
        if not self._room.policy.recording_controllable():
            raise Refused("forbidden", "The recording cannot be started or stopped here", ref)
        if message.recording != self.recording:
            await self._mark(me, message.recording)

    async def joined(self, participant: Participant) -> None:
        """A participant took a seat: autoStartRecording starts at the first join, once."""
        if self._room.policy.starts_recording_on_join() and not self.recording_ever:
            await self._mark(participant, True)

    async def _mark(self, by: Participant, recording: bool) -> None:
        self.recording = recording
        self.recording_ever = self.recording_ever or recording
        kind = types.RECORDING_STARTED if recording else types.RECORDING_STOPPED
        await self._room.log(by, kind, {})
        await self._room.broadcast(
            {"type": "recording.updated", "recording": recording, "by": by.attendee.full_name}
        )
