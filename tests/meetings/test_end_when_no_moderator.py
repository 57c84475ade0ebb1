"""`endWhenNoModerator` as BBB 3.0 has it: once a moderator has been in the meeting, the meeting
ends when no moderator has been in it for `endWhenNoModeratorDelayInMinutes` (default 1).

Meetings are created through the API as an integration would; people enter and leave the room
through the meeting service (what their browsers' connections do); time is a ManualClock and the
reaper's check is called directly."""

from __future__ import annotations

import uuid

from sala.clock import ManualClock
from sala.config import Settings
from sala.meetings.model import Role
from sala.meetings.rules import EndReason
from sala.meetings.service import JoinSpec
from sala.services import build_services
from tests.conftest import Api
from tests.xmlutil import field, success


async def create(api: Api, **params: str) -> tuple[str, str]:
    meeting_id = f"m-{uuid.uuid4()}"
    root = success(await api.get("create", {"name": "Room", "meetingID": meeting_id, **params}))
    return meeting_id, str(field(root, "internalMeetingID"))


async def enter(api: Api, meeting_id: str, role: Role, name: str = "Ada") -> str:
    meetings = api.services.meetings
    joined = await meetings.join(meeting_id, JoinSpec(full_name=name, role=role))
    await meetings.user_connected(joined.meeting.internal_id, joined.attendee.internal_user_id)
    return joined.attendee.internal_user_id


async def running(api: Api, meeting_id: str) -> bool:
    root = success(await api.get("isMeetingRunning", {"meetingID": meeting_id}))
    return field(root, "running") == "true"


async def end_reason(api: Api, internal_id: str) -> str | None:
    meeting = await api.services.meetings.get_by_internal_id(internal_id)
    assert meeting is not None
    return meeting.end_reason if meeting.ended else None


async def test_ends_once_no_moderator_was_in_it_for_the_delay(api: Api, clock: ManualClock) -> None:
    meeting_id, internal_id = await create(
        api, endWhenNoModerator="true", endWhenNoModeratorDelayInMinutes="2"
    )
    teacher = await enter(api, meeting_id, Role.MODERATOR, "Teacher")
    await enter(api, meeting_id, Role.VIEWER, "Student")
    clock.advance(minutes=10)
    assert await api.services.meetings.expire_due() == []

    await api.services.meetings.user_disconnected(internal_id, teacher)
    clock.advance(minutes=1, seconds=59)
    assert await api.services.meetings.expire_due() == []
    assert await running(api, meeting_id)

    clock.advance(seconds=1)
    [ended] = await api.services.meetings.expire_due()
    assert ended.internal_id == internal_id
    assert ended.end_reason == EndReason.NO_MODERATOR.value == "no_moderator"
    assert not ended.forcibly_ended
    assert not await running(api, meeting_id)
    after = await api.services.meetings.get_by_internal_id(internal_id)
    assert after is not None and after.attendees == ()  # the student was sent out


async def test_default_delay_is_one_minute_and_a_returning_moderator_resets_it(
    api: Api, clock: ManualClock
) -> None:
    meeting_id, internal_id = await create(api, endWhenNoModerator="true")
    teacher = await enter(api, meeting_id, Role.MODERATOR)
    await enter(api, meeting_id, Role.VIEWER, "Student")
    meetings = api.services.meetings

    await meetings.user_disconnected(internal_id, teacher)
    clock.advance(seconds=50)
    await meetings.user_connected(internal_id, teacher)  # back in time
    clock.advance(minutes=5)
    assert await meetings.expire_due() == []

    await meetings.user_disconnected(internal_id, teacher)
    clock.advance(seconds=59)
    assert await meetings.expire_due() == []
    clock.advance(seconds=1)
    await meetings.expire_due()
    assert await end_reason(api, internal_id) == EndReason.NO_MODERATOR.value


async def test_only_once_a_moderator_has_been_in_it(api: Api, clock: ManualClock) -> None:
    meeting_id, internal_id = await create(
        api, endWhenNoModerator="true", endWhenNoModeratorDelayInMinutes="1"
    )
    await enter(api, meeting_id, Role.VIEWER)
    clock.advance(minutes=30)
    assert await api.services.meetings.expire_due() == []  # no moderator ever came
    assert await running(api, meeting_id)

    teacher = await enter(api, meeting_id, Role.MODERATOR, "Teacher")
    clock.advance(minutes=5)
    await api.services.meetings.user_disconnected(internal_id, teacher)
    clock.advance(minutes=1)
    await api.services.meetings.expire_due()
    assert await end_reason(api, internal_id) == EndReason.NO_MODERATOR.value


