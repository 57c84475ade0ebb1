"""What participants show about themselves: a raised hand, a reaction, being away.

Owns `hand.set` (moderators may lower anyone's hand; disabledFeatures `raiseHand`),
`reaction.set` (one of protocol.REACTIONS; disabledFeatures `userReactions`), `away.set` and
`status.clear` (moderators: every hand, reaction and away at once). Hands and reactions are
logged for webhooks; every change is announced as `user.updated`.
"""

from __future__ import annotations

from sala.events import types
from sala.meetings.model import Role
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route


class Status:
    def __init__(self, room: RoomPort) -> None:
        self._room = room

    def routes(self) -> Routes:
        return dict(
            [
                route(p.HandSet, self.hand),
                route(p.ReactionSet, self.reaction),
                route(p.AwaySet, self.away),
                route(p.StatusClear, self.clear),
            ]
        )

    async def hand(self, _conn: Connection, me: Participant, message: p.HandSet) -> None:
        ref = message.ref
        moderator = me.attendee.role is Role.MODERATOR
        target = self._room.participant(message.user or me.user_id, ref)
        if target is not me and not (moderator and not message.raised):
            raise Refused("forbidden", "Only moderators can lower someone else's hand", ref)
        if message.raised and not self._room.policy.enabled(Feature.RAISE_HAND):
            raise Refused("disabled", "Raising hands is disabled in this meeting", ref)
        target.hand = message.raised
        await self._room.log(target, types.RAISE_HAND, {"raised": message.raised})
        await self._room.publish_user(target)

    async def reaction(self, _conn: Connection, me: Participant, message: p.ReactionSet) -> None:
        ref = message.ref
        if not self._room.policy.enabled(Feature.REACTIONS):
            raise Refused("disabled", "Reactions are disabled in this meeting", ref)
        if message.emoji is not None and message.emoji not in p.REACTIONS:
            raise Refused("invalid", "Unknown reaction", ref)
        me.reaction = message.emoji
        await self._room.log(me, types.EMOJI, {"emoji": message.emoji or "none"})
        await self._room.publish_user(me)

    async def away(self, _conn: Connection, me: Participant, message: p.AwaySet) -> None:
        me.away = message.away
        await self._room.publish_user(me)

    async def clear(self, _conn: Connection, me: Participant, message: p.StatusClear) -> None:
        """Every raised hand lowered, every reaction and away cleared: logged one by one as the
        single changes are, and one `user.updated` per participant who changed."""
        require_moderator(me, message.ref)
        for target in self._room.everyone():
            if not (target.hand or target.reaction or target.away):
                continue
            if target.hand:
                target.hand = False
                await self._room.log(target, types.RAISE_HAND, {"raised": False})
            if target.reaction:
                target.reaction = None
                await self._room.log(target, types.EMOJI, {"emoji": "none"})
            target.away = False
            await self._room.publish_user(target)
