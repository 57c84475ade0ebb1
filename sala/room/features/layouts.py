"""Layouts: a moderator puts everybody in one layout (BBB's "push layout to everyone").

Owns `layout.push` (moderators; disabledFeatures `layouts` refuses it). The pushed layout is
kept in the meeting's settings, so late joiners and a restarted room find it in their welcome,
and logged. A user joined with `enforceLayout` stays in theirs: the room tells them which in
their welcome (`enforce_layout`), and their page does not follow pushes.
"""

from __future__ import annotations

from sala.events import types
from sala.meetings.model import Attendee
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route


class Layouts:
    def __init__(self, room: RoomPort) -> None:
        self._room = room

    def routes(self) -> Routes:
        return dict([route(p.LayoutPush, self.push)])

    async def push(self, _conn: Connection, me: Participant, message: p.LayoutPush) -> None:
        ref = message.ref
        require_moderator(me, ref)
        if not self._room.policy.enabled(Feature.LAYOUTS):
            raise Refused("disabled", "Layouts are disabled in this meeting", ref)
        await self._room.update_settings(self._room.policy.pushed_layout_is(message.layout))
        await self._room.log(me, types.LAYOUT_PUSHED, {"layout": message.layout})
        await self._room.broadcast(
            {
                "type": "layout.pushed",
                "layout": message.layout,
                "by": {"id": me.user_id, "name": me.attendee.full_name},
            }
        )


def enforce_layout(attendee: Attendee) -> str | None:
    """join's enforceLayout, when it names one of BBB's layouts (BBB ignores any other)."""
    value = attendee.join_params.get("enforceLayout")
    if not isinstance(value, str):
        return None
    value = value.strip().upper()
    return value if value in p.LAYOUTS else None
