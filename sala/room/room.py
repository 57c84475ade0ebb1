"""A meeting's room in this process: who is connected, one dispatch table, and the fan-out.

The room seats connections (attach, the reconnect grace, detach) and sends each a welcome;
what participants can do lives in features (room/features/, room/media.py, room/notes_room.py),
each answering the message types it lists in its routes. The room builds one table from those
routes and runs each action under its lock, one at a time, except media (outside it). Features
see the room through its port (room/port.py): they check the meeting's policy
(meetings/policy.py), write through MeetingService (state and event log), and announce on the
bus topic `room:<meeting>`. Every process with connections in that meeting delivers the
announcement to its own connections, so the same code works when several processes share a
meeting.

A participant's attendee (role, presenter flag) is read when they arrive and re-read only when
the room changes it; such changes are announced on the topic too, so the other processes
re-read it as well.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sala.clock import Clock
from sala.events import types
from sala.events.bus import Bus
from sala.events.log import MeetingEvent
from sala.media.engine import MediaEngine
from sala.meetings.model import GuestStatus, Meeting, Role
from sala.meetings.policy import MeetingPolicy
from sala.meetings.service import MeetingService
from sala.presentations.service import PresentationService
from sala.recordings.capture import raw_dir
from sala.room import protocol as p
from sala.room.close_codes import CloseCode
from sala.room.connection import Connection, encode
from sala.room.features.chat import Chat
from sala.room.features.drawing import Drawing
from sala.room.features.layouts import Layouts, enforce_layout
from sala.room.features.lobby import Lobby
from sala.room.features.moderation import Moderation
from sala.room.features.pointer import Pointer
from sala.room.features.polls import Polls
from sala.room.features.presenting import Presenting
from sala.room.features.recording_marks import RecordingMarks
from sala.room.features.status import Status
from sala.room.markup import sanitize
from sala.room.media import RoomMedia
from sala.room.notes_room import RoomNotes
from sala.room.port import Participant, Refused, Replays, Route, Routes, route
from sala.room.presence import Presence

log = logging.getLogger(__name__)

RECONNECT_GRACE_S = 10.0
ACTIVITY_EVERY_S = 30.0


class Room:
    def __init__(
        self,
        meeting: Meeting,
        meetings: MeetingService,
        bus: Bus,
        clock: Clock,
        logout_url: str,
        on_empty: Callable[[Room], Awaitable[None]],
        media_engine: MediaEngine | None = None,
        ice_servers: Callable[[str], list[dict[str, Any]]] | None = None,
        presentations: PresentationService | None = None,
        recordings_root: Path | None = None,
        *,
        end_sessions: Callable[[str, str], Awaitable[int]] | None = None,
    ) -> None:
        self._meeting = meeting
        self._policy = MeetingPolicy.of(meeting)
        self._meetings = meetings
        self._bus = bus
        self._clock = clock
        self._logout_url = logout_url
        self._on_empty = on_empty
        self._lock = asyncio.Lock()
        self.participants: dict[str, Participant] = {}
        self._leaving: dict[str, asyncio.Task[None]] = {}
        self._seated_once: set[str] = set()
        """Users this room has seated: only theirs are attendees it changes (`attach`)."""
        self._drops = 0
        """Leaves written to the store so far (`attach`)."""
        self._topic = types.room_topic(meeting.internal_id)
        self._origin = uuid.uuid4().hex
        """Tells this room's own announcements from other processes' (attendee refreshes)."""
        self._unsubscribe = bus.subscribe(self._topic, self._deliver)
        self.closed = False
        self._activity_at = 0
        self._ice_servers = ice_servers or (lambda _user: [])
        self.presence = Presence(self)
        """The roster the pages see, and its batched changes (room/presence.py)."""

        capture = None
        if meeting.record and recordings_root is not None:
            capture = raw_dir(recordings_root, meeting.internal_id)
        self.media = RoomMedia(self, media_engine, capture)
        self.chat = Chat(self)
        self.status = Status(self)
        self.drawing = Drawing(self, presentations)
        self.presenting = Presenting(
            self,
            presentations,
            self.drawing,
            self.media.presenter_changed,
            self.media.presenter_set,
        )
        self.polls = Polls(self, self.presenting.presenters, self.drawing.poll_result)
        self.notes = RoomNotes(self)
        self.marks = RecordingMarks(self)
        self._lobby = Lobby(self)
        self.layouts = Layouts(self)
        self.pointer = Pointer(self)
        self.moderation = Moderation(
            self,
            drop=self._drop,
            rewelcome=self._role_changed,
            locks_changed=self.media.locks_changed,
            end_meeting=meetings.end_by_internal_id,
            end_sessions=end_sessions,
        )
        self._replays: tuple[Replays, ...] = (
            self.chat,
            self.status,
            self.presenting,
            self.drawing,
            self.polls,
            self.notes,
            self.marks,
        )
        """What the features rebuild from the log when the room starts (`replay`)."""
        self._routes = _table(
            dict(
                [
                    route(p.Ping, self._ping),
                    route(p.Leave, self._leave),
                    route(p.Hello, self._hello_again),
                ]
            ),
            self.chat.routes(),
            self.status.routes(),
            self.presenting.routes(),
            self.drawing.routes(),
            self.polls.routes(),
            self.notes.routes(),
            self.marks.routes(),
            self._lobby.routes(),
            self.layouts.routes(),
            self.pointer.routes(),
            self.moderation.routes(),
            self.media.routes(),
        )

    # ------------------------------------------------------------------------- the port --
    @property
    def id(self) -> str:
        return self._meeting.internal_id

    @property
    def meeting(self) -> Meeting:
        return self._meeting

    @property
    def policy(self) -> MeetingPolicy:
        return self._policy

    @property
    def logout_url(self) -> str:
        return self._logout_url

    @property
    def lobby(self) -> dict[str, Connection]:
        """Connections waiting for a moderator to let them in."""
        return self._lobby.waiting

    def now_ms(self) -> int:
        return self._clock.now_ms()

    def participant(self, user_id: str, ref: str | None = None) -> Participant:
        target = self.participants.get(user_id)
        if target is None:
            raise Refused("not_found", "That user is not in the meeting", ref)
        return target

    def find(self, user_id: str) -> Participant | None:
        return self.participants.get(user_id)

    def everyone(self) -> list[Participant]:
        return list(self.participants.values())

    def send_to(self, user_id: str, message: dict[str, Any]) -> None:
        participant = self.participants.get(user_id)
        if participant is not None:
            self.presence.flush()  # what it says may be about somebody who just joined
            for conn in participant.connections:
                conn.send(message)

    async def broadcast(
        self, message: dict[str, Any], to: list[str] | None = None, but: str | None = None
    ) -> None:
        # Pending roster changes first: a chat message never arrives before its sender's join.
        self.presence.flush()
        envelope: dict[str, Any] = {"to": to, "message": message}
        if but is not None:
            envelope["but"] = but
        await self._bus.publish(self._topic, envelope)

    async def publish_user(self, participant: Participant) -> None:
        self.presence.updated(participant)

    def publish_talking(self, participant: Participant) -> None:
        self.presence.talking(participant)

    async def log(self, by: Participant | None, kind: str, data: dict[str, Any]) -> None:
        user_id = None if by is None else by.user_id
        await self._meetings.log_event(self.id, kind, data, user_id=user_id)

    async def activity(self, kind: str) -> None:
        """Talking and the like keep the meeting alive. The inactivity rule counts in minutes,
        so the deadline moves at most every ACTIVITY_EVERY_S, not on every word."""
        now = self._clock.now_ms()
        if now - self._activity_at < ACTIVITY_EVERY_S * 1000:
            return
        self._activity_at = now
        await self._meetings.record_activity(self.id, kind)

    async def update_settings(self, changes: dict[str, Any]) -> None:
        hidden = self._policy.locks.hide_user_list
        await self._meetings.update_settings(self.id, changes)
        await self._refresh()
        if self._policy.locks.hide_user_list != hidden:
            self.presence.resend()

    async def update_attendee(
        self, user_id: str, changes: dict[str, Any], event: tuple[str, dict[str, Any]]
    ) -> None:
        await self._meetings.update_attendee(self.id, user_id, changes, event)
        await self._reload(user_id)
        # The other processes holding this participant's connections read it again too.
        await self._bus.publish(self._topic, {"reload": user_id, "origin": self._origin})

    async def presenter_in_store(self) -> bool:
        return await self._meetings.has_present_presenter(self.id)

    async def update_media_flags(
        self, participant: Participant, changes: dict[str, Any], event: str, data: dict[str, Any]
    ) -> None:
        await self._meetings.update_attendee(self.id, participant.user_id, changes, (event, data))

    # ------------------------------------------------------------------------- the store --
    async def _refresh(self) -> None:
        # Settings and state only: `meeting.attendees` stays as the room was built with.
        fresh = await self._meetings.get_for_room(self.id)
        if fresh is not None:
            self._meeting = replace(fresh, attendees=self._meeting.attendees)
            self._policy = MeetingPolicy.of(fresh)

    def _adopt(self, fresh: Meeting) -> None:
        """The meeting as read elsewhere a moment ago, if newer than the room's copy: every
        change to the row bumps its version, so the higher one is the later state."""
        if fresh.version > self._meeting.version:
            self._meeting = replace(fresh, attendees=self._meeting.attendees)
            self._policy = MeetingPolicy.of(fresh)

    async def _reload(self, user_id: str) -> None:
        participant = self.participants.get(user_id)
        if participant is None:
            return
        fresh = await self._meetings.get_attendee(user_id)
        if fresh is not None:
            participant.attendee = fresh

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        """A room starting (after a restart, for a meeting's first connection here, or taking
        the meeting over from a process that went) rebuilds its features' state from the
        meeting's log: each feature replays its own events (docs/protocol.md, "What a room
        rebuilds")."""
        for feature in self._replays:
            feature.replay(events)

    # ---------------------------------------------------------------------- connections --
    async def attach(self, conn: Connection, session_meeting: Meeting | None = None) -> None:
        """Seat a connection (or put it in the lobby, or turn it away).

        `session_meeting` is the meeting row the connection's room session was read with a
        moment ago (room/websocket.py). Every join in a meeting waits for this room's lock, so
        what is done under it bounds how fast a meeting fills (issue 17): a newcomer is seated
        with the rows its session read instead of reading them again, and is counted as present
        in the store before the lock is taken, since that write waits its turn behind other
        joins' API calls for the database's one writer.
        """
        newcomer = session_meeting is not None and self._newcomer(conn)
        early = newcomer and self._may_connect_early(conn)
        drops = self._drops
        if early:
            await self._meetings.user_connected(self.id, conn.user_id)
        seated = False
        try:
            async with self._lock:
                # A leave of this user committed meanwhile may have undone that write.
                connected = early and drops == self._drops
                if newcomer and session_meeting is not None:
                    seated = await self._attach_newcomer(conn, session_meeting, connected)
                else:
                    seated = await self._attach(conn)
        finally:
            if early and not seated and conn.user_id not in self.participants:
                await self._meetings.user_disconnected(self.id, conn.user_id)

    def _newcomer(self, conn: Connection) -> bool:
        """Whether the session's own rows are as fresh as a read under the lock would be: the
        room changes attendees only of users it has seated or holds in its lobby, and a
        waiting guest's status is the lobby's to change."""
        user_id = conn.user_id
        return (
            user_id not in self._seated_once
            and user_id not in self.lobby
            and conn.attendee.guest_status is GuestStatus.ALLOW
        )

    def _may_connect_early(self, conn: Connection) -> bool:
        """Whether this connection will be seated unless something changes meanwhile (then
        `attach` takes the early presence back)."""
        return not self.closed and not self._policy.banned(conn.attendee)

    async def _attach_newcomer(
        self, conn: Connection, session_meeting: Meeting, connected: bool
    ) -> bool:
        if self.closed:  # the meeting ended after the session was read (the hub closed us)
            raise Refused("not_in_meeting", "This session does not belong to a live meeting")
        self._adopt(session_meeting)
        if self._policy.banned(conn.attendee):
            conn.send({"type": "removed", "reason": "banned", "logoutUrl": self._logout_url})
            conn.close(CloseCode.FORBIDDEN)
            return False
        await self._admit(conn, connected=connected)
        return True

    async def _attach(self, conn: Connection) -> bool:
        """Seat a connection with the meeting and attendee read again under the lock."""
        await self._refresh()
        attendee = await self._meetings.get_attendee(conn.user_id)
        if attendee is None or self._meeting.ended:
            raise Refused("not_in_meeting", "This session does not belong to a live meeting")
        conn.attendee = attendee
        if self._policy.banned(attendee):
            conn.send({"type": "removed", "reason": "banned", "logoutUrl": self._logout_url})
            conn.close(CloseCode.FORBIDDEN)
            return False
        if attendee.guest_status is GuestStatus.DENY:
            conn.send({"type": "guest.denied", "logoutUrl": self._logout_url})
            conn.close(CloseCode.FORBIDDEN)
            return False
        if attendee.guest_status is GuestStatus.WAIT:
            await self._lobby.wait(conn, p.PROTOCOL_VERSION)
            return False
        await self._admit(conn)
        return True

    async def _admit(self, conn: Connection, connected: bool = False) -> None:
        """Seat an admitted connection; `connected`: the store already counts its user as
        present (`attach` did it before taking the lock)."""
        user_id = conn.user_id
        self._lobby.admitted(conn)
        pending = self._leaving.pop(user_id, None)
        participant = self.participants.get(user_id)
        if participant is None:
            if pending is None and not connected:
                await self._meetings.user_connected(self.id, user_id)
            participant = Participant(conn.attendee)
            self.participants[user_id] = participant
            self._seated_once.add(user_id)
            self.status.seated(participant)
            await self.presenting.seated(participant)
            self.presence.joined(participant)
            await self.marks.joined(participant)
        else:
            participant.attendee = conn.attendee
        if pending is not None:
            pending.cancel()
        state = await self.presenting.state()
        # No await from here to the welcome being queued: the snapshot and the deltas after it
        # must meet exactly (room/presence.py).
        participant.connections.add(conn)
        conn.send_text(self._welcome_text(conn, participant, state))
        self.polls.seated(conn, participant)

    async def detach(self, conn: Connection) -> None:
        async with self._lock:
            if await self._lobby.left(conn):
                return
            self.presence.detach(conn)
            participant = self.participants.get(conn.user_id)
            if participant is None:
                return
            participant.connections.discard(conn)
            if participant.connections or conn.close_code in (CloseCode.FORBIDDEN, CloseCode.GONE):
                return
            # A reload or a network blip: keep the seat for a moment before announcing a leave.
            self._leaving[conn.user_id] = asyncio.create_task(self._leave_later(conn.user_id))

    async def _leave_later(self, user_id: str) -> None:
        await asyncio.sleep(RECONNECT_GRACE_S)
        async with self._lock:
            if self._leaving.pop(user_id, None) is None:
                return
            await self._drop(user_id)

    async def _drop(self, user_id: str) -> None:
        participant = self.participants.pop(user_id, None)
        if participant is None:
            return
        for conn in list(participant.connections):
            conn.close(CloseCode.GONE)
        await self.media.release(user_id)
        self.chat.forget(user_id)
        await self._meetings.user_disconnected(self.id, user_id)
        self._drops += 1  # after the write: see `attach`
        self.presence.left(user_id)
        if participant.attendee.is_presenter:
            await self._meetings.update_attendee(
                self.id, user_id, {"is_presenter": False}, (types.USER_PRESENTER_UNASSIGNED, {})
            )
        if not self.participants and not self.lobby:
            await self._on_empty(self)

    # -------------------------------------------------------------------------- actions --
    async def handle(self, conn: Connection, message: p.ClientMessage) -> None:
        async with self._lock:
            if conn.closed:
                return
            if conn.in_lobby:
                raise Refused(
                    "waiting", "You are waiting for a moderator to let you in", message.ref
                )
            participant = self.participants.get(conn.user_id)
            if participant is None:
                raise Refused("not_in_meeting", "You are not in this meeting", message.ref)
            found = self._routes.get(type(message))
            if found is None:
                raise Refused("unknown_type", f"Unknown message type {message.type!r}", message.ref)
            if found.locked:
                await found.handler(conn, participant, message)
                return
        await found.handler(conn, participant, message)

    async def _ping(self, conn: Connection, _me: Participant, message: p.Ping) -> None:
        conn.send({"type": "pong", "ref": message.ref})

    async def _leave(self, _conn: Connection, me: Participant, _message: p.Leave) -> None:
        await self._drop(me.user_id)

    async def _hello_again(self, _conn: Connection, _me: Participant, message: p.Hello) -> None:
        raise Refused("invalid", "The handshake was already done", message.ref)

    async def _role_changed(self, participant: Participant) -> None:
        """A new role: what the participant may see (a new welcome), and, for the presenter,
        whether relays to other media nodes may carry their webcam (webcamsOnlyForModerator)."""
        await self._rewelcome(participant)
        if participant.attendee.is_presenter:
            await self.media.presenter_set(participant.user_id)

    async def _rewelcome(self, participant: Participant) -> None:
        """What this participant may see changed (a new role): a new welcome says so."""
        state = await self.presenting.state()
        for conn in participant.connections:
            conn.send_text(self._welcome_text(conn, participant, state))

    # ----------------------------------------------------------------------- fan-out --
    async def _deliver(self, _topic: str, envelope: dict[str, Any]) -> None:
        if "reload" in envelope:
            if envelope.get("origin") != self._origin:
                await self._reload(str(envelope["reload"]))
            return
        message = envelope["message"]
        to = envelope.get("to")
        if message.get("type") == "guest.allowed" and to:
            for user_id in to:
                conn = self.lobby.get(user_id)
                if conn is not None:
                    await self._admit_from_lobby(conn)
            return
        text = encode(message)
        but = envelope.get("but")
        if to is None:
            for participant in list(self.participants.values()):
                if participant.user_id == but:
                    continue
                for conn in participant.connections:
                    conn.send_text(text)
        else:
            for user_id in set(to):
                addressee = self.participants.get(user_id)
                if addressee is None or user_id == but:
                    continue
                for conn in addressee.connections:
                    conn.send_text(text)
        if to is not None:
            for user_id in to:
                conn = self.lobby.get(user_id)
                if conn is not None:
                    conn.send_text(text)
                    if message.get("type") == "guest.denied":
                        conn.close(CloseCode.FORBIDDEN)

    async def _admit_from_lobby(self, conn: Connection) -> None:
        fresh = await self._meetings.get_attendee(conn.user_id)
        if fresh is not None:
            conn.attendee = fresh
        await self._admit(conn)
        await self._lobby.announce()

    def _welcome_text(self, conn: Connection, me: Participant, state: dict[str, Any]) -> str:
        """The welcome, encoded: the roster is spliced in as the JSON its records already are
        (room/presence.py), never encoded again per newcomer."""
        head = encode({**self._welcome(me), **state})
        users = self.presence.attach(conn, me)
        return f'{head[:-1]},"usersSeq":{conn.users_seq},"users":{users}}}'

    def _welcome(self, me: Participant) -> dict[str, Any]:
        """Everything in a welcome but the roster (`_welcome_text` adds it)."""
        attendee = me.attendee
        moderator = attendee.role is Role.MODERATOR
        policy = self._policy
        settings = self._meeting.settings
        return {
            "type": "welcome",
            "version": p.PROTOCOL_VERSION,
            "you": me.view(),
            "locale": attendee.custom_data.get("bbb_override_default_locale"),
            # The userdata-bbb_* settings that shape the page (BBB's client options).
            "userdata": {k: v for k, v in attendee.custom_data.items() if k.startswith("bbb_")},
            "meeting": {
                "id": self._meeting.external_id,
                "name": self._meeting.name,
                "welcome": sanitize(settings.get("welcome") or ""),
                "moderatorOnlyMessage": (
                    sanitize(settings.get("moderatorOnlyMessage") or "") if moderator else None
                ),
                "logo": settings.get("logo"),
                "darklogo": settings.get("darklogo") or settings.get("logo"),
                "bannerText": settings.get("bannerText"),
                "bannerColor": settings.get("bannerColor"),
                "logoutUrl": self._logout_url,
                "disabledFeatures": sorted(policy.disabled),
                "record": policy.record,
                "recording": self.marks.recording,
                "allowStartStopRecording": policy.allow_start_stop_recording,
                "notifyRecordingIsOn": policy.notify_recording_is_on,
                # create's meetingLayout: where the page starts unless userdata says otherwise.
                "layout": settings.get("meetingLayout") or "SMART_LAYOUT",
                "pushedLayout": policy.pushed_layout,
                "guestPolicy": policy.guest_policy if moderator else None,
            },
            # join's enforceLayout: this user's page stays in it.
            "enforceLayout": enforce_layout(attendee),
            "locks": policy.locks.view(),
            "media": {
                "available": self.media.available,
                "iceServers": self._ice_servers(attendee.internal_user_id),
                "muteOnStart": policy.mute_on_start,
                "webcamsOnlyForModerator": policy.webcams_only_for_moderator,
                "allowModsToUnmuteUsers": policy.allow_mods_to_unmute_users,
                "allowModsToEjectCameras": policy.allow_mods_to_eject_cameras,
            },
            "feeds": self.media.feeds_for(me),
            **self.notes.welcome(),
            "poll": self.polls.welcome(attendee.internal_user_id),
            "chat": self.chat.visible_to(attendee.internal_user_id),
            "lobby": self._lobby.view() if moderator else [],
        }

    # ------------------------------------------------------------------------ outside --
    async def presentations_changed(self) -> None:
        """A document finished converting, failed, or became current."""
        await self.presenting.changed()

    async def external_chat(self, message: dict[str, Any]) -> None:
        """A public message from sendChatMessage, already in the event log."""
        async with self._lock:
            item = self.chat.from_outside(message)
        self.presence.flush()
        text = encode(item)
        for participant in self.participants.values():
            for conn in participant.connections:
                conn.send_text(text)

    async def hand_over(self) -> list[Connection]:
        """Another front end takes this meeting over (room/ownership.py): close every
        connection with MOVED, so the pages reconnect there, and leave nobody: the meeting goes
        on, and the new owner rebuilds the room from the log. Returns the connections closed."""
        return await self._shut(CloseCode.MOVED, None)

    async def close(self, reason: str) -> None:
        """The meeting ended: tell everyone where to go, and close every connection."""
        message = {"type": "meeting.ended", "reason": reason, "logoutUrl": self._logout_url}
        await self._shut(CloseCode.GONE, encode(message))

    async def _shut(self, code: CloseCode, farewell: str | None) -> list[Connection]:
        self.closed = True
        self.presence.close()
        for task in self._leaving.values():
            task.cancel()
        self._leaving.clear()
        closed = [c for q in self.participants.values() for c in q.connections] + list(
            self.lobby.values()
        )
        for conn in closed:
            if farewell is not None:
                conn.send_text(farewell)
            conn.close(code)
        self.participants.clear()
        self.lobby.clear()
        self._unsubscribe()
        try:
            await self.media.close()
        except Exception:
            log.exception("closing the media of %s failed", self.id)
        return closed


def _table(*routes: Routes) -> dict[type[BaseModel], Route]:
    """The one dispatch table: every message type answered by exactly one feature."""
    table: dict[type[BaseModel], Route] = {}
    for feature in routes:
        for kind, found in feature.items():
            if kind in table:
                raise ValueError(f"{kind.__name__} is routed twice")
            table[kind] = found
    return table
