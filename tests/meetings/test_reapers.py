"""Every front end runs the lifecycle reaper (and answers `end`) against one PostgreSQL: a
meeting that two of them end at the same moment ends once, with one `meeting-ended`.

The race is made certain rather than likely: a third connection holds the meeting's row while
both front ends go for it, and lets go once both wait for it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text

from sala.clock import ManualClock
from sala.config import Settings
from sala.events import types
from sala.meetings.service import CreateSpec
from sala.services import Services, build_services
from sala.store import tables

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def front_ends(settings: Settings, clock: ManualClock) -> AsyncIterator[list[Services]]:
    built = [build_services(settings, clock) for _ in range(2)]
    await built[0].db.migrate()
    yield built
    for services in built:
        await services.db.dispose()


def spec(**overrides: Any) -> CreateSpec:
    values: dict[str, Any] = {"external_id": f"m-{uuid.uuid4()}", "name": "Room"}
    values.update(overrides)
    return CreateSpec(**values)


async def ended_events(services: Services, internal_id: str) -> int:
    e = tables.meeting_events
    async with services.db.read() as conn:
        count = await conn.execute(
            select(func.count()).where(
                e.c.meeting_id == internal_id, e.c.type == types.MEETING_ENDED
            )
        )
        return int(count.scalar_one())


@asynccontextmanager
async def holding(services: Services, internal_id: str) -> AsyncIterator[None]:
    """Lock the meeting's row from a connection of its own until the block ends."""
    async with services.db.engine.connect() as conn:
        await conn.begin()
        m = tables.meetings
        await conn.execute(
            select(m.c.internal_id).where(m.c.internal_id == internal_id).with_for_update()
        )
        yield
        await conn.rollback()


async def both_waiting(services: Services, racers: list[asyncio.Task[Any]]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with services.db.read() as conn:
            waiting = (
                await conn.execute(
                    text("select count(*) from pg_stat_activity where wait_event_type = 'Lock'")
                )
            ).scalar_one()
        if waiting >= 2:
            return
        assert not any(task.done() for task in racers), [t.result() for t in racers if t.done()]
        await asyncio.sleep(0.05)
    raise AssertionError("the two front ends never both waited for the meeting")


async def race(services: Services, internal_id: str, *ends: Awaitable[Any]) -> list[Any]:
    async with holding(services, internal_id):
        racers = [asyncio.ensure_future(end) for end in ends]
        await both_waiting(services, racers)
    return await asyncio.gather(*racers)


async def test_two_reapers_end_a_meeting_once(
    front_ends: list[Services], clock: ManualClock
) -> None:
    one, two = front_ends
    meeting = (await one.meetings.create(spec(expire_no_join_minutes=1))).meeting
    clock.advance(minutes=1)

    ended = await race(
        one, meeting.internal_id, one.meetings.expire_due(), two.meetings.expire_due()
    )

    assert sorted(len(found) for found in ended) == [0, 1]
    assert await ended_events(one, meeting.internal_id) == 1


async def test_a_breakout_ended_with_its_parent_and_by_its_own_deadline_ends_once(
    front_ends: list[Services], clock: ManualClock
) -> None:
    one, two = front_ends
    parent = (await one.meetings.create(spec())).meeting
    breakout = (
        await one.meetings.create(
            spec(
                is_breakout=True,
                parent_meeting_id=parent.internal_id,
                expire_no_join_minutes=1,
            )
        )
    ).meeting
    clock.advance(minutes=1)

    await race(
        one,
        breakout.internal_id,
        one.meetings.end(parent.external_id),  # an `end` call on one front end
        two.meetings.expire_due(),  # the other's reaper, at the same moment
    )

    assert await ended_events(one, breakout.internal_id) == 1
    assert await ended_events(one, parent.internal_id) == 1
