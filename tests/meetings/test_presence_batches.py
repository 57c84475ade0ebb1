"""Presence writes of one meeting that arrive together are one transaction (meetings/batches.py),
and the store ends exactly as if each had been written alone: counts, flags and events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import select

from sala.events import types
from sala.events.log import read_all_events
from sala.meetings.model import Role
from sala.meetings.service import CreateSpec, JoinSpec
from sala.services import Services
from sala.store import tables


async def _meeting_with(services: Services, people: int) -> tuple[str, list[str]]:
    created = await services.meetings.create(CreateSpec(external_id=f"m-{uuid.uuid4()}", name="R"))
    users = []
    for i in range(people):
        joined = await services.meetings.join(
            created.meeting.external_id,
            JoinSpec(full_name=f"P{i}", role=Role.MODERATOR if i == 0 else Role.VIEWER),
        )
        users.append(joined.attendee.internal_user_id)
    return created.meeting.internal_id, users


async def _counts(services: Services, meeting_id: str) -> tuple[int, bool, bool]:
    """The meeting row's participant_count, has_user_joined and moderator_joined."""
    m = tables.meetings
    async with services.db.read() as conn:
        row = (
            await conn.execute(
                select(m.c.participant_count, m.c.has_user_joined, m.c.moderator_joined).where(
                    m.c.internal_id == meeting_id
                )
            )
        ).one()
    return int(row[0]), bool(row[1]), bool(row[2])


async def _presence_events(services: Services, meeting_id: str) -> list[tuple[str, str | None]]:
    async with services.db.read() as conn:
        events = await read_all_events(conn, meeting_id)
    kinds = (types.USER_JOINED, types.USER_LEFT)
    return [(e.type, e.user_id) for e in events if e.type in kinds]


async def test_joins_arriving_together_are_counted_once_each_in_fewer_transactions(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    meetings = services.meetings
    meeting_id, users = await _meeting_with(services, 30)
    batches: list[int] = []
    write = meetings._presence._write

    async def counted(meeting: str, changes: list[tuple[str, bool]]) -> Sequence[Exception | None]:
        batches.append(len(changes))
        return await write(meeting, changes)

    monkeypatch.setattr(meetings._presence, "_write", counted)
    await asyncio.gather(*(meetings.user_connected(meeting_id, u) for u in users))
    assert sum(batches) == 30 and len(batches) < 30, batches
    assert await _counts(services, meeting_id) == (30, True, True)
    meeting = await meetings.get_live(meeting_id)
    assert meeting is not None
    assert sorted(a.internal_user_id for a in meeting.attendees) == sorted(users)
    events = await _presence_events(services, meeting_id)
    assert sorted(events) == sorted((types.USER_JOINED, u) for u in users)


async def test_a_join_and_a_leave_of_one_user_in_one_batch_keep_their_order(
    services: Services,
) -> None:
    meetings = services.meetings
    meeting_id, [ada, bea] = await _meeting_with(services, 2)
    await meetings.user_connected(meeting_id, ada)
    # Queued behind nothing but each other: the first goes alone, the rest in one batch.
    await asyncio.gather(
        meetings.user_connected(meeting_id, bea),
        meetings.user_disconnected(meeting_id, bea),
        meetings.user_connected(meeting_id, bea),
        meetings.user_connected(meeting_id, ada),  # already present: no event
        meetings.user_disconnected(meeting_id, ada),
    )
    events = await _presence_events(services, meeting_id)
    assert events == [
        (types.USER_JOINED, ada),
        (types.USER_JOINED, bea),
        (types.USER_LEFT, bea),
        (types.USER_JOINED, bea),
        (types.USER_LEFT, ada),
    ]
    assert (await _counts(services, meeting_id))[0] == 1
    meeting = await meetings.get_live(meeting_id)
    assert meeting is not None
    assert [a.internal_user_id for a in meeting.attendees] == [bea]
