"""Several workers running the recordings pipeline against one database: a job runs on one of
them at a time, a running job is left to its worker as long as that worker renews its lease,
and a job whose worker stopped renewing (it died or hung) is taken over and finished."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from sala.clock import ManualClock
from sala.recordings.pipeline import RecordingPipeline
from sala.store import tables
from sala.store.db import Database
from tests.conftest import Api
from tests.recordings.test_pipeline import get_recording, rap_events, recorded_meeting

LEASE_S = 30


@asynccontextmanager
async def another_worker(api: Api, workers: int = 1) -> AsyncIterator[RecordingPipeline]:
    """A second pipeline, as `sala worker` on another machine runs it: its own connections."""
    settings = api.services.settings
    db = Database(settings.sqlalchemy_url)
    pipeline = RecordingPipeline(
        db,
        api.services.clock,
        settings.recordings_root,
        settings.data_dir / "presentations",
        settings.base_url,
        workers,
    )
    try:
        yield pipeline
    finally:
        await pipeline.stop()
        await db.dispose()


async def job(api: Api, record_id: str) -> dict[str, object]:
    t = tables.recording_jobs
    async with api.services.db.read() as conn:
        row = (await conn.execute(select(t).where(t.c.record_id == record_id))).one()
    return dict(row._mapping)


async def until(
    condition: Callable[[], Awaitable[bool]],
    seconds: float,
    step: Callable[[], Awaitable[object]],
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await step()
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def poke(pipeline: RecordingPipeline) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        pipeline.poke()

    return step


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_share_the_jobs_and_leave_a_running_one_alone(
    api: Api, clock: ManualClock
) -> None:
    first = await recorded_meeting(api, clock, "first", camera=False)
    second = await recorded_meeting(api, clock, "second", camera=False)
    one = api.services.pipeline
    one._renew_every_s = 0.05  # renews many times while it works, whatever the clock says
    assert await one.run_once() == 1  # took a job and works on it

    # Room for both jobs: it takes every job it may.
    async with another_worker(api, workers=2) as other:
        other._renew_every_s = 0.05
        other.start()

        async def both_done() -> bool:
            return all([(await job(api, r))["state"] == "done" for r in (first, second)])

        advanced = 0

        async def time_passes() -> None:
            # A third of a lease at a time, whenever every running job's worker has renewed
            # since the last step (its lease then lasts more than half a lease from now).
            nonlocal advanced
            t = tables.recording_jobs
            async with api.services.db.read() as conn:
                leases = (
                    await conn.execute(select(t.c.lease_until).where(t.c.state == "running"))
                ).scalars()
                half_a_lease_on = clock.now_ms() + LEASE_S * 1000 // 2
                renewed = all(until is None or until > half_a_lease_on for until in leases)
            if renewed:
                clock.advance(seconds=LEASE_S / 3)
                advanced += 1
            other.poke()

        await until(both_done, 60, time_passes)
        await one.idle()
    # Its job lasted longer than a lease on the clock: only its renewals kept it.
    assert advanced > 3

    for record_id in (first, second):
        assert (await job(api, record_id))["attempts"] == 1
        kinds = [kind for kind, _ in await rap_events(api, record_id)]
        assert kinds.count("rap-archive-started") == 1
        assert kinds.count("rap-published") == 1
        assert (await get_recording(api, record_id)).findtext("state") == "published"


async def test_a_job_whose_worker_stopped_renewing_is_taken_over(
    api: Api, clock: ManualClock
) -> None:
    record_id = await recorded_meeting(api, clock, "orphan", camera=False)
    hung = api.services.pipeline
    await hung.discover()
    assert await hung._claim() == record_id  # then it hangs: no work, no renewal

    async with another_worker(api) as other:
        other.start()
        await asyncio.sleep(0.5)
        # Its lease still runs: the other worker leaves the job alone.
        assert (await job(api, record_id))["attempts"] == 1
        assert await rap_events(api, record_id) == []

        clock.advance(seconds=LEASE_S + 1)

        async def done() -> bool:
            return (await job(api, record_id))["state"] == "done"

        await until(done, 60, poke(other))

    assert (await job(api, record_id))["attempts"] == 2
    assert (await get_recording(api, record_id)).findtext("state") == "published"
    kinds = [kind for kind, _ in await rap_events(api, record_id)]
    assert kinds.count("rap-archive-started") == 1

    # The hung worker comes back: it may not write about the job any more, and stopping it
    # gives back only what it still holds (nothing).
    from sala.recordings.pipeline import LeaseLost

    with pytest.raises(LeaseLost):
        await hung._set_job(record_id, step="sanity", state=None)
    await hung.stop()
    assert ((await job(api, record_id))["step"], (await job(api, record_id))["state"]) == (
        "done",
        "done",
    )


async def test_a_stopped_worker_gives_its_jobs_back_at_once(api: Api, clock: ManualClock) -> None:
    record_id = await recorded_meeting(api, clock, "handed-back", camera=False)
    stopping = api.services.pipeline
    await stopping.discover()
    assert await stopping._claim() == record_id
    await stopping.stop()  # a deploy restarts the worker
    assert (await job(api, record_id))["state"] == "queued"

    async with another_worker(api) as other:
        other.start()

        async def done() -> bool:
            return (await job(api, record_id))["state"] == "done"

        # No waiting for the lease to run out: the clock does not move.
        await until(done, 60, poke(other))
    assert (await get_recording(api, record_id)).findtext("state") == "published"
