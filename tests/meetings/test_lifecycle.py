"""How meetings end by themselves, with time moved by a manual clock instead of sleeping."""

from __future__ import annotations

import asyncio
import uuid

from sala.clock import ManualClock
from sala.config import Settings
from sala.meetings.model import Role
from sala.meetings.reaper import Reaper
from sala.meetings.rules import EndReason, LifecycleState, due_reason
from sala.meetings.service import CreateSpec, JoinSpec
from sala.services import Services, build_services


def spec(**overrides: object) -> CreateSpec:
    values: dict[str, object] = {"external_id": f"m-{uuid.uuid4()}", "name": "Room"}
    values.update(overrides)
    return CreateSpec(**values)  # type: ignore[arg-type]


async def enter(services: Services, external_id: str, name: str = "Ada") -> tuple[str, str]:
    joined = await services.meetings.join(external_id, JoinSpec(full_name=name, role=Role.VIEWER))
    await services.meetings.user_connected(
        joined.meeting.internal_id, joined.attendee.internal_user_id
    )
    return joined.meeting.internal_id, joined.attendee.internal_user_id


async def ended_reason(services: Services, internal_id: str) -> str | None:
    meeting = await services.meetings.get_by_internal_id(internal_id)
    assert meeting is not None
    return meeting.end_reason if meeting.ended else None


async def test_nobody_joined_within_the_expiry_window(
    services: Services, clock: ManualClock
) -> None:
    meeting = (await services.meetings.create(spec(expire_no_join_minutes=5))).meeting
    clock.advance(minutes=4, seconds=59)
    assert await services.meetings.expire_due() == []
    clock.advance(seconds=1)
    [ended] = await services.meetings.expire_due()
    assert ended.internal_id == meeting.internal_id
    assert ended.end_reason == EndReason.NO_USER_JOINED.value
    assert not ended.forcibly_ended


async def test_grace_period_after_everyone_left(services: Services, clock: ManualClock) -> None:
    meeting = (await services.meetings.create(spec(expire_last_left_minutes=5))).meeting
    internal_id, user_id = await enter(services, meeting.external_id)
    clock.advance(minutes=30)
    await services.meetings.user_disconnected(internal_id, user_id)
    clock.advance(minutes=4)
    assert await services.meetings.expire_due() == []
    # Coming back inside the grace period cancels it.
    await services.meetings.user_connected(internal_id, user_id)
    clock.advance(minutes=10)
    assert await services.meetings.expire_due() == []
    await services.meetings.user_disconnected(internal_id, user_id)
    clock.advance(minutes=5)
    await services.meetings.expire_due()
    assert await ended_reason(services, internal_id) == EndReason.LAST_USER_LEFT.value


async def test_an_hour_without_activity(services: Services, clock: ManualClock) -> None:
    meeting = (await services.meetings.create(spec())).meeting
    internal_id, _ = await enter(services, meeting.external_id)
    clock.advance(minutes=40)
    await services.meetings.record_activity(internal_id, "talking")
    clock.advance(minutes=59)
    assert await services.meetings.expire_due() == []
    clock.advance(minutes=1)
    await services.meetings.expire_due()
    assert await ended_reason(services, internal_id) == EndReason.INACTIVITY.value


async def test_duration_runs_out_even_with_people_inside(
    services: Services, clock: ManualClock
) -> None:
    meeting = (await services.meetings.create(spec(duration_minutes=2))).meeting
    internal_id, _ = await enter(services, meeting.external_id)
    clock.advance(minutes=1)
    await services.meetings.record_activity(internal_id, "drawing")
    clock.advance(minutes=1)
    await services.meetings.expire_due()
    assert await ended_reason(services, internal_id) == EndReason.DURATION.value
    after = await services.meetings.get_by_internal_id(internal_id)
    assert after is not None and after.attendees == ()  # everybody was sent out


async def test_moderator_end_is_forcible(services: Services) -> None:
    meeting = (await services.meetings.create(spec())).meeting
    ended = await services.meetings.end_by_internal_id(meeting.internal_id, EndReason.MODERATOR)
    assert ended is not None and ended.forcibly_ended
    assert (
        await services.meetings.end_by_internal_id(meeting.internal_id, EndReason.MODERATOR) is None
    )


async def test_zero_disables_a_rule(services: Services, clock: ManualClock) -> None:
    meeting = (await services.meetings.create(spec(expire_no_join_minutes=0))).meeting
    clock.advance(minutes=59)
    assert await services.meetings.expire_due() == []
    assert await services.meetings.get_live(meeting.external_id) is not None


async def test_timers_survive_a_restart(settings: Settings, clock: ManualClock) -> None:
    first = build_services(settings, clock)
    await first.db.migrate()
    meeting = (await first.meetings.create(spec(expire_no_join_minutes=5))).meeting
    await first.db.dispose()

    clock.advance(minutes=6)  # sala was down while the deadline passed
    second = build_services(settings, clock)
    try:
        await second.db.migrate()
        [ended] = await second.meetings.expire_due()
        assert ended.internal_id == meeting.internal_id
    finally:
        await second.db.dispose()


async def test_the_reaper_runs_the_rules_in_the_background(
    services: Services, clock: ManualClock
) -> None:
    meeting = (await services.meetings.create(spec(expire_no_join_minutes=1))).meeting
    reaper = Reaper(services.meetings, interval_seconds=0.01)
    reaper.start()
    try:
        clock.advance(minutes=2)
        for _ in range(500):
            if await services.meetings.get_live(meeting.external_id) is None:
                break
            await asyncio.sleep(0.01)
        assert await services.meetings.get_live(meeting.external_id) is None
    finally:
        await reaper.stop()


def test_earliest_rule_wins() -> None:
    state = LifecycleState(
        create_time=0,
        duration_minutes=10,
        has_user_joined=True,
        participant_count=0,
        empty_since=60_000,
        last_activity_at=60_000,
        expire_no_join_minutes=5,
        expire_last_left_minutes=5,
        inactivity_minutes=60,
    )
    assert due_reason(state, 5 * 60_000) is None
    assert due_reason(state, 6 * 60_000) is EndReason.LAST_USER_LEFT
    assert due_reason(state, 61 * 60_000) is EndReason.LAST_USER_LEFT
