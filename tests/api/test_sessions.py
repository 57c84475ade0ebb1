"""getSessions: who holds a room session on this server, one `<meeting>` per session, as bbb-web
3.0 lists its user sessions (get-sessions.ftlx)."""

from __future__ import annotations

import pytest

from sala.clock import ManualClock
from sala.meetings.errors import InvalidSession
from tests.api.bbb_shapes import paths_for, problems
from tests.conftest import Api
from tests.xmlutil import failed, field, success


async def test_an_empty_server_has_no_sessions(api: Api) -> None:
    response = await api.get("getSessions")
    root = success(response)
    assert (
        problems("getSessions.noSessions", paths_for("getSessions.noSessions", response.content))
        == []
    )
    assert field(root, "messageKey") == "noSessions"
    assert field(root, "message")
    sessions = root.find("sessions")
    assert sessions is not None and len(sessions) == 0


async def test_one_meeting_element_per_room_session(api: Api) -> None:
    physics, created = await api.create(name="Physics")
    physics_internal = field(success(created), "internalMeetingID")
    chemistry, created = await api.create(name="Chemistry")
    chemistry_internal = field(success(created), "internalMeetingID")
    await api.room_session(physics, "Ada", "MODERATOR")
    await api.room_session(physics, "Bo")
    await api.room_session(chemistry, "Cy")
    # A join link nobody followed yet is not a room session.
    success(
        await api.get(
            "join",
            {"meetingID": chemistry, "fullName": "Di", "role": "VIEWER", "redirect": "false"},
        )
    )

    response = await api.get("getSessions")
    root = success(response)
    assert problems("getSessions", paths_for("getSessions", response.content)) == []
    listed = sorted(
        (field(m, "meetingID"), field(m, "meetingName"), field(m, "userName"))
        for m in root.iterfind("sessions/meeting")
    )
    assert listed == sorted(
        [
            (physics_internal, "Physics", "Ada"),
            (physics_internal, "Physics", "Bo"),
            (chemistry_internal, "Chemistry", "Cy"),
        ]
    )


async def test_sessions_of_an_ended_meeting_are_gone(api: Api) -> None:
    meeting_id, _ = await api.create()
    await api.room_session(meeting_id, "Ada")
    assert len(success(await api.get("getSessions")).findall("sessions/meeting")) == 1
    success(await api.get("end", {"meetingID": meeting_id}))
    root = success(await api.get("getSessions"))
    assert field(root, "messageKey") == "noSessions"


async def test_get_sessions_needs_the_checksum(api: Api) -> None:
    failed(await api.client.get("/bigbluebutton/api/getSessions"), "checksumError")
    failed(await api.client.get("/bigbluebutton/api/getSessions?checksum=00"), "checksumError")


async def test_get_sessions_answers_post_too(api: Api) -> None:
    query = api.query("getSessions", {})
    success(await api.client.post(f"/bigbluebutton/api/getSessions?{query}"))


async def test_tokens_long_expired_are_purged_and_live_sessions_kept(
    api: Api, clock: ManualClock
) -> None:
    """Every join leaves tokens behind; the reaper deletes those expired for a day, never a
    session still in use."""
    meeting_id, _ = await api.create(name="Physics")
    old = await api.room_session(meeting_id, "Ada")
    clock.advance(hours=50)  # Ada's session (24 h) expired more than a day ago
    success(await api.get("create", {"name": "Chemistry", "meetingID": "chemistry"}))
    fresh = await api.room_session("chemistry", "Bea")
    sessions = api.services.sessions
    assert await sessions.purge_expired() >= 2  # Ada's join link and room session
    with pytest.raises(InvalidSession):
        await sessions.room_session(old)
    assert (await sessions.room_session(fresh)).attendee.full_name == "Bea"
    assert await sessions.purge_expired() == 0
    names = [m.findtext("userName") for m in success(await api.get("getSessions")).iter("meeting")]
    assert names == ["Bea"]
