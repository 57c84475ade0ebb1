"""Polls in the room: the presenter starts, stops and publishes; the others answer once.

Owns the running poll (room/polls.py is the poll itself), `poll.start`, `poll.answer`,
`poll.stop` and `poll.publish`, and the poll part of the welcome. The presenter sees results as
they come; a published result also goes on the current slide (features/drawing.py).
disabledFeatures `polls` turns it off.

Starts, answers, stops and publishes are logged, and a room starting replays them: an open poll
keeps its votes (who answered cannot answer again), a stopped one can still be published, and a
presenter who (re)connects gets the live results after their welcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.polls import Poll, PollError
from sala.room.port import Participant, Refused, RoomPort, Routes, route

_ENDS_AND_VOTES = frozenset({types.POLL_VOTE, types.POLL_STOPPED, types.POLL_PUBLISHED})


def _poll_id(event: MeetingEvent) -> object:
    """The poll a vote, stop or publish is about (bbb-webhooks' `poll.id`)."""
    poll = event.data.get("poll")
    return poll.get("id") if isinstance(poll, dict) else None


class Polls:
    def __init__(
        self,
        room: RoomPort,
        presenters: Callable[[], list[str]],
        published: Callable[[Participant, Poll], Awaitable[None]],
    ) -> None:
        self._room = room
        self._presenters = presenters
        self._published = published
        self.poll: Poll | None = None

    def routes(self) -> Routes:
        return dict(
            [
                route(p.PollStart, self.start),
                route(p.PollAnswer, self.answer),
                route(p.PollStop, self.end),
                route(p.PollPublish, self.end),
            ]
        )

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        names: dict[str, str] = {}
        """Who answered, by name (the presenter's results show them): from the registrations."""
        poll: Poll | None = None
        for event in events:
            kind = event.type
            if kind == types.USER_REGISTERED and event.user_id:
                names[event.user_id] = str(event.data.get("name", ""))
            elif kind == types.POLL_STARTED:
                poll = Poll.from_log(event.data)
            elif poll is None or kind not in _ENDS_AND_VOTES or _poll_id(event) != poll.id:
                continue
            elif kind == types.POLL_VOTE and event.user_id:
                poll.answered(event.user_id, names.get(event.user_id, ""), event.data)
            elif kind == types.POLL_STOPPED:
                poll.open = False
            elif kind == types.POLL_PUBLISHED:
                poll = None
        self.poll = poll

    def seated(self, conn: Connection, me: Participant) -> None:
        """A presenter arriving (a reload, a reconnect after a takeover) sees the live results
        of the poll they run, as they did before."""
        if self.poll is not None and me.attendee.is_presenter:
            conn.send({"type": "poll.results", **self.poll.results()})

    def welcome(self, user_id: str) -> dict[str, Any] | None:
        """The open poll, for someone who has not answered it yet."""
        poll = self.poll
        if poll is None or not poll.open or user_id in poll.votes:
            return None
        return poll.view()

    def _enabled(self, ref: str | None) -> None:
        if not self._room.policy.enabled(Feature.POLLS):
            raise Refused("disabled", "Polls are disabled in this meeting", ref)

    async def answer(self, conn: Connection, me: Participant, message: p.PollAnswer) -> None:
        ref = message.ref
        self._enabled(ref)
        poll = self.poll
        if poll is None or poll.id != message.poll:
            raise Refused("not_found", "That poll is not running", ref)
        if me.attendee.is_presenter:
            raise Refused("forbidden", "The presenter does not answer their own poll", ref)
        try:
            poll.answer(me.user_id, me.attendee.full_name, message.choices, message.text)
        except PollError as exc:
            raise Refused(exc.code, exc.message, ref) from None
        await self._room.log(me, types.POLL_VOTE, poll.log_answer(me.user_id))
        conn.send({"type": "poll.answered", "poll": poll.id, "ref": ref})
        await self._room.broadcast(
            {"type": "poll.results", **poll.results()}, to=self._presenters()
        )

    def _presenter(self, me: Participant, ref: str | None) -> None:
        self._enabled(ref)
        if not me.attendee.is_presenter:
            raise Refused("forbidden", "Only the presenter runs polls", ref)

    async def start(self, _conn: Connection, me: Participant, message: p.PollStart) -> None:
        ref = message.ref
        self._presenter(me, ref)
        try:
            poll = Poll.start(
                message.kind, message.question, message.options, message.anonymous, message.multiple
            )
        except PollError as exc:
            raise Refused(exc.code, exc.message, ref) from None
        self.poll = poll
        await self._room.log(me, types.POLL_STARTED, poll.log_started())
        await self._room.broadcast({"type": "poll.started", "poll": poll.view(), "ref": ref})
        await self._room.broadcast(
            {"type": "poll.results", **poll.results()}, to=self._presenters()
        )

    async def end(
        self, _conn: Connection, me: Participant, message: p.PollStop | p.PollPublish
    ) -> None:
        ref = message.ref
        self._presenter(me, ref)
        poll = self.poll
        if poll is None:
            raise Refused("not_found", "No poll is running", ref)
        poll.open = False
        if isinstance(message, p.PollStop):
            await self._room.log(me, types.POLL_STOPPED, {"poll": {"id": poll.id}})
            await self._room.broadcast({"type": "poll.ended", "poll": poll.id, "ref": ref})
            return
        await self._room.broadcast(
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
        await self._room.log(me, types.POLL_PUBLISHED, {"poll": {"id": poll.id}})
        await self._published(me, poll)
