"""API calls are admitted a few at a time, so pollers cannot crowd the rooms out of the loop
they share; every call is still answered, in turn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from sala.api.admission import LOOP_SHARE, Admission, Occupancy
from sala.app import build_app
from sala.clock import ManualClock
from sala.config import load_settings
from tests.conftest import SECRET, Api
from tests.xmlutil import success


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


async def _api(
    tmp_path: Path, database_url: str, clock: ManualClock, limit: int
) -> AsyncIterator[Api]:
    settings = load_settings(
        secret=SECRET,
        data_dir=tmp_path / f"data-{limit}",
        database_url=database_url,
        public_url="https://sala.test",
        media=False,
        api_concurrency=limit,
    )
    app: Starlette = build_app(settings, clock, run_reaper=False, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://sala.test") as client:
            yield Api(client, SECRET, app.state.services)


async def _most_at_once(api: Api, monkeypatch: pytest.MonkeyPatch, calls: int) -> int:
    meeting_id, created = await api.create()
    success(created)
    real = api.services.meetings.get_live
    in_progress = 0
    most = 0

    async def slow(*args: object, **kwargs: object) -> object:
        nonlocal in_progress, most
        in_progress += 1
        most = max(most, in_progress)
        await asyncio.sleep(0.01)
        in_progress -= 1
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api.services.meetings, "get_live", slow)
    answers = await asyncio.gather(
        *(api.get("getMeetingInfo", {"meetingID": meeting_id}) for _ in range(calls))
    )
    for answer in answers:
        success(answer)
    return most


@pytest.mark.parametrize("limit", [1, 3])
async def test_at_most_the_limit_is_worked_on_at_once(
    tmp_path: Path,
    database_url: str,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
) -> None:
    async for api in _api(tmp_path, database_url, clock, limit):
        assert await _most_at_once(api, monkeypatch, 20) == limit


async def test_zero_admits_everything(
    tmp_path: Path, database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for api in _api(tmp_path, database_url, clock, 0):
        assert await _most_at_once(api, monkeypatch, 20) == 20


def _burn(seconds: float) -> None:
    """Keep this (the loop's) thread busy, as a polling storm does."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def _admit_while_busy(admission: Admission, calls: int) -> None:
    for _ in range(calls):
        async with admission:
            _burn(0.005)


async def test_a_busy_loop_paces_calls_while_a_room_is_open() -> None:
    rooms = Occupancy()
    admission = Admission(8, rooms)
    with rooms.connected():
        await _admit_while_busy(admission, 60)  # 0.3 s of a loop that never idles
        assert admission.busy > LOOP_SHARE
        assert admission.gap > 0
    # Nobody in a room: nothing to protect, the next call goes straight through.
    async with admission:
        pass
    assert admission.gap == 0


async def test_without_rooms_the_api_may_fill_the_loop() -> None:
    admission = Admission(8, Occupancy())
    await _admit_while_busy(admission, 60)
    assert admission.gap == 0


async def test_pacing_is_off_with_no_limit() -> None:
    rooms = Occupancy()
    admission = Admission(0, rooms)
    with rooms.connected():
        await _admit_while_busy(admission, 60)
    assert admission.gap == 0


async def test_a_call_cancelled_while_waiting_never_holds_a_place() -> None:
    """A client that hangs up while its call waits must not leave its place taken: the calls
    after it still get theirs."""
    admission = Admission(1, Occupancy())
    await admission.__aenter__()  # the one place, taken
    waiting = [asyncio.create_task(admission.__aenter__()) for _ in range(3)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # hangs up while waiting
    await admission.__aexit__(None, None, None)  # the place goes to the next caller
    await asyncio.sleep(0)
    assert waiting[1].done() and not waiting[1].cancelled()
    assert not waiting[2].done()
    # Cancelled just as it was handed the place: the place moves on to the next caller.
    await admission.__aexit__(None, None, None)
    waiting[2].cancel()
    await asyncio.sleep(0)
    follower = asyncio.create_task(admission.__aenter__())
    await asyncio.sleep(0)
    assert follower.done() and not follower.cancelled()
    await admission.__aexit__(None, None, None)
    async with asyncio.timeout(1):
        async with admission:
            pass