async def test_off_unless_asked_for(api: Api, clock: ManualClock) -> None:
    plain_id, plain_internal = await create(api)
    asked_id, asked_internal = await create(api, endWhenNoModerator="true")
    for meeting_id, internal_id in ((plain_id, plain_internal), (asked_id, asked_internal)):
        teacher = await enter(api, meeting_id, Role.MODERATOR)
        await enter(api, meeting_id, Role.VIEWER, "Student")
        await api.services.meetings.user_disconnected(internal_id, teacher)
    clock.advance(minutes=30)
    await api.services.meetings.expire_due()
    assert await end_reason(api, asked_internal) == EndReason.NO_MODERATOR.value
    assert await running(api, plain_id)


async def test_zero_delay_ends_at_the_next_check(api: Api, clock: ManualClock) -> None:
    meeting_id, internal_id = await create(
        api, endWhenNoModerator="true", endWhenNoModeratorDelayInMinutes="0"
    )
    teacher = await enter(api, meeting_id, Role.MODERATOR)
    await enter(api, meeting_id, Role.VIEWER, "Student")
    await api.services.meetings.user_disconnected(internal_id, teacher)
    await api.services.meetings.expire_due()
    assert await end_reason(api, internal_id) == EndReason.NO_MODERATOR.value


async def test_losing_the_moderator_role_counts_as_leaving(api: Api, clock: ManualClock) -> None:
    meeting_id, internal_id = await create(api, endWhenNoModerator="true")
    teacher = await enter(api, meeting_id, Role.MODERATOR)
    meetings = api.services.meetings
    await meetings.update_attendee(internal_id, teacher, {"role": Role.VIEWER.value})
    clock.advance(minutes=1)
    await meetings.expire_due()
    assert await end_reason(api, internal_id) == EndReason.NO_MODERATOR.value


async def test_a_viewer_promoted_to_moderator_counts_as_a_moderator(
    api: Api, clock: ManualClock
) -> None:
    meeting_id, internal_id = await create(api, endWhenNoModerator="true")
    teacher = await enter(api, meeting_id, Role.MODERATOR)
    student = await enter(api, meeting_id, Role.VIEWER, "Student")
    await enter(api, meeting_id, Role.VIEWER, "Another student")
    meetings = api.services.meetings
    await meetings.update_attendee(internal_id, student, {"role": Role.MODERATOR.value})
    await meetings.user_disconnected(internal_id, teacher)
    clock.advance(minutes=10)
    assert await meetings.expire_due() == []
    assert await running(api, meeting_id)

    await meetings.user_disconnected(internal_id, student)
    clock.advance(minutes=1)
    await meetings.expire_due()
    assert await end_reason(api, internal_id) == EndReason.NO_MODERATOR.value


async def test_breakout_rooms_are_left_to_their_parent(api: Api, clock: ManualClock) -> None:
    parent_id, parent_internal = await create(api)
    await enter(api, parent_id, Role.MODERATOR, "Teacher")
    breakout_id, breakout_internal = await create(
        api,
        endWhenNoModerator="true",
        isBreakout="true",
        parentMeetingID=parent_internal,
        sequence="1",
    )
    other_id, other_internal = await create(api, endWhenNoModerator="true")
    for meeting_id, internal_id in ((breakout_id, breakout_internal), (other_id, other_internal)):
        helper = await enter(api, meeting_id, Role.MODERATOR, "Helper")
        await enter(api, meeting_id, Role.VIEWER, "Student")
        await api.services.meetings.user_disconnected(internal_id, helper)
    clock.advance(minutes=10)
    await api.services.meetings.expire_due()
    assert await end_reason(api, other_internal) == EndReason.NO_MODERATOR.value
    # The breakout room does not end by its own endWhenNoModerator: its parent decides.
    assert await end_reason(api, breakout_internal) is None


async def test_the_deadline_survives_a_restart(settings: Settings, clock: ManualClock) -> None:
    from sala.meetings.specs import CreateSpec

    first = build_services(settings, clock)
    await first.db.migrate()
    created = await first.meetings.create(
        CreateSpec(
            external_id="restarted",
            name="Room",
            settings={"endWhenNoModerator": True, "endWhenNoModeratorDelayInMinutes": 3},
        )
    )
    internal_id = created.meeting.internal_id
    users = []
    for role in (Role.MODERATOR, Role.VIEWER):
        joined = await first.meetings.join("restarted", JoinSpec(full_name="x", role=role))
        await first.meetings.user_connected(internal_id, joined.attendee.internal_user_id)
        users.append(joined.attendee.internal_user_id)
    await first.meetings.user_disconnected(internal_id, users[0])
    await first.db.dispose()

    clock.advance(minutes=4)  # sala was down while the delay ran out
    second = build_services(settings, clock)
    try:
        await second.db.migrate()
        [ended] = await second.meetings.expire_due()
        assert ended.internal_id == internal_id
        assert ended.end_reason == EndReason.NO_MODERATOR.value
    finally:
        await second.db.dispose()
