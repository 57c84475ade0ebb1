"""Breakout rooms as the API shows them: create with `isBreakout=true` under a parent found by
internal or external ID, each side naming the other in getMeetingInfo and getMeetings, and the
parent's end taking its breakouts with it first (BBB 3.0: get-meeting-info.ftlx, akka's
endAllBreakoutRooms on the end API, expiry and endWhenNoModerator)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sala.clock import ManualClock
from sala.events.log import read_events
from sala.meetings.rules import EndReason
from tests.api.bbb_shapes import paths_for, problems
from tests.conftest import Api
from tests.xmlutil import failed, field, success


async def parent(api: Api, **params: str) -> tuple[str, str]:
    meeting_id, response = await api.create(name="Parent", **params)
    return meeting_id, field(success(response), "internalMeetingID")


async def breakout(api: Api, parent_ref: str, sequence: int, **params: str) -> ET.Element:
    _, response = await api.create(
        name=f"Room {sequence}",
        isBreakout="true",
        parentMeetingID=parent_ref,
        sequence=str(sequence),
        **params,
    )
    return success(response)


async def info(api: Api, meeting_id: str) -> ET.Element:
    return success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))


def breakouts_listed(root: ET.Element) -> list[str]:
    return [b.text or "" for b in root.iterfind("breakoutRooms/breakout")]


async def test_parent_found_by_internal_or_external_id(api: Api) -> None:
    parent_id, parent_internal = await parent(api)
    by_internal = await breakout(api, parent_internal, 1)
    by_external = await breakout(api, parent_id, 2, freeJoin="true")
    for created, sequence, free in ((by_internal, "1", "false"), (by_external, "2", "true")):
        assert field(created, "parentMeetingID") == parent_internal
        child = await info(api, field(created, "meetingID"))
        assert field(child, "isBreakout") == "true"
        assert field(child, "parentMeetingID") == parent_internal
        assert field(child, "sequence") == sequence
        assert field(child, "freeJoin") == free
    # Nothing by either ID once the parent has ended; nothing by an unknown one.
    success(await api.get("end", {"meetingID": parent_internal}))
    base = {"name": "Room", "meetingID": "child-room", "isBreakout": "true", "sequence": "1"}
    failed(await api.get("create", base), "parentMeetingIDMissing")
    for ref in (parent_id, parent_internal, "nope"):
        failed(
            await api.get("create", {**base, "parentMeetingID": ref}), "parentMeetingDoesNotExist"
        )
    failed(await api.get("getMeetingInfo", {"meetingID": "child-room"}), "notFound")


async def test_parent_lists_its_breakouts_in_get_meeting_info_and_get_meetings(
    api: Api, clock: ManualClock
) -> None:
    parent_id, parent_internal = await parent(api)
    first = field(await breakout(api, parent_internal, 1), "meetingID")
    clock.advance(seconds=1)  # listed in the order they were created
    second = field(await breakout(api, parent_id, 2), "meetingID")

    response = await api.get("getMeetingInfo", {"meetingID": parent_id})
    paths = paths_for("getMeetingInfo", response.content)
    assert problems("getMeetingInfo", paths, "passwords", "breakout_parent") == []
    parent_info = success(response)
    assert field(parent_info, "isBreakout") == "false"
    assert breakouts_listed(parent_info) == [first, second]
    for name in ("parentMeetingID", "sequence", "freeJoin"):
        assert parent_info.find(name) is None

    child_response = await api.get("getMeetingInfo", {"meetingID": first})
    child_paths = paths_for("getMeetingInfo", child_response.content)
    assert problems("getMeetingInfo", child_paths, "passwords", "breakout_child") == []

    meetings = success(await api.get("getMeetings"))
    by_id = {field(m, "meetingID"): m for m in meetings.iterfind("meetings/meeting")}
    assert set(by_id) == {parent_id, first, second}
    assert breakouts_listed(by_id[parent_id]) == [first, second]
    assert field(by_id[second], "parentMeetingID") == parent_internal
    assert by_id[first].find("breakoutRooms") is None


async def test_ending_the_parent_ends_its_breakouts_first(api: Api) -> None:
    parent_id, parent_internal = await parent(api)
    children = [await breakout(api, parent_id, n) for n in (1, 2)]
    success(await api.get("end", {"meetingID": parent_id}))
    for child in children:
        failed(
            await api.get("getMeetingInfo", {"meetingID": field(child, "meetingID")}), "notFound"
        )
    async with api.services.db.read() as conn:
        ends = {}
        for meeting in (parent_internal, *(field(c, "internalMeetingID") for c in children)):
            [ended] = [e for e in await read_events(conn, meeting) if e.type == "meeting-ended"]
            ends[meeting] = ended
    parent_end = ends.pop(parent_internal)
    assert all(e.id < parent_end.id for e in ends.values())
    assert all(e.data["reason"] == parent_end.data["reason"] for e in ends.values())
    for child in children:
        meeting = await api.services.meetings.get_by_internal_id(field(child, "internalMeetingID"))
        assert meeting is not None and meeting.ended and meeting.forcibly_ended


async def test_a_breakout_ended_alone_leaves_the_parent_running(api: Api) -> None:
    parent_id, _ = await parent(api)
    child = field(await breakout(api, parent_id, 1), "meetingID")
    success(await api.get("end", {"meetingID": child}))
    parent_info = await info(api, parent_id)
    # BBB keeps listing a parent's breakouts while the parent lives.
    assert breakouts_listed(parent_info) == [child]


async def test_expiry_of_the_parent_ends_its_breakouts(api: Api, clock: ManualClock) -> None:
    parent_id, parent_internal = await parent(api, duration="1")
    child = await breakout(api, parent_id, 1, duration="0")
    clock.advance(minutes=1)
    ended = await api.services.meetings.expire_due()
    assert {m.internal_id for m in ended} >= {parent_internal}
    meeting = await api.services.meetings.get_by_internal_id(field(child, "internalMeetingID"))
    assert meeting is not None and meeting.ended
    assert meeting.end_reason == EndReason.DURATION.value
    failed(await api.get("getMeetingInfo", {"meetingID": field(child, "meetingID")}), "notFound")


async def test_a_moderator_ending_the_parent_ends_its_breakouts(api: Api) -> None:
    parent_id, parent_internal = await parent(api)
    child = await breakout(api, parent_internal, 1)
    await api.services.meetings.end_by_internal_id(parent_internal, EndReason.MODERATOR)
    meeting = await api.services.meetings.get_by_internal_id(field(child, "internalMeetingID"))
    assert meeting is not None and meeting.ended
    assert meeting.end_reason == EndReason.MODERATOR.value
    failed(await api.get("getMeetingInfo", {"meetingID": parent_id}), "notFound")
