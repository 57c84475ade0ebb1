"""The landing page of an LTI activity as its users see it: one meeting per activity, created
once with the activity's settings and the course in its metadata; instructors enter as
moderators, learners as viewers (and wait for the instructor when the activity says so); the
recordings each role may see, and what only instructors may do, refused to learners with
nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from sala.lti import meetings as activity
from sala.lti.claims import Launch
from sala.meetings.model import Role
from sala.services import Services
from tests.conftest import Api
from tests.lti.landing_support import (
    INSTRUCTOR,
    LEARNER,
    launch_claims,
    platform,
    recording,
    session,
)
from tests.support.receiver import Receiver
from tests.xmlutil import field, success

JSON = {"Content-Type": "application/json"}


async def state(api: Api, token: str) -> dict[str, Any]:
    answer = await api.client.get(f"/lti/rooms/{token}/state")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def join(api: Api, token: str) -> httpx.Response:
    return await api.client.post(f"/lti/rooms/{token}/join", content="{}", headers=JSON)


async def enter(api: Api, token: str) -> tuple[str, str, Role, str]:
    """Join from the landing and open the room session the browser would: (internal meeting
    ID, user ID, role, avatar); the user is then in the meeting, as with the room connected."""
    answer = await join(api, token)
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url.startswith("/room/join?sessionToken=")
    room = await api.services.sessions.open_room_session(url.split("=", 1)[1])
    attendee = room.attendee
    await api.services.meetings.user_connected(room.meeting.internal_id, attendee.internal_user_id)
    return room.meeting.internal_id, attendee.internal_user_id, attendee.role, attendee.avatar_url


def launch_of(services: Services, claims: dict[str, Any], platform_id: int) -> Launch:
    return Launch.from_claims(claims, platform_id=platform_id, client_id="sala-tool")


async def test_one_stable_meeting_id_per_activity(api: Api) -> None:
    found = await platform(api.services)
    teacher = launch_of(api.services, launch_claims("t1", "Ana Lima", INSTRUCTOR), found.id)
    student = launch_of(api.services, launch_claims("s1", "Bruno", LEARNER), found.id)
    other_link = launch_of(
        api.services, launch_claims("t1", "Ana Lima", INSTRUCTOR, link="link-2"), found.id
    )
    other_lms = launch_of(
        api.services,
        launch_claims("t1", "Ana Lima", INSTRUCTOR, issuer="https://other.test"),
        found.id,
    )
    # The same issuer registered twice (a shared issuer, as Canvas Cloud's): other rooms.
    other_client = Launch.from_claims(
        launch_claims("t1", "Ana Lima", INSTRUCTOR), platform_id=found.id, client_id="other-tool"
    )
    mid = activity.meeting_id(teacher)
    assert mid == activity.meeting_id(student)
    assert mid.startswith("lti-") and len(mid) == 44
    others = (other_link, other_lms, other_client)
    assert len({mid, *(activity.meeting_id(launch) for launch in others)}) == 4


async def test_landing_page_is_the_client_in_the_launch_language(api: Api) -> None:
    found = await platform(api.services)
    token = await session(
        api.services, found, launch_claims("t1", "Ana Lima", INSTRUCTOR, locale="pt_BR")
    )
    page = await api.client.get(f"/lti/rooms/{token}")
    assert page.status_code == 200
    assert "<html lang='pt-BR'>" in page.text
    assert "/room/static/app/lti.js" in page.text and "/room/static/app/lti.css" in page.text
    assert "Aula de Física" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"

    expired = await api.client.get("/lti/rooms/not-a-session")
    assert expired.status_code == 404
    assert "Open the activity again from your course." in expired.text
    portuguese = await api.client.get(
        "/lti/rooms/not-a-session", headers={"Accept-Language": "pt-BR,pt;q=0.9"}
    )
    assert "Abra a atividade de novo a partir do seu curso." in portuguese.text
    gone = await api.client.get("/lti/rooms/not-a-session/state")
    assert gone.status_code == 404 and gone.json() == {"error": "session"}


async def test_state_per_role_before_anybody_joined(api: Api) -> None:
    found = await platform(api.services)
    custom = {"waitForModerator": "true", "record": "true"}
    teacher = await session(
        api.services, found, launch_claims("t1", "Ana Lima", INSTRUCTOR, custom=custom)
    )
    student = await session(api.services, found, launch_claims("s1", "Bruno", LEARNER))
    seen = await state(api, teacher)
    assert seen["title"] == "Aula de Física" and seen["context"] == "Física I"
    assert seen["instructor"] is True and seen["waitForModerator"] is True and seen["record"]
    assert seen["meeting"] == {
        "running": False,
        "since": None,
        "moderatorPresent": False,
        "participants": [],
    }
    assert seen["recordings"] == []
    assert (await state(api, student))["instructor"] is False


async def test_join_creates_the_meeting_once_with_the_activity_settings(api: Api) -> None:
    found = await platform(api.services)
    custom = {"record": "true", "muteOnStart": "true", "guestPolicy": "ASK_MODERATOR"}
    picture = "https://lms.test/pictures/ana.png"
    teacher = await session(
        api.services,
        found,
        launch_claims("t1", "Ana Lima", INSTRUCTOR, custom=custom, picture=picture),
    )
    student = await session(
        api.services, found, launch_claims("s1", "Bruno Souza", LEARNER, custom=custom)
    )
    mid = activity.meeting_id(
        launch_of(api.services, launch_claims("t1", "Ana", INSTRUCTOR), found.id)
    )

    first, teacher_id, teacher_role, avatar = await enter(api, teacher)
    again, _, _, _ = await enter(api, teacher)
    third, student_id, student_role, _ = await enter(api, student)
    assert first == again == third  # one meeting, created once
    assert (teacher_role, student_role) == (Role.MODERATOR, Role.VIEWER)
    assert avatar == picture

    meeting = await api.services.meetings.get_live(mid)
    assert meeting is not None and meeting.name == "Aula de Física"
    assert meeting.record is True
    assert meeting.settings["muteOnStart"] is True
    assert meeting.settings["guestPolicy"] == "ASK_MODERATOR"
    assert meeting.metadata["bbb-origin"] == "LTI"
    assert meeting.metadata["bbb-context-id"] == "course-1"
    assert meeting.metadata["bbb-context-name"] == "Física I"
    assert meeting.metadata["bbb-context-label"] == "FIS1"
    assert meeting.metadata["bbb-recording-name"] == "Aula de Física"
    assert meeting.metadata["bbb-origin-server-name"] == "https://lms.test"

    # What an API client sees: both users, their roles, the IDs derived from the platform's.
    info = success(await api.get("getMeetingInfo", {"meetingID": mid}))
    people = {
        field(a, "fullName"): (field(a, "role"), field(a, "userID"))
        for a in info.findall("attendees/attendee")
    }
    assert people["Ana Lima"] == ("MODERATOR", activity.user_id("https://lms.test", "t1"))
    assert people["Bruno Souza"] == ("VIEWER", activity.user_id("https://lms.test", "s1"))
    assert field(info, "metadata/bbb-origin") == "LTI"

    seen = await state(api, student)
    assert seen["meeting"]["running"] is True
    assert seen["meeting"]["since"] == meeting.start_time
    assert sorted((p["name"], p["moderator"]) for p in seen["meeting"]["participants"]) == [
        ("Ana Lima", True),
        ("Ana Lima", True),
        ("Bruno Souza", False),
    ]
    assert {teacher_id, student_id} <= {a.internal_user_id for a in meeting.attendees}


async def test_learners_wait_for_the_instructor_when_the_activity_says_so(api: Api) -> None:
    found = await platform(api.services)
    custom = {"waitForModerator": "true"}
    teacher = await session(
        api.services, found, launch_claims("t1", "Ana", INSTRUCTOR, custom=custom)
    )
    student = await session(
        api.services, found, launch_claims("s1", "Bruno", LEARNER, custom=custom)
    )
    mid = activity.meeting_id(
        launch_of(api.services, launch_claims("t1", "Ana", INSTRUCTOR), found.id)
    )

    waiting = await join(api, student)
    assert waiting.status_code == 200 and waiting.json() == {"waiting": True}
    assert await api.services.meetings.get_live(mid) is None  # a learner created nothing

    # The instructor's join alone (no room yet) does not let learners in: they wait for them
    # to be in the meeting.
    answer = await join(api, teacher)
    room = await api.services.sessions.open_room_session(answer.json()["url"].split("=", 1)[1])
    assert (await join(api, student)).json() == {"waiting": True}
    await api.services.meetings.user_connected(
        room.meeting.internal_id, room.attendee.internal_user_id
    )
    _, _, role, _ = await enter(api, student)
    assert role is Role.VIEWER


async def test_without_the_wait_a_learner_starts_the_meeting(api: Api) -> None:
    found = await platform(api.services)
    student = await session(api.services, found, launch_claims("s1", "Bruno", LEARNER))
    _, _, role, _ = await enter(api, student)
    assert role is Role.VIEWER
    assert (await state(api, student))["meeting"]["running"] is True


async def test_recordings_per_role(api: Api) -> None:
    found = await platform(api.services)
    teacher = await session(api.services, found, launch_claims("t1", "Ana", INSTRUCTOR))
    student = await session(api.services, found, launch_claims("s1", "Bruno", LEARNER))
    mid = activity.meeting_id(
        launch_of(api.services, launch_claims("t1", "Ana", INSTRUCTOR), found.id)
    )
    public = await recording(api.services, mid, suffix=1)
    hidden = await recording(api.services, mid, suffix=2, state="unpublished")
    guarded = await recording(api.services, mid, suffix=3, protected=True)
    await recording(api.services, "another-meeting", suffix=4)

    mine = {r["id"]: r for r in (await state(api, teacher))["recordings"]}
    assert set(mine) == {public, hidden, guarded}
    assert mine[hidden]["state"] == "unpublished" and mine[hidden]["published"] is False
    assert mine[guarded]["protected"] is True

    theirs = {r["id"]: r for r in (await state(api, student))["recordings"]}
    assert set(theirs) == {public, guarded}
    [plain] = theirs[public]["playback"]
    assert plain["url"] == f"https://sala.test/playback/presentation/2.3/{public}"
    # A protected recording plays through a one-time link, as getRecordings gives it.
    [link] = theirs[guarded]["playback"]
    assert "?token=" in link["url"]
    played = await api.client.get(link["url"].removeprefix("https://sala.test"))
    assert played.status_code in (302, 303, 307)


async def test_instructors_manage_recordings(api: Api) -> None:
    found = await platform(api.services)
    teacher = await session(api.services, found, launch_claims("t1", "Ana", INSTRUCTOR))
    student = await session(api.services, found, launch_claims("s1", "Bruno", LEARNER))
    mid = activity.meeting_id(
        launch_of(api.services, launch_claims("t1", "Ana", INSTRUCTOR), found.id)
    )
    record_id = await recording(api.services, mid, suffix=1)

    async def act(action: str) -> dict[str, Any]:
        answer = await api.client.post(
            f"/lti/rooms/{teacher}/recordings/{record_id}/{action}", content="{}", headers=JSON
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()["recording"]
        return body

    async def learner_sees() -> set[str]:
        return {r["id"] for r in (await state(api, student))["recordings"]}

    assert (await act("unpublish"))["state"] == "unpublished"
    assert await learner_sees() == set()
    assert (await act("publish"))["state"] == "published"
    assert await learner_sees() == {record_id}
    assert (await act("protect"))["protected"] is True
    assert (await act("unprotect"))["protected"] is False
    await act("delete")
    assert await learner_sees() == set()
    assert (await state(api, teacher))["recordings"] == []
    stored = await api.services.recordings.get(record_id)
    assert stored is not None and stored.state == "deleted"


async def test_instructor_only_actions_are_refused_to_learners(api: Api) -> None:
    found = await platform(api.services)
    teacher = await session(api.services, found, launch_claims("t1", "Ana", INSTRUCTOR))
    student = await session(api.services, found, launch_claims("s1", "Bruno", LEARNER))
    mid = activity.meeting_id(
        launch_of(api.services, launch_claims("t1", "Ana", INSTRUCTOR), found.id)
    )
    record_id = await recording(api.services, mid, suffix=1)
    others = await recording(api.services, "another-meeting", suffix=2)

    for action in ("publish", "unpublish", "protect", "unprotect", "delete"):
        answer = await api.client.post(
            f"/lti/rooms/{student}/recordings/{record_id}/{action}", content="{}", headers=JSON
        )
        assert answer.status_code == 403 and answer.json() == {"error": "forbidden"}
    roster = await api.client.get(f"/lti/rooms/{student}/roster")
    assert roster.status_code == 403
    stored = await api.services.recordings.get(record_id)
    assert stored is not None and stored.state == "published" and not stored.protected

    # An instructor acts on this activity's recordings only, and only with a JSON request.
    other = await api.client.post(
        f"/lti/rooms/{teacher}/recordings/{others}/delete", content="{}", headers=JSON
    )
    assert other.status_code == 404
    form = await api.client.post(
        f"/lti/rooms/{teacher}/recordings/{record_id}/delete",
        content="x=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    for kept in (record_id, others):
        left = await api.services.recordings.get(kept)
        assert left is not None and left.state == "published"


async def test_webhooks_see_lti_meetings_with_their_metadata(
    app: Starlette, api: Api, receiver: Receiver
) -> None:
    from tests.events.test_webhooks import deliver, events_of, register

    await register(api, receiver.url("/hooks"))
    found = await platform(api.services)
    teacher = await session(api.services, found, launch_claims("t1", "Ana Lima", INSTRUCTOR))
    await enter(api, teacher)
    await deliver(api)
    events = events_of(receiver.accepted("/hooks"))
    assert [e["id"] for e in events][:2] == ["meeting-created", "user-joined"]
    created = events[0]["attributes"]["meeting"]
    assert created["metadata"]["bbb-origin"] == "LTI"
    assert created["metadata"]["bbb-context-id"] == "course-1"
    joined = events[1]["attributes"]["user"]
    assert joined["name"] == "Ana Lima" and joined["role"] == "MODERATOR"
    assert joined["external-user-id"] == activity.user_id("https://lms.test", "t1")
