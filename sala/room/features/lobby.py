"""The guest lobby: who waits for a moderator to let them in, and what they are told.

Owns the waiting connections, `guest.decide`, `guest.policy` and `lobby.message` (moderators
only), the `lobby.waiting` greeting and the `lobby.updated` list moderators see. The guest
policy is the meeting's setting create's guestPolicy stored, so joins follow it from then on;
switching to ALWAYS_ACCEPT or ALWAYS_DENY decides for everyone waiting, as BBB does. A
decision is stored (the attendee's guest status, logged as `guest-decided`) and announced to the
guest through the room's fan-out, which admits them (room/room.py) in whichever process holds
their connection.
"""

from __future__ import annotations

from typing import Any

from sala.events import types
from sala.meetings.model import Role
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route


class Lobby:
    def __init__(self, room: RoomPort) -> None:
        self._room = room
        self.waiting: dict[str, Connection] = {}

    def routes(self) -> Routes:
        return dict(
            [
                route(p.GuestDecide, self.decide),
                route(p.GuestPolicySet, self.policy),
                route(p.LobbyMessage, self.message),
            ]
        )

    def view(self) -> list[dict[str, Any]]:
        return [{"id": c.user_id, "name": c.attendee.full_name} for c in self.waiting.values()]

    async def wait(self, conn: Connection, version: int) -> None:
        """A guest the moderators have not let in yet: greeted, and shown to the moderators."""
        attendee = conn.attendee
        conn.in_lobby = True
        self.waiting[conn.user_id] = conn
        conn.send(
            {
                "type": "lobby.waiting",
                "version": version,
                "meeting": {"name": self._room.meeting.name},
                "you": {"id": attendee.internal_user_id, "name": attendee.full_name},
                "message": self._room.policy.lobby_message,
                "locale": attendee.custom_data.get("bbb_override_default_locale"),
            }
        )
        await self.announce()

    async def left(self, conn: Connection) -> bool:
        """Whether this was a waiting connection (now gone from the lobby)."""
        if self.waiting.get(conn.user_id) is not conn:
            return False
        del self.waiting[conn.user_id]
        await self.announce()
        return True

    def admitted(self, conn: Connection) -> None:
        conn.in_lobby = False
        self.waiting.pop(conn.user_id, None)

    async def announce(self) -> None:
        moderators = [q.user_id for q in self._room.everyone() if q.attendee.role is Role.MODERATOR]
        await self._room.broadcast({"type": "lobby.updated", "waiting": self.view()}, to=moderators)

    async def decide(self, _conn: Connection, me: Participant, message: p.GuestDecide) -> None:
        ref = message.ref
        require_moderator(me, ref)
        waiting = [message.user] if message.user else list(self.waiting)
        if message.user and message.user not in self.waiting:
            raise Refused("not_found", "That guest is not waiting", ref)
        await self._decide(waiting, message.allow)

    async def _decide(self, waiting: list[str], allow: bool) -> None:
        for user_id in waiting:
            status = "ALLOW" if allow else "DENY"
            await self._room.update_attendee(
                user_id, {"guest_status": status}, (types.GUEST_DECIDED, {"status": status})
            )
            await self._room.broadcast(
                {"type": "guest.allowed" if allow else "guest.denied", "user": user_id},
                to=[user_id],
            )

    async def policy(self, _conn: Connection, me: Participant, message: p.GuestPolicySet) -> None:
        require_moderator(me, message.ref)
        await self._room.update_settings(self._room.policy.guest_policy_is(message.policy))
        await self._room.log(me, types.GUEST_POLICY_CHANGED, {"policy": message.policy})
        moderators = [q.user_id for q in self._room.everyone() if q.attendee.role is Role.MODERATOR]
        await self._room.broadcast(
            {
                "type": "guest.policy",
                "policy": message.policy,
                "by": {"id": me.user_id, "name": me.attendee.full_name},
            },
            to=moderators,
        )
        if message.policy != "ASK_MODERATOR" and self.waiting:
            await self._decide(list(self.waiting), message.policy == "ALWAYS_ACCEPT")

    async def message(self, _conn: Connection, me: Participant, message: p.LobbyMessage) -> None:
        require_moderator(me, message.ref)
        await self._room.update_settings(self._room.policy.lobby_message_is(message.text))
        await self._room.broadcast(
            {"type": "lobby.message", "text": message.text}, to=list(self.waiting)
        )
