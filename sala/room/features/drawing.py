"""The whiteboard: annotations on the slides, who may draw, and the poll results put there.

Owns the annotations (room/whiteboard.py, rebuilt from the log when a room starts), `draw.add`,
`draw.update`, `draw.erase` and `whiteboard.multi`. The presenter draws, and lets everybody draw
or not (multiUserWhiteboardEnabled); the presenter changes and erases anything, others their
own. Every change is
logged (`whiteboard-*`) before it is announced, so restarts and recordings replay it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.policy import Feature
from sala.presentations.service import PresentationService
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.polls import Poll
from sala.room.port import Participant, Refused, RoomPort, Routes, route
from sala.room.whiteboard import Whiteboard


class Drawing:
    def __init__(self, room: RoomPort, presentations: PresentationService | None) -> None:
        self._room = room
        self._presentations = presentations
        self.board = Whiteboard()

    def routes(self) -> Routes:
        return dict(
            [
                route(p.DrawAdd, self.add),
                route(p.DrawUpdate, self.update),
                route(p.DrawErase, self.erase),
                route(p.WhiteboardMulti, self.multi),
            ]
        )

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        for event in events:
            if event.type in (
                types.WHITEBOARD_ADDED,
                types.WHITEBOARD_REMOVED,
                types.WHITEBOARD_UPDATED,
            ):
                self.board.replay(event.type, event.data)

    async def multi(self, _conn: Connection, me: Participant, message: p.WhiteboardMulti) -> None:
        if not me.attendee.is_presenter:
            raise Refused("forbidden", "Only the presenter can change who draws", message.ref)
        policy = self._room.policy
        await self._room.update_settings(policy.multi_user_whiteboard_is(message.enabled))
        await self._room.broadcast({"type": "whiteboard.multi", "enabled": message.enabled})

    async def _page(
        self, me: Participant, message: p.DrawAdd | p.DrawUpdate | p.DrawErase
    ) -> dict[str, Any]:
        """Where the annotation goes, once who may draw there is checked."""
        ref = message.ref
        policy = self._room.policy
        if not me.attendee.is_presenter and not policy.multi_user_whiteboard:
            raise Refused("forbidden", "Only the presenter draws on the slides", ref)
        if self._presentations is None or not policy.enabled(Feature.PRESENTATION):
            raise Refused("disabled", "Presentations are disabled in this meeting", ref)
        document = await self._presentations.get(message.presentation)
        if (
            document is None
            or document.meeting_id != self._room.id
            or message.page > document.pages
        ):
            raise Refused("not_found", "No such page in this meeting", ref)
        return {"presentation": document.id, "page": message.page}

    async def add(self, _conn: Connection, me: Participant, message: p.DrawAdd) -> None:
        where = await self._page(me, message)
        shape = {**message.shape.model_dump(), "author": me.user_id}
        if not self.board.add(where["presentation"], message.page, shape):
            raise Refused("invalid", "That annotation exists, or the page is full", message.ref)
        await self._room.log(me, types.WHITEBOARD_ADDED, {**where, "shape": shape})
        await self._room.activity("drawing")
        await self._room.broadcast({"type": "draw.added", **where, "shape": shape})

    async def update(self, _conn: Connection, me: Participant, message: p.DrawUpdate) -> None:
        """A shape moved, resized, recoloured or retyped: the whole shape again, same id and
        tool; the presenter changes any (poll results excepted), others their own."""
        ref = message.ref
        where = await self._page(me, message)
        found = self.board.find(where["presentation"], message.page, message.shape.id)
        if found is None:
            raise Refused("not_found", "No such annotation on that page", ref)
        if found["tool"] != message.shape.tool:
            raise Refused("invalid", "An annotation keeps its tool", ref)
        if not me.attendee.is_presenter and found["author"] != me.user_id:
            raise Refused("forbidden", "You can only change your own annotations", ref)
        shape = {**message.shape.model_dump(), "author": found["author"]}
        await self._room.log(me, types.WHITEBOARD_UPDATED, {**where, "shape": shape})
        self.board.update(where["presentation"], message.page, shape)
        await self._room.activity("drawing")
        await self._room.broadcast({"type": "draw.updated", **where, "shape": shape})

    async def erase(self, _conn: Connection, me: Participant, message: p.DrawErase) -> None:
        where = await self._page(me, message)
        document, page, user_id = where["presentation"], message.page, me.user_id
        # The presenter erases anything; others their own.
        owner = None if me.attendee.is_presenter else user_id
        if message.clear:
            ids = self.board.remove(document, page, owner, None)
        elif message.undo:
            last = self.board.last_of(document, page, user_id)
            ids = self.board.remove(document, page, owner, [last] if last else [])
        elif message.shape is not None:
            ids = self.board.remove(document, page, owner, [message.shape])
        else:
            raise Refused("invalid", "Say what to erase: shape, undo or clear", message.ref)
        if ids:
            await self._room.log(me, types.WHITEBOARD_REMOVED, {**where, "ids": ids})
            await self._room.broadcast({"type": "draw.removed", **where, "ids": ids})

    async def poll_result(self, me: Participant, poll: Poll) -> None:
        """A published poll's result goes on the current page, as in BBB: an annotation like any
        other (logged, replayed, erasable by the presenter)."""
        if self._presentations is None or not self._room.policy.enabled(Feature.PRESENTATION):
            return
        document = await self._presentations.current(self._room.id)
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
            "author": me.user_id,
        }
        if self.board.add(document.id, document.page, shape):
            await self._room.log(me, types.WHITEBOARD_ADDED, {**where, "shape": shape})
            await self._room.broadcast({"type": "draw.added", **where, "shape": shape})
