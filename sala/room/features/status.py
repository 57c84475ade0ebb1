"""What participants show about themselves: a raised hand, a reaction, being away.

Owns `hand.set` (moderators may lower anyone's hand; disabledFeatures `raiseHand`),
`reaction.set` (one of protocol.REACTIONS; disabledFeatures `userReactions`), `away.set` and
`status.clear` (moderators: every hand, reaction and away at once). Every change is logged
(hands and reactions become webhooks, away does not) and announced as `user.updated`.

A room rebuilt from the log (a restart, or another process taking the meeting over) gives each
participant who comes back the hand, reaction and away they had, if the store still counts them
as in the meeting (nobody saw them leave). A reaction comes back only within REACTION_MS of being
set: the page that set it takes it back after that long, as BBB's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.model import Role
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route

REACTION_MS = 60_000
"""How long a reaction lasts: the client takes its own back after a minute (people.js)."""


@dataclass
class _Shown:
    """One user's status as the log left it."""

    hand: bool = False
    reaction: str | None = None
    reaction_at: int = 0
    away: bool = False


class Status:
    def __init__(self, room: RoomPort) -> None:
        self._room = room
        self._kept: dict[str, _Shown] = {}
        """From the log, for participants not seated again since the room started."""

    def routes(self) -> Routes:
        return dict(
            [
                route(p.HandSet, self.hand),
                route(p.ReactionSet, self.reaction),
                route(p.AwaySet, self.away),
                route(p.StatusClear, self.clear),
            ]
        )

    # ------------------------------------------------------------------------ restore --
    def replay(self, events: Sequence[MeetingEvent]) -> None:
        kept = self._kept
        for event in events:
            user_id = event.user_id
            if user_id is None:
                continue
            kind = event.type
            if kind == types.RAISE_HAND:
                kept.setdefault(user_id, _Shown()).hand = bool(event.data.get("raised"))
            elif kind == types.EMOJI:
                emoji = event.data.get("emoji")
                shown = kept.setdefault(user_id, _Shown())
                shown.reaction = None if emoji in (None, "none") else str(emoji)
                shown.reaction_at = event.ts
            elif kind == types.AWAY_CHANGED:
                kept.setdefault(user_id, _Shown()).away = bool(event.data.get("away"))
            elif kind == types.USER_LEFT:
                # Whoever left and comes back starts afresh, as in a room that saw them go.
                kept.pop(user_id, None)

    def seated(self, participant: Participant) -> None:
        """A participant took a new seat: what they showed before the room started comes back
        if the store still counts them as present (they were here when the old room went)."""
        shown = self._kept.pop(participant.user_id, None)
        if shown is None or not participant.attendee.present:
            return
        participant.hand = shown.hand
        participant.away = shown.away
        if shown.reaction is not None and self._room.now_ms() - shown.reaction_at < REACTION_MS:
            participant.reaction = shown.reaction

    # -------------------------------------------------------------------------- write --
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
        await self._room.log(me, types.AWAY_CHANGED, {"away": message.away})
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
            if target.away:
                target.away = False
                await self._room.log(target, types.AWAY_CHANGED, {"away": False})
            await self._room.publish_user(target)
