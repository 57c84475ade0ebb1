"""The presenter's pointer, and everybody's cursor while the multi-user whiteboard is on.

Owns `pointer.move`. Moves are relayed to everybody but the mover and never logged or stored:
the next move supersedes the last. Their rate has its own budget (room/limits.py), counted
before they reach here. With create's lockSettingsHideViewersCursor, a viewer's cursor goes only
to moderators and the presenter.
"""

from __future__ import annotations

from sala.meetings.model import Role
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, route


class Pointer:
    def __init__(self, room: RoomPort) -> None:
        self._room = room

    def routes(self) -> Routes:
        return dict([route(p.PointerMove, self.move)])

    async def move(self, _conn: Connection, me: Participant, message: p.PointerMove) -> None:
        policy = self._room.policy
        if not policy.may_point(me.attendee):
            raise Refused(
                "forbidden", "Only the presenter points, unless everybody may draw", message.ref
            )
        notice = {
            "type": "pointer",
            "user": me.user_id,
            "name": me.attendee.full_name,
            "x": message.x,
            "y": message.y,
        }
        to = None
        if not policy.cursor_seen_by_all(me.attendee):
            to = [
                q.user_id
                for q in self._room.everyone()
                if q.attendee.role is Role.MODERATOR or q.attendee.is_presenter
            ]
        await self._room.broadcast(notice, to=to, but=me.user_id)
