"""The recordings pipeline's discovery on PostgreSQL against a `meeting-ended` whose transaction
commits after later events: the recording is still queued, once."""

from __future__ import annotations

import asyncio

import pytest

from sala.clock import ManualClock
from sala.events import types
from sala.events.log import append_event
from tests.conftest import Api
from tests.events.test_late_commits import OLD_GAP_PATIENCE_S, meeting, transaction
from tests.xmlutil import success

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def test_a_meeting_ended_that_commits_late_still_gets_its_recording(
    api: Api, clock: ManualClock
) -> None:
    created = success(
        await api.get("create", {"meetingID": "lecture", "name": "Lecture", "record": "true"})
    )
    lecture = str(created.findtext("internalMeetingID"))
    await api.services.meetings.log_event(lecture, types.RECORDING_STARTED, {})
    other = await meeting(api, "other")
    pipeline = api.services.pipeline
    await pipeline.discover()

    async with transaction(api.services.db) as slow:
        await append_event(slow, lecture, types.MEETING_ENDED, clock.now_ms(), data={})
        # Later events commit and are read while the `meeting-ended` is still uncommitted.
        for _ in range(3):
            await api.services.meetings.log_event(other, types.RAISE_HAND, {})
            await pipeline.discover()
        await asyncio.sleep(OLD_GAP_PATIENCE_S + 0.2)
        await pipeline.discover()
        assert await pipeline.list_jobs() == []
        await slow.commit()
    await pipeline.discover()
    await pipeline.discover()

    assert [job["record_id"] for job in await pipeline.list_jobs()] == [lecture]


async def test_a_rolled_back_meeting_ended_queues_nothing_and_holds_nothing_back(
    api: Api, clock: ManualClock
) -> None:
    recorded = []
    for name in ("ghost", "real"):
        created = success(
            await api.get("create", {"meetingID": name, "name": name, "record": "true"})
        )
        internal = str(created.findtext("internalMeetingID"))
        await api.services.meetings.log_event(internal, types.RECORDING_STARTED, {})
        recorded.append(internal)
    ghost, real = recorded
    pipeline = api.services.pipeline

    async with transaction(api.services.db) as doomed:
        await append_event(doomed, ghost, types.MEETING_ENDED, clock.now_ms(), data={})
        success(await api.get("end", {"meetingID": "real"}))
        await doomed.rollback()
    await pipeline.discover()

    assert [job["record_id"] for job in await pipeline.list_jobs()] == [real]
