"""Presenting: who the presenter is, which document and page they show, and their zoom.

Owns `user.presenter` (moderators hand the role over; the first moderator to arrive gets it),
`presentation.page`, `presentation.show`, `presentation.remove` and `presentation.zoom`, the
presenter's view of the page, and the presentation part of the welcome and of
`presentation.updated`. The documents themselves are PresentationService's; the annotations
are the whiteboard's (features/drawing.py). disabledFeatures `presentation` turns it all off.

Which document is current and its page are the store's; who presents is the attendees'
(`is_presenter`); the zoom is replayed from the log when a room starts. A room starting after
another process went (a takeover) gives the role to an arriving moderator only if nobody the
store still counts as present has it: the presenter may simply not have reconnected yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.model import Role
from sala.meetings.policy import Feature
from sala.presentations.service import PresentationService
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.features.drawing import Drawing
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route

WHOLE_PAGE = {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0}

AnyPresentationMessage = (
    p.PresentationPage | p.PresentationShow | p.PresentationRemove | p.PresentationZoom
)


class Presenting:
    def __init__(
        self,
        room: RoomPort,
        presentations: PresentationService | None,
        drawing: Drawing,
        presenter_lost: Callable[[str], Awaitable[None]],
        presenter_set: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._room = room
        self._presentations = presentations
        self._drawing = drawing
        self._presenter_lost = presenter_lost
        """Told the user ID of a presenter who stops being one (their screen share ends)."""
        self._presenter_set = presenter_set
        """Told the user ID of the new presenter (relays carry their webcam)."""
        self.view: dict[str, float] = dict(WHOLE_PAGE)
        """The presenter's zoom on the current page (fractions of the slide)."""

    def routes(self) -> Routes:
        return dict(
            [
                route(p.UserPresenter, self.hand_over),
                route(p.PresentationPage, self.page),
                route(p.PresentationShow, self.show),
                route(p.PresentationRemove, self.remove),
                route(p.PresentationZoom, self.zoom),
            ]
        )

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        """The presenter's zoom: the last one since the page or the document last changed."""
        for event in events:
            if event.type == types.ZOOM_CHANGED:
                self.view = {k: float(event.data[k]) for k in WHOLE_PAGE}
            elif event.type in (types.PAGE_CHANGED, types.PRESENTATION_CHANGED):
                self.view = dict(WHOLE_PAGE)

    # ------------------------------------------------------------------------ presenter --
    def presenters(self) -> list[str]:
        return [q.user_id for q in self._room.everyone() if q.attendee.is_presenter]

    async def seated(self, me: Participant) -> None:
        """The first moderator in becomes presenter, unless somebody has the role already:
        seated here, or present in the store's view of the meeting (after a takeover, the
        presenter may not have reconnected yet)."""
        if me.attendee.role is not Role.MODERATOR or self.presenters():
            return
        if await self._room.presenter_in_store():
            return
        await self.assign(me.user_id)

    async def hand_over(self, _conn: Connection, me: Participant, message: p.UserPresenter) -> None:
        require_moderator(me, message.ref)
        self._room.participant(message.user, message.ref)
        await self.assign(message.user)

    async def assign(self, user_id: str) -> None:
        for other in self._room.everyone():
            if other.attendee.is_presenter and other.user_id != user_id:
                await self._presenter_lost(other.user_id)
                await self._room.update_attendee(
                    other.user_id, {"is_presenter": False}, (types.USER_PRESENTER_UNASSIGNED, {})
                )
                await self._room.publish_user(other)
        await self._room.update_attendee(
            user_id, {"is_presenter": True}, (types.USER_PRESENTER_ASSIGNED, {})
        )
        target = self._room.find(user_id)
        if target is not None:
            await self._room.publish_user(target)
        if self._presenter_set is not None:
            await self._presenter_set(user_id)

    # --------------------------------------------------------------------- presentation --
    def _documents(self, me: Participant, ref: str | None) -> PresentationService:
        if self._presentations is None or not self._room.policy.enabled(Feature.PRESENTATION):
            raise Refused("disabled", "Presentations are disabled in this meeting", ref)
        if not me.attendee.is_presenter:
            raise Refused("forbidden", "Only the presenter can do that", ref)
        return self._presentations

    async def zoom(self, _conn: Connection, me: Participant, message: p.PresentationZoom) -> None:
        self._documents(me, message.ref)
        # The view never leaves the page.
        w, h = message.w, message.h
        view = {
            "x": round(min(message.x, 1 - w), 4),
            "y": round(min(message.y, 1 - h), 4),
            "w": round(w, 4),
            "h": round(h, 4),
        }
        self.view = view
        await self._room.log(me, types.ZOOM_CHANGED, view)
        await self._room.broadcast({"type": "presentation.zoom", **view})

    async def remove(
        self, _conn: Connection, me: Participant, message: p.PresentationRemove
    ) -> None:
        ref = message.ref
        documents = self._documents(me, ref)
        doomed = await documents.get(message.presentation)
        if doomed is None or doomed.meeting_id != self._room.id:
            raise Refused("not_found", "No such presentation in this meeting", ref)
        if not doomed.removable or doomed.current:
            raise Refused("forbidden", "This presentation cannot be removed", ref)
        await documents.remove(doomed, keep_files=self._room.meeting.record)

    async def show(self, _conn: Connection, me: Participant, message: p.PresentationShow) -> None:
        ref = message.ref
        documents = self._documents(me, ref)
        chosen = await documents.get(message.presentation)
        if chosen is None or chosen.meeting_id != self._room.id or chosen.state != "ready":
            raise Refused("not_found", "No such presentation in this meeting", ref)
        self.view = dict(WHOLE_PAGE)
        await documents.make_current(self._room.id, chosen.id)

    async def page(self, _conn: Connection, me: Participant, message: p.PresentationPage) -> None:
        ref = message.ref
        documents = self._documents(me, ref)
        current = await documents.current(self._room.id)
        if current is None or message.page > current.pages:
            raise Refused("not_found", "No such page", ref)
        await documents.set_page(current.id, message.page)
        await self._room.log(
            me, types.PAGE_CHANGED, {"presentation": current.id, "page": message.page}
        )
        await self._room.activity("presentation")
        self.view = dict(WHOLE_PAGE)
        await self._room.broadcast(
            {"type": "presentation.page", "presentation": current.id, "page": message.page}
        )

    async def state(self) -> dict[str, Any]:
        """The presentation part of a welcome and of `presentation.updated`."""
        policy = self._room.policy
        if self._presentations is None or not policy.enabled(Feature.PRESENTATION):
            return {
                "presentations": [],
                "current": None,
                "annotations": {},
                "multiUserWhiteboard": False,
                "view": WHOLE_PAGE,
            }
        meeting_id = self._room.id
        documents = await self._presentations.of_meeting(meeting_id)
        if not documents:
            await self._presentations.add_default(meeting_id)
            documents = await self._presentations.of_meeting(meeting_id)
        current = next((d.id for d in documents if d.current), None)
        return {
            "presentations": [
                {**d.view(), "progress": self._presentations.progress_of(d)} for d in documents
            ],
            "current": current,
            "annotations": self._drawing.board.of_presentation(current) if current else {},
            "multiUserWhiteboard": policy.multi_user_whiteboard,
            "view": self.view,
        }

    async def changed(self) -> None:
        """A document finished converting, failed, or became current."""
        await self._room.broadcast({"type": "presentation.updated", **await self.state()})
