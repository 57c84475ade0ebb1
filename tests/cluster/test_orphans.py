"""A meeting whose front end died and whose people never came back: a worker marks them as left
after the grace, so the meeting can empty and end (cluster/orphans.py)."""

from __future__ import annotations

import asyncio

from sala.cluster.directory import LocalDirectory
from sala.cluster.orphans import OrphanSweeper
from sala.meetings.model import Attendee
from tests.conftest import Api


async def test_people_of_an_unowned_meeting_are_released_after_the_grace(api: Api) -> None:
    meetings = api.services.meetings
    owned, orphan = (await api.create())[0], (await api.create())[0]
    for meeting in (owned, orphan):
        session = await api.services.sessions.room_session(await api.room_session(meeting, "Ana"))
        await meetings.user_connected(
            session.meeting.internal_id, session.attendee.internal_user_id
        )
    rooms = LocalDirectory()
    owned_live = await meetings.get_live(owned)
    assert owned_live is not None
    await rooms.claim(owned_live.internal_id, "fe1", 60_000)
    sweeper = OrphanSweeper(meetings, rooms, grace_s=0.2)
    assert await sweeper.sweep() == 0  # first seen orphaned: the grace starts
    await asyncio.sleep(0.3)
    assert await sweeper.sweep() == 1
    info = await meetings.get_live(orphan)
    assert info is not None and not info.attendees
    # Whoever presented there does not come back as a second presenter later.
    assert not any(a.is_presenter for a in await _attendees(api, info.internal_id))
    still = await meetings.get_live(owned)
    assert still is not None and len(still.attendees) == 1


async def _attendees(api: Api, meeting_id: str) -> list[Attendee]:
    from sqlalchemy import select

    from sala.store import tables

    t = tables.attendees
    async with api.services.db.read() as conn:
        rows = (await conn.execute(select(t).where(t.c.meeting_id == meeting_id))).all()
    return [Attendee.from_row(r._mapping) for r in rows]
