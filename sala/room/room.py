"""A meeting's room in this process: who is connected, what they may do, and who hears about it.

Actions from connections are handled one at a time (a lock per room), checked against the
sender's role, the lock settings and the meeting's disabled features, written through
MeetingService (state and event log), and announced on the bus topic `room:<meeting>`. Every
process with connections in that meeting delivers the announcement to its own connections, so
the same code works when several processes share a meeting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sala.clock import Clock
from sala.events import types
from sala.events.bus import Bus
from sala.media.engine import MediaEngine
from sala.meetings.model import Attendee, GuestStatus, Meeting, Role
from sala.meetings.rules import EndReason
from sala.meetings.service import MeetingService
from sala.presentations.service import PresentationService
from sala.recordings.capture import raw_dir
from sala.room import protocol as p
from sala.room.connection import Connection, encode
from sala.room.markup import sanitize
from sala.room.media import RoomMedia
from sala.room.notes_room import RoomNotes
from sala.room.polls import Poll, PollError
from sala.room.whiteboard import Whiteboard

log = logging.getLogger(__name__)

RECONNECT_GRACE_S = 10.0
ACTIVITY_EVERY_S = 30.0
WHOLE_PAGE = {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0}
CHAT_HISTORY = 1000
LOCK_KEYS = {
    "disableCam": "lockSettingsDisableCam",
    "disableMic": "lockSettingsDisableMic",
    "disablePrivateChat": "lockSettingsDisablePrivateChat",
    "disablePublicChat": "lockSettingsDisablePublicChat",
    "disableNotes": "lockSettingsDisableNotes",
    "hideUserList": "lockSettingsHideUserList",
}


class Refused(p.ProtocolError):
    pass


@dataclass
class Participant:
    attendee: Attendee
    hand: bool = False
    reaction: str | None = None
    away: bool = False
    audio: str | None = None
    """None, "mic" or "listen" (listen-only)."""
    muted: bool = False
    talking: bool = False
    connections: set[Connection] = field(default_factory=set)

    def view(self) -> dict[str, Any]:
        a = self.attendee
        return {
            "id": a.internal_user_id,
            "name": a.full_name,
            "role": a.role.value,
            "guest": a.guest,
            "presenter": a.is_presenter,
            "hand": self.hand,
            "reaction": self.reaction,
            "away": self.away,
            "avatar": a.avatar_url or None,
            "audio": self.audio,
            "muted": self.muted,
            "talking": self.talking,
        }


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
        self.meeting = meeting
        self._end_sessions = end_sessions
        """Ends a user's room sessions in the store (meetings/sessions.py): a removal."""
        self._recordings_root = recordings_root
        self._meetings = meetings
        self._bus = bus
        self._clock = clock
        self._logout_url = logout_url
        self._on_empty = on_empty
        self._lock = asyncio.Lock()
        self.participants: dict[str, Participant] = {}
        self.lobby: dict[str, Connection] = {}
        self.chat: list[dict[str, Any]] = []
        self._leaving: dict[str, asyncio.Task[None]] = {}
        self._topic = f"room:{meeting.internal_id}"
        self._unsubscribe = bus.subscribe(self._topic, self._deliver)
        self.closed = False
        self.media = RoomMedia(self, media_engine)
        self._presentations = presentations
        self.poll: Poll | None = None
        self.whiteboard = Whiteboard()
        self.notes = RoomNotes(self, meetings)
        self.recording = False
        """Whether the meeting is recording now (between a started and a stopped mark)."""
        self.recording_ever = False
        self.view: dict[str, float] = dict(WHOLE_PAGE)
        """The presenter's zoom on the current page (fractions of the slide)."""
        self._activity_at = 0
        self._ice_servers = ice_servers or (lambda _user: [])

    @property
    def id(self) -> str:
        return self.meeting.internal_id

    # ------------------------------------------------------------------------ settings --
    def _setting(self, key: str, default: Any = None) -> Any:
        return self.meeting.settings.get(key, default)

    def locks(self) -> dict[str, bool]:
        return {short: bool(self._setting(long, False)) for short, long in LOCK_KEYS.items()}

    def _locked(self, attendee: Attendee, lock: str) -> bool:
        # BBB's lock settings apply to viewers only.
        return attendee.role is Role.VIEWER and bool(self._setting(LOCK_KEYS[lock], False))

    def _disabled(self, feature: str) -> bool:
        return feature in self.meeting.disabled_features

    # What the media rules (room/media.py) read and do through the room.
    locked = _locked
    disabled = _disabled
    setting = _setting

    async def refresh(self) -> None:
        fresh = await self._meetings.get_by_internal_id(self.id)
        if fresh is not None:
            self.meeting = fresh

    # ---------------------------------------------------------------------- connections --
    async def attach(self, conn: Connection) -> None:
        async with self._lock:
            await self.refresh()
            attendee = await self._meetings.get_attendee(conn.user_id)
            if attendee is None or self.meeting.ended:
                raise Refused("not_in_meeting", "This session does not belong to a live meeting")
            conn.attendee = attendee
            removed = self._setting("removedUserIds", [])
            if attendee.external_user_id in removed:
                conn.send({"type": "removed", "reason": "banned", "logoutUrl": self._logout_url})
                conn.close(4403)
                return
            if attendee.guest_status is GuestStatus.DENY:
                conn.send({"type": "guest.denied", "logoutUrl": self._logout_url})
                conn.close(4403)
                return
            if attendee.guest_status is GuestStatus.WAIT:
                conn.in_lobby = True
                self.lobby[conn.user_id] = conn
                conn.send(
                    {
                        "type": "lobby.waiting",
                        "version": p.PROTOCOL_VERSION,
                        "meeting": {"name": self.meeting.name},
                        "you": {"id": attendee.internal_user_id, "name": attendee.full_name},
                        "message": self._setting("lobbyMessage", ""),
                        "locale": attendee.custom_data.get("bbb_override_default_locale"),
                    }
                )
                await self._announce_lobby()
                return
            await self._admit(conn)

    async def _admit(self, conn: Connection) -> None:
        user_id = conn.user_id
        conn.in_lobby = False
        self.lobby.pop(user_id, None)
        pending = self._leaving.pop(user_id, None)
        participant = self.participants.get(user_id)
        if participant is None:
            if pending is None:
                await self._meetings.user_connected(self.id, user_id)
            participant = Participant(conn.attendee)
            self.participants[user_id] = participant
            if conn.attendee.role is Role.MODERATOR and not any(
                q.attendee.is_presenter for q in self.participants.values()
            ):
                await self._set_presenter(user_id)
            if pending is None:
                await self._publish({"type": "user.joined", "user": participant.view()})
            if (
                self.meeting.record
                and self._setting("autoStartRecording", False)
                and not self.recording_ever
            ):
                await self._set_recording(participant, True)
        else:
            participant.attendee = conn.attendee
        if pending is not None:
            pending.cancel()
        participant.connections.add(conn)
        conn.send({**self._welcome(participant), **await self._presentation_state()})

    async def detach(self, conn: Connection) -> None:
        async with self._lock:
            if self.lobby.get(conn.user_id) is conn:
                del self.lobby[conn.user_id]
                await self._announce_lobby()
                return
            participant = self.participants.get(conn.user_id)
            if participant is None:
                return
            participant.connections.discard(conn)
            if participant.connections or conn.close_code in (4403, 4410):
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
            conn.close(4410)
        await self.media.release(user_id)
        await self._meetings.user_disconnected(self.id, user_id)
        await self._publish({"type": "user.left", "user": user_id})
        if participant.attendee.is_presenter:
            await self._meetings.update_attendee(
                self.id, user_id, {"is_presenter": False}, ("user-presenter-unassigned", {})
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
            participant.attendee = (
                await self._meetings.get_attendee(conn.user_id)
            ) or participant.attendee
            if not isinstance(message, p.MEDIA_MESSAGES):
                await self._dispatch(conn, participant, message)
                return
        # Outside the room's lock: media requests wait on the media server, and they are
        # serialised per participant by RoomMedia.
        await self.media.handle(conn, participant, message)

    async def _dispatch(self, conn: Connection, me: Participant, message: p.ClientMessage) -> None:
        ref = message.ref
        moderator = me.attendee.role is Role.MODERATOR
        if isinstance(message, p.Ping):
            conn.send({"type": "pong", "ref": ref})
        elif isinstance(message, p.ChatSend):
            await self._chat(me, message)
        elif isinstance(message, p.HandSet):
            target = self._target(message.user or me.attendee.internal_user_id, ref)
            if target is not me and not (moderator and not message.raised):
                raise Refused("forbidden", "Only moderators can lower someone else's hand", ref)
            if self._disabled("raiseHand") and message.raised:
                raise Refused("disabled", "Raising hands is disabled in this meeting", ref)
            target.hand = message.raised
            await self._log(target, types.RAISE_HAND, {"raised": message.raised})
            await self._publish_user(target)
        elif isinstance(message, p.ReactionSet):
            if self._disabled("userReactions"):
                raise Refused("disabled", "Reactions are disabled in this meeting", ref)
            if message.emoji is not None and message.emoji not in p.REACTIONS:
                raise Refused("invalid", "Unknown reaction", ref)
            me.reaction = message.emoji
            await self._log(me, types.EMOJI, {"emoji": message.emoji or "none"})
            await self._publish_user(me)
        elif isinstance(message, p.AwaySet):
            me.away = message.away
            await self._publish_user(me)
        elif isinstance(message, p.Leave):
            await self._drop(me.attendee.internal_user_id)
        elif isinstance(
            message,
            p.PresentationPage | p.PresentationShow | p.PresentationRemove | p.PresentationZoom,
        ):
            await self._present(me, message)
        elif isinstance(message, p.DrawAdd | p.DrawErase | p.WhiteboardMulti):
            await self._draw(me, message)
        elif isinstance(message, p.PollStart | p.PollAnswer | p.PollStop | p.PollPublish):
            await self._poll(conn, me, message)
        elif isinstance(message, p.NotesUpdate | p.NotesSync | p.NotesReset):
            await self.notes.handle(conn, me, message)
        elif isinstance(message, p.RecordingSet):
            if not moderator:
                raise Refused("forbidden", "Only moderators start and stop the recording", ref)
            if not self.meeting.record:
                raise Refused("disabled", "This meeting is not recorded", ref)
            if not self._setting("allowStartStopRecording", True):
                raise Refused("forbidden", "The recording cannot be started or stopped here", ref)
            if message.recording != self.recording:
                await self._set_recording(me, message.recording)
        elif isinstance(message, p.Hello):
            raise Refused("invalid", "The handshake was already done", ref)
        else:
            if not moderator:
                raise Refused("forbidden", "Only moderators can do that", ref)
            await self._moderate(me, message)

    async def _moderate(self, me: Participant, message: p.ClientMessage) -> None:
        ref = message.ref
        if isinstance(message, p.UserRemove):
            target = self._target(message.user, ref)
            if target is me:
                raise Refused("invalid", "Use leave to leave the meeting", ref)
            if message.ban:
                banned = [*self._setting("removedUserIds", []), target.attendee.external_user_id]
                await self._meetings.update_settings(self.id, {"removedUserIds": banned})
                await self.refresh()
            if self._end_sessions is not None:
                # Before anyone is told: a reload racing the notice finds its cookie dead.
                await self._end_sessions(self.id, target.attendee.internal_user_id)
            for conn in list(target.connections):
                conn.send({"type": "removed", "reason": "moderator", "logoutUrl": self._logout_url})
            await self._drop(target.attendee.internal_user_id)
        elif isinstance(message, p.UserRole):
            target = self._target(message.user, ref)
            await self._meetings.update_attendee(
                self.id,
                target.attendee.internal_user_id,
                {"role": message.role},
                ("user-role-changed", {"role": message.role}),
            )
            await self._reload(target)
            await self._publish_user(target)
            state = await self._presentation_state()
            for conn in target.connections:
                conn.send({**self._welcome(target), **state})
        elif isinstance(message, p.UserPresenter):
            self._target(message.user, ref)
            await self._set_presenter(message.user)
        elif isinstance(message, p.LockSet):
            changes = {
                LOCK_KEYS[k]: v
                for k, v in message.model_dump(exclude={"type", "ref"}).items()
                if v is not None
            }
            await self._meetings.update_settings(self.id, changes)
            await self.refresh()
            await self._publish({"type": "locks.updated", "locks": self.locks()})
            await self.media.locks_changed()
        elif isinstance(message, p.GuestDecide):
            waiting = [message.user] if message.user else list(self.lobby)
            if message.user and message.user not in self.lobby:
                raise Refused("not_found", "That guest is not waiting", ref)
            for user_id in waiting:
                status = "ALLOW" if message.allow else "DENY"
                await self._meetings.update_attendee(
                    self.id,
                    user_id,
                    {"guest_status": status},
                    ("guest-decided", {"status": status}),
                )
                await self._publish(
                    {"type": "guest.allowed" if message.allow else "guest.denied", "user": user_id},
                    to=[user_id],
                )
        elif isinstance(message, p.LobbyMessage):
            await self._meetings.update_settings(self.id, {"lobbyMessage": message.text})
            await self.refresh()
            await self._publish(
                {"type": "lobby.message", "text": message.text}, to=list(self.lobby)
            )
        elif isinstance(message, p.MeetingEnd):
            await self._meetings.end_by_internal_id(self.id, EndReason.MODERATOR)

    # --------------------------------------------------------------------- presentation --
    async def _present(
        self,
        me: Participant,
        message: p.PresentationPage
        | p.PresentationShow
        | p.PresentationRemove
        | p.PresentationZoom,
    ) -> None:
        ref = message.ref
        if self._presentations is None or self._disabled("presentation"):
            raise Refused("disabled", "Presentations are disabled in this meeting", ref)
        if not me.attendee.is_presenter:
            raise Refused("forbidden", "Only the presenter can do that", ref)
        if isinstance(message, p.PresentationZoom):
            # The view never leaves the page.
            w, h = message.w, message.h
            view = {
                "x": round(min(message.x, 1 - w), 4),
                "y": round(min(message.y, 1 - h), 4),
                "w": round(w, 4),
                "h": round(h, 4),
            }
            self.view = view
            await self._log(me, types.ZOOM_CHANGED, view)
            await self._publish({"type": "presentation.zoom", **view})
            return
        if isinstance(message, p.PresentationRemove):
            doomed = await self._presentations.get(message.presentation)
            if doomed is None or doomed.meeting_id != self.id:
                raise Refused("not_found", "No such presentation in this meeting", ref)
            if not doomed.removable or doomed.current:
                raise Refused("forbidden", "This presentation cannot be removed", ref)
            await self._presentations.remove(doomed, keep_files=self.meeting.record)
            return
        if isinstance(message, p.PresentationShow):
            chosen = await self._presentations.get(message.presentation)
            if chosen is None or chosen.meeting_id != self.id or chosen.state != "ready":
                raise Refused("not_found", "No such presentation in this meeting", ref)
            self.view = dict(WHOLE_PAGE)
            await self._presentations.make_current(self.id, chosen.id)
            return
        current = await self._presentations.current(self.id)
        if current is None or message.page > current.pages:
            raise Refused("not_found", "No such page", ref)
        await self._presentations.set_page(current.id, message.page)
        await self._log(me, types.PAGE_CHANGED, {"presentation": current.id, "page": message.page})
        await self.activity("presentation")
        self.view = dict(WHOLE_PAGE)
        await self._publish(
            {"type": "presentation.page", "presentation": current.id, "page": message.page}
        )

    # ----------------------------------------------------------------------- whiteboard --
    async def _draw(
        self, me: Participant, message: p.DrawAdd | p.DrawErase | p.WhiteboardMulti
    ) -> None:
        ref = message.ref
        presenter = me.attendee.is_presenter
        user_id = me.attendee.internal_user_id
        if isinstance(message, p.WhiteboardMulti):
            if not presenter:
                raise Refused("forbidden", "Only the presenter can change who draws", ref)
            await self.update_settings({"multiUserWhiteboardEnabled": message.enabled})
            await self._publish({"type": "whiteboard.multi", "enabled": message.enabled})
            return
        if not presenter and not self._setting("multiUserWhiteboardEnabled", False):
            raise Refused("forbidden", "Only the presenter draws on the slides", ref)
        if self._presentations is None or self._disabled("presentation"):
            raise Refused("disabled", "Presentations are disabled in this meeting", ref)
        document = await self._presentations.get(message.presentation)
        if document is None or document.meeting_id != self.id or message.page > document.pages:
            raise Refused("not_found", "No such page in this meeting", ref)
        where = {"presentation": document.id, "page": message.page}
        if isinstance(message, p.DrawAdd):
            shape = {**message.shape.model_dump(), "author": user_id}
            if not self.whiteboard.add(document.id, message.page, shape):
                raise Refused("invalid", "That annotation exists, or the page is full", ref)
            await self._log(me, types.WHITEBOARD_ADDED, {**where, "shape": shape})
            await self.activity("drawing")
            await self._publish({"type": "draw.added", **where, "shape": shape})
            return
        # The presenter erases anything; others their own.
        owner = None if presenter else user_id
        if message.clear:
            ids = self.whiteboard.remove(document.id, message.page, owner, None)
        elif message.undo:
            last = self.whiteboard.last_of(document.id, message.page, user_id)
            ids = self.whiteboard.remove(document.id, message.page, owner, [last] if last else [])
        elif message.shape is not None:
            ids = self.whiteboard.remove(document.id, message.page, owner, [message.shape])
        else:
            raise Refused("invalid", "Say what to erase: shape, undo or clear", ref)
        if ids:
            await self._log(me, types.WHITEBOARD_REMOVED, {**where, "ids": ids})
            await self._publish({"type": "draw.removed", **where, "ids": ids})

    # ------------------------------------------------------------------------ recording --
    @property
    def capture_dir(self) -> Path | None:
        """Where the media server writes this meeting's media, if it is recorded."""
        if not self.meeting.record or self._recordings_root is None:
            return None
        return raw_dir(self._recordings_root, self.id)

    async def _set_recording(self, by: Participant, recording: bool) -> None:
        """A recording mark: only what lies between a start and a stop ends up in the playback
        (the recording pipeline and the analytics callback read the marks from the log)."""
        self.recording = recording
        self.recording_ever = self.recording_ever or recording
        await self._log(by, types.RECORDING_STARTED if recording else types.RECORDING_STOPPED, {})
        await self._publish(
            {"type": "recording.updated", "recording": recording, "by": by.attendee.full_name}
        )

    def replay_recording_mark(self, kind: str) -> None:
        self.recording = kind == types.RECORDING_STARTED
        self.recording_ever = self.recording_ever or self.recording

    # ---------------------------------------------------------------------------- polls --
    async def _poll(
        self,
        conn: Connection,
        me: Participant,
        message: p.PollStart | p.PollAnswer | p.PollStop | p.PollPublish,
    ) -> None:
        ref = message.ref
        if self._disabled("polls"):
            raise Refused("disabled", "Polls are disabled in this meeting", ref)
        presenter = me.attendee.is_presenter
        try:
            if isinstance(message, p.PollAnswer):
                poll = self.poll
                if poll is None or poll.id != message.poll:
                    raise Refused("not_found", "That poll is not running", ref)
                if presenter:
                    raise Refused("forbidden", "The presenter does not answer their own poll", ref)
                poll.answer(
                    me.attendee.internal_user_id,
                    me.attendee.full_name,
                    message.choices,
                    message.text,
                )
                await self._log(me, types.POLL_VOTE, poll.log_answer(me.attendee.internal_user_id))
                conn.send({"type": "poll.answered", "poll": poll.id, "ref": ref})
                await self._publish(
                    {"type": "poll.results", **poll.results()}, to=self._presenters()
                )
                return
            if not presenter:
                raise Refused("forbidden", "Only the presenter runs polls", ref)
            if isinstance(message, p.PollStart):
                self.poll = Poll.start(
                    message.kind,
                    message.question,
                    message.options,
                    message.anonymous,
                    message.multiple,
                )
                await self._log(me, types.POLL_STARTED, self.poll.log_started())
                await self._publish({"type": "poll.started", "poll": self.poll.view(), "ref": ref})
                await self._publish(
                    {"type": "poll.results", **self.poll.results()}, to=self._presenters()
                )
                return
            poll = self.poll
            if poll is None:
                raise Refused("not_found", "No poll is running", ref)
            poll.open = False
            if isinstance(message, p.PollStop):
                await self._publish({"type": "poll.ended", "poll": poll.id, "ref": ref})
            else:
                await self._publish(
                    {
                        "type": "poll.published",
                        "poll": poll.id,
                        "question": poll.question,
                        "counts": poll.counts(),
                        "responders": len(poll.votes),
                        "ref": ref,
                    }
                )
                self.poll = None
                await self._poll_on_whiteboard(me, poll)
        except PollError as exc:
            raise Refused(exc.code, exc.message, ref) from None

    async def _poll_on_whiteboard(self, me: Participant, poll: Poll) -> None:
        """A published poll's result goes on the current page, as in BBB: an annotation like any
        other (logged, replayed, erasable by the presenter)."""
        if self._presentations is None or self._disabled("presentation"):
            return
        document = await self._presentations.current(self.id)
        if document is None:
            return
        where = {"presentation": document.id, "page": document.page}
        shape = {
            "id": f"poll-{poll.id}",
            "tool": "poll",
            "points": [[0.6, 0.55], [0.97, 0.95]],
            "color": "#1f2937",
            "width": 0.002,
            "text": poll.question,
            # Typed answers can be many: the board shows the ten most given.
            "result": sorted(poll.counts(), key=lambda c: -c["votes"])[:10]
            if poll.typed
            else poll.counts(),
            "responders": len(poll.votes),
            "author": me.attendee.internal_user_id,
        }
        if self.whiteboard.add(document.id, document.page, shape):
            await self._log(me, types.WHITEBOARD_ADDED, {**where, "shape": shape})
            await self._publish({"type": "draw.added", **where, "shape": shape})

    def _presenters(self) -> list[str]:
        return [
            q.attendee.internal_user_id
            for q in self.participants.values()
            if q.attendee.is_presenter
        ]

    async def presentations_changed(self) -> None:
        """A document finished converting, failed, or became current."""
        await self._publish({"type": "presentation.updated", **await self._presentation_state()})

    async def _presentation_state(self) -> dict[str, Any]:
        if self._presentations is None or self._disabled("presentation"):
            return {
                "presentations": [],
                "current": None,
                "annotations": {},
                "multiUserWhiteboard": False,
                "view": WHOLE_PAGE,
            }
        documents = await self._presentations.of_meeting(self.id)
        if not documents:
            await self._presentations.add_default(self.id)
            documents = await self._presentations.of_meeting(self.id)
        current = next((d.id for d in documents if d.current), None)
        return {
            "presentations": [
                {**d.view(), "progress": self._presentations.progress_of(d.id)} for d in documents
            ],
            "current": current,
            "annotations": self.whiteboard.of_presentation(current) if current else {},
            "multiUserWhiteboard": bool(self._setting("multiUserWhiteboardEnabled", False)),
            "view": self.view,
        }

    def _target(self, user_id: str, ref: str | None) -> Participant:
        target = self.participants.get(user_id)
        if target is None:
            raise Refused("not_found", "That user is not in the meeting", ref)
        return target

    async def _reload(self, participant: Participant) -> None:
        fresh = await self._meetings.get_attendee(participant.attendee.internal_user_id)
        if fresh is not None:
            participant.attendee = fresh

    async def _set_presenter(self, user_id: str) -> None:
        for other in list(self.participants.values()):
            if other.attendee.is_presenter and other.attendee.internal_user_id != user_id:
                await self.media.presenter_changed(other.attendee.internal_user_id)
                await self._meetings.update_attendee(
                    self.id,
                    other.attendee.internal_user_id,
                    {"is_presenter": False},
                    ("user-presenter-unassigned", {}),
                )
                await self._reload(other)
                await self._publish_user(other)
        await self._meetings.update_attendee(
            self.id, user_id, {"is_presenter": True}, ("user-presenter-assigned", {})
        )
        target = self.participants.get(user_id)
        if target is not None:
            await self._reload(target)
            await self._publish_user(target)

    async def _chat(self, me: Participant, message: p.ChatSend) -> None:
        ref = message.ref
        if self._disabled("chat"):
            raise Refused("disabled", "Chat is disabled in this meeting", ref)
        sender = me.attendee
        if message.to is None:
            if self._locked(sender, "disablePublicChat"):
                raise Refused("locked", "Public chat is locked for viewers", ref)
            to = None
        else:
            if self._disabled("privateChat"):
                raise Refused("disabled", "Private chat is disabled in this meeting", ref)
            if self._locked(sender, "disablePrivateChat"):
                raise Refused("locked", "Private chat is locked for viewers", ref)
            to = self._target(message.to, ref)
            if to is me:
                raise Refused("invalid", "You cannot send a private message to yourself", ref)
        item = {
            "type": "chat.message",
            "id": f"{self._clock.now_ms()}-{len(self.chat)}",
            "from": {"id": sender.internal_user_id, "name": sender.full_name},
            "to": None if to is None else to.attendee.internal_user_id,
            "text": message.text,
            "ts": self._clock.now_ms(),
            "ref": ref,
        }
        await self._meetings.log_event(
            self.id,
            types.CHAT_MESSAGE,
            {
                "chat": "public" if to is None else "private",
                "to": item["to"],
                "message": message.text,
                "sender_name": sender.full_name,
            },
            user_id=sender.internal_user_id,
        )
        self._remember(item)
        if to is None:
            await self._publish(item)
        else:
            await self._publish(item, to=[sender.internal_user_id, to.attendee.internal_user_id])

    # ------------------------------------------------------------- for the media rules --
    def participant(self, user_id: str, ref: str | None = None) -> Participant:
        return self._target(user_id, ref)

    async def log(self, participant: Participant, kind: str, data: dict[str, Any]) -> None:
        await self._log(participant, kind, data)

    async def activity(self, kind: str) -> None:
        """Talking and the like keep the meeting alive. The inactivity rule counts in minutes,
        so the deadline moves at most every ACTIVITY_EVERY_S, not on every word."""
        now = self._clock.now_ms()
        if now - self._activity_at < ACTIVITY_EVERY_S * 1000:
            return
        self._activity_at = now
        await self._meetings.record_activity(self.id, kind)

    async def update_media_flags(
        self, participant: Participant, changes: dict[str, Any], event: str, data: dict[str, Any]
    ) -> None:
        """Media state for getMeetingInfo, and its event in the log, in one transaction."""
        await self._meetings.update_attendee(
            self.id, participant.attendee.internal_user_id, changes, (event, data)
        )

    async def update_settings(self, changes: dict[str, Any]) -> None:
        await self._meetings.update_settings(self.id, changes)
        await self.refresh()

    async def publish_user(self, participant: Participant) -> None:
        await self._publish_user(participant)

    async def broadcast(self, message: dict[str, Any]) -> None:
        await self._publish(message)

    def send_to(self, user_id: str, message: dict[str, Any]) -> None:
        """To this process's connections of one participant (media answers and notices)."""
        participant = self.participants.get(user_id)
        if participant is not None:
            for conn in participant.connections:
                conn.send(message)

    def _remember(self, item: dict[str, Any]) -> None:
        self.chat.append({k: v for k, v in item.items() if k != "ref"})
        del self.chat[:-CHAT_HISTORY]

    async def _log(self, participant: Participant, kind: str, data: dict[str, Any]) -> None:
        await self._meetings.log_event(
            self.id, kind, data, user_id=participant.attendee.internal_user_id
        )

    # ----------------------------------------------------------------------- fan-out --
    async def _publish(self, message: dict[str, Any], to: list[str] | None = None) -> None:
        await self._bus.publish(self._topic, {"to": to, "message": message})

    async def _publish_user(self, participant: Participant) -> None:
        await self._publish({"type": "user.updated", "user": participant.view()})

    async def _announce_lobby(self) -> None:
        waiting = [{"id": c.user_id, "name": c.attendee.full_name} for c in self.lobby.values()]
        moderators = [
            q.attendee.internal_user_id
            for q in self.participants.values()
            if q.attendee.role is Role.MODERATOR
        ]
        await self._publish({"type": "lobby.updated", "waiting": waiting}, to=moderators)

    async def _deliver(self, _topic: str, envelope: dict[str, Any]) -> None:
        message = envelope["message"]
        to = envelope.get("to")
        if message.get("type") == "guest.allowed" and to:
            for user_id in to:
                conn = self.lobby.get(user_id)
                if conn is not None:
                    await self._admit_from_lobby(conn)
            return
        text = encode(message)
        for participant in list(self.participants.values()):
            if to is not None and participant.attendee.internal_user_id not in to:
                continue
            if not self._visible_to(participant, message):
                continue
            for conn in participant.connections:
                conn.send_text(text)
        if to is not None:
            for user_id in to:
                conn = self.lobby.get(user_id)
                if conn is not None:
                    conn.send_text(text)
                    if message.get("type") == "guest.denied":
                        conn.close(4403)

    async def _admit_from_lobby(self, conn: Connection) -> None:
        fresh = await self._meetings.get_attendee(conn.user_id)
        if fresh is not None:
            conn.attendee = fresh
        await self._admit(conn)
        await self._announce_lobby()

    def _visible_to(self, participant: Participant, message: dict[str, Any]) -> bool:
        """With the user list hidden, viewers only hear about moderators and themselves."""
        if not self._locked(participant.attendee, "hideUserList"):
            return True
        if message.get("type") not in ("user.joined", "user.updated", "user.left"):
            return True
        subject = message["user"] if isinstance(message["user"], dict) else None
        if subject is None:
            return True
        me = participant.attendee.internal_user_id
        return bool(subject["role"] == "MODERATOR" or subject["id"] == me)

    def _welcome(self, me: Participant) -> dict[str, Any]:
        attendee = me.attendee
        moderator = attendee.role is Role.MODERATOR
        users = [q.view() for q in self.participants.values()]
        if self._locked(attendee, "hideUserList"):
            users = [
                u for u in users if u["role"] == "MODERATOR" or u["id"] == attendee.internal_user_id
            ]
        settings = self.meeting.settings
        return {
            "type": "welcome",
            "version": p.PROTOCOL_VERSION,
            "you": me.view(),
            "locale": attendee.custom_data.get("bbb_override_default_locale"),
            # The userdata-bbb_* settings that shape the page (BBB's client options).
            "userdata": {k: v for k, v in attendee.custom_data.items() if k.startswith("bbb_")},
            "meeting": {
                "id": self.meeting.external_id,
                "name": self.meeting.name,
                "welcome": sanitize(settings.get("welcome") or ""),
                "moderatorOnlyMessage": (
                    sanitize(settings.get("moderatorOnlyMessage") or "") if moderator else None
                ),
                "logo": settings.get("logo"),
                "darklogo": settings.get("darklogo") or settings.get("logo"),
                "bannerText": settings.get("bannerText"),
                "bannerColor": settings.get("bannerColor"),
                "logoutUrl": self._logout_url,
                "disabledFeatures": sorted(self.meeting.disabled_features),
                "record": self.meeting.record,
                "recording": self.recording,
                "allowStartStopRecording": bool(self._setting("allowStartStopRecording", True)),
                "notifyRecordingIsOn": bool(self._setting("notifyRecordingIsOn", False)),
                # create's meetingLayout: where the page starts unless userdata says otherwise.
                "layout": settings.get("meetingLayout") or "SMART_LAYOUT",
            },
            "locks": self.locks(),
            "media": {
                "available": self.media.available,
                "iceServers": self._ice_servers(attendee.internal_user_id),
                "muteOnStart": bool(settings.get("muteOnStart", False)),
                "webcamsOnlyForModerator": bool(settings.get("webcamsOnlyForModerator", False)),
                "allowModsToUnmuteUsers": bool(settings.get("allowModsToUnmuteUsers", False)),
                "allowModsToEjectCameras": bool(settings.get("allowModsToEjectCameras", False)),
            },
            "feeds": self.media.feeds_for(me),
            **self.notes.welcome(),
            "poll": (
                self.poll.view()
                if self.poll is not None
                and self.poll.open
                and attendee.internal_user_id not in self.poll.votes
                else None
            ),
            "users": users,
            "chat": [
                m
                for m in self.chat
                if m["to"] is None or attendee.internal_user_id in (m["to"], m["from"]["id"])
            ],
            "lobby": (
                [{"id": c.user_id, "name": c.attendee.full_name} for c in self.lobby.values()]
                if moderator
                else []
            ),
        }

    # ------------------------------------------------------------------------ outside --
    async def external_chat(self, message: dict[str, Any]) -> None:
        """A public message from sendChatMessage, already in the event log."""
        item = {
            "type": "chat.message",
            "id": f"{self._clock.now_ms()}-{len(self.chat)}",
            "from": {"id": None, "name": message.get("sender_name", "System")},
            "to": None,
            "text": message.get("message", ""),
            "ts": self._clock.now_ms(),
        }
        async with self._lock:
            self._remember(item)
        text = encode(item)
        for participant in self.participants.values():
            for conn in participant.connections:
                conn.send_text(text)

    async def close(self, reason: str) -> None:
        """The meeting ended: tell everyone where to go, and close every connection."""
        self.closed = True
        message = encode({"type": "meeting.ended", "reason": reason, "logoutUrl": self._logout_url})
        for task in self._leaving.values():
            task.cancel()
        self._leaving.clear()
        for conn in [c for q in self.participants.values() for c in q.connections] + list(
            self.lobby.values()
        ):
            conn.send_text(message)
            conn.close(4410)
        self.participants.clear()
        self.lobby.clear()
        self._unsubscribe()
        try:
            await self.media.close()
        except Exception:
            log.exception("closing the media of %s failed", self.id)
