"""Moderation: removing and banning participants, roles, lock settings, ending the meeting.

Owns `user.remove`, `user.role`, `lock.set` and `meeting.end`, all for moderators only. A
removal ends the user's room sessions before anyone is told (a reload racing the notice finds
its cookie dead); a ban also keeps their external user ID out for the rest of the meeting. A
new role takes effect at once: the participant gets a new welcome for it. New locks are
announced, and media the viewers may no longer have is taken from them (room/media.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sala.events import types
from sala.meetings.policy import LockSettings
from sala.meetings.rules import EndReason
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route


class Moderation:
    def __init__(
        self,
        room: RoomPort,
        *,
        drop: Callable[[str], Awaitable[None]],
        rewelcome: Callable[[Participant], Awaitable[None]],
        locks_changed: Callable[[], Awaitable[None]],
        end_meeting: Callable[[str, EndReason], Awaitable[object]],
        end_sessions: Callable[[str, str], Awaitable[int]] | None,
    ) -> None:
        self._room = room
        self._drop = drop
        """Takes a participant out of the room (their connections close, everybody is told)."""
        self._rewelcome = rewelcome
        self._locks_changed = locks_changed
        self._end_meeting = end_meeting
        self._end_sessions = end_sessions
        """Ends a user's room sessions in the store (meetings/sessions.py): a removal."""

    def routes(self) -> Routes:
        return dict(
            [
                route(p.UserRemove, self.remove),
                route(p.UserRole, self.role),
                route(p.LockSet, self.lock),
                route(p.MeetingEnd, self.end),
            ]
        )

    async def remove(self, _conn: Connection, me: Participant, message: p.UserRemove) -> None:
        ref = message.ref
        require_moderator(me, ref)
        target = self._room.participant(message.user, ref)
        if target is me:
            raise Refused("invalid", "Use leave to leave the meeting", ref)
        if message.ban:
            banned = self._room.policy.ban(target.attendee.external_user_id)
            await self._room.update_settings(banned)
        if self._end_sessions is not None:
            # Before anyone is told: a reload racing the notice finds its cookie dead.
            await self._end_sessions(self._room.id, target.user_id)
        notice = {"type": "removed", "reason": "moderator", "logoutUrl": self._room.logout_url}
        for conn in list(target.connections):
            conn.send(notice)
        await self._drop(target.user_id)

    async def role(self, _conn: Connection, me: Participant, message: p.UserRole) -> None:
        require_moderator(me, message.ref)
        target = self._room.participant(message.user, message.ref)
        await self._room.update_attendee(
            target.user_id,
            {"role": message.role},
            (types.USER_ROLE_CHANGED, {"role": message.role}),
        )
        await self._room.publish_user(target)
        await self._rewelcome(target)

    async def lock(self, _conn: Connection, me: Participant, message: p.LockSet) -> None:
        require_moderator(me, message.ref)
        requested = message.model_dump(exclude={"type", "ref"})
        await self._room.update_settings(LockSettings.setting_changes(requested))
        await self._room.broadcast(
            {"type": "locks.updated", "locks": self._room.policy.locks.view()}
        )
        await self._locks_changed()

    async def end(self, _conn: Connection, me: Participant, message: p.MeetingEnd) -> None:
        require_moderator(me, message.ref)
        await self._end_meeting(self._room.id, EndReason.MODERATOR)
