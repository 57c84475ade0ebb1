"""create, join, getMeetingInfo, getMeetings, isMeetingRunning and end, driven over HTTP."""

from __future__ import annotations

import hashlib
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from sala.clock import ManualClock
from sala.events.log import read_events
from sala.meetings.errors import InvalidSession
from tests.conftest import Api
from tests.xmlutil import failed, field, success, xml


async def test_create_answers_bbb_fields(api: Api, clock: ManualClock) -> None:
    meeting_id, response = await api.create(name="Physics 101", duration="45")
    root = success(response)
    expected_internal = f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-{clock.now_ms()}"
    assert field(root, "meetingID") == meeting_id
    assert field(root, "internalMeetingID") == expected_internal
    assert field(root, "parentMeetingID") == "bbb-none"
    assert field(root, "attendeePW") == "ap"
    assert field(root, "moderatorPW") == "mp"
    assert field(root, "createTime") == str(clock.now_ms())
    assert field(root, "createDate").endswith("UTC 2026")
    assert field(root, "duration") == "45"
    assert field(root, "hasUserJoined") == "false"
    assert field(root, "messageKey") == ""
    assert len(field(root, "voiceBridge")) == 5


async def test_generated_passwords_when_none_given(api: Api) -> None:
    response = await api.get("create", {"name": "Room", "meetingID": f"m-{uuid.uuid4()}"})
    root = success(response)
    attendee_pw, moderator_pw = field(root, "attendeePW"), field(root, "moderatorPW")
    assert len(attendee_pw) == 8 and len(moderator_pw) == 8 and attendee_pw != moderator_pw


async def test_repeated_create_is_a_duplicate_of_the_running_meeting(api: Api) -> None:
    meeting_id, first = await api.create()
    _, again = await api.create(meeting_id)
    root = success(again)
    assert field(root, "messageKey") == "duplicateWarning"
    assert field(root, "internalMeetingID") == field(success(first), "internalMeetingID")
    no_passwords = await api.get("create", {"name": "Room", "meetingID": meeting_id})
    assert field(success(no_passwords), "messageKey") == "duplicateWarning"
    other = await api.get(
        "create", {"name": "Room", "meetingID": meeting_id, "attendeePW": "x1", "moderatorPW": "y1"}
    )
    failed(other, "idNotUnique")


async def test_metadata_keys_follow_bbb_rules(api: Api) -> None:
    meeting_id, _ = await api.create(
        **{
            "meta_endCallbackUrl": "https://lms/end",
            "meta_bbb-origin": "Moodle",
            "meta_bad_key": "dropped",
            "meta_": "dropped",
        }
    )
    root = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    metadata = {child.tag: child.text for child in root.find("metadata") or []}
    assert metadata == {"endcallbackurl": "https://lms/end", "bbb-origin": "Moodle"}


async def test_join_without_redirect_answers_session_xml(api: Api) -> None:
    meeting_id, created = await api.create()
    response = await api.get(
        "join",
        {"meetingID": meeting_id, "fullName": "Ada", "role": "moderator", "redirect": "false"},
    )
    root = success(response)
    assert field(root, "messageKey") == "successfullyJoined"
    assert field(root, "meeting_id") == field(success(created), "internalMeetingID")
    assert field(root, "user_id").startswith("w_")
    assert field(root, "guestStatus") == "ALLOW"
    token = field(root, "session_token")
    assert field(root, "url") == f"https://sala.test/room/join?sessionToken={token}"


async def test_join_redirects_to_room_and_the_token_works_once(api: Api) -> None:
    meeting_id, _ = await api.create()
    response = await api.get("join", {"meetingID": meeting_id, "fullName": "Bea", "password": "ap"})
    assert response.status_code == 302
    room = urlsplit(response.headers["location"])
    assert room.path == "/room/join"
    first = await api.client.get(f"{room.path}?{room.query}")
    assert first.status_code == 303
    api.client.cookies.set("sala_room", first.cookies["sala_room"])
    page = await api.client.get("/room/")
    assert page.status_code == 200 and "/room/static/app/room.js" in page.text
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    replay = await api.client.get(f"{room.path}?{room.query}")
    assert replay.status_code == 403


async def test_join_roles_from_passwords(api: Api) -> None:
    meeting_id, _ = await api.create()
    for password, role in (("mp", "MODERATOR"), ("ap", "VIEWER")):
        root = success(
            await api.get(
                "join",
                {
                    "meetingID": meeting_id,
                    "fullName": "X",
                    "password": password,
                    "redirect": "false",
                    "userID": f"u-{role}",
                },
            )
        )
        user = await api.services.meetings.get_attendee(field(root, "user_id"))
        assert user is not None and user.role.value == role
    failed(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": "X", "password": "nope", "redirect": "false"},
        ),
        "invalidPassword",
    )


async def test_join_errors_redirect_with_errors_param(api: Api) -> None:
    response = await api.get(
        "join",
        {
            "meetingID": "missing-room",
            "fullName": "X",
            "role": "VIEWER",
            "errorRedirectUrl": "https://lms.example/error",
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.netloc == "lms.example"
    errors = json.loads(parse_qs(location.query)["errors"][0])
    assert errors == [
        {
            "key": "invalidMeetingIdentifier",
            "message": "The meeting ID that you supplied did not match any existing meetings",
        }
    ]


async def test_join_checks_create_time(api: Api) -> None:
    meeting_id, created = await api.create()
    create_time = field(success(created), "createTime")
    base = {"meetingID": meeting_id, "fullName": "X", "role": "VIEWER", "redirect": "false"}
    success(await api.get("join", {**base, "createTime": create_time}))
    failed(await api.get("join", {**base, "createTime": "123"}), "mismatchCreateTimeParam")


async def test_attendees_counts_and_running_follow_presence(api: Api) -> None:
    meeting_id, _ = await api.create()
    joined = success(
        await api.get(
            "join",
            {
                "meetingID": meeting_id,
                "fullName": "Ada",
                "role": "MODERATOR",
                "redirect": "false",
                "userID": "lms-17",
                "userdata-bbb_auto_join_audio": "false",
            },
        )
    )
    running = await api.get("isMeetingRunning", {"meetingID": meeting_id})
    assert field(success(running), "running") == "false"  # registered, not yet in the room

    meetings = api.services.meetings
    await meetings.user_connected(field(joined, "meeting_id"), field(joined, "user_id"))
    assert (
        field(success(await api.get("isMeetingRunning", {"meetingID": meeting_id})), "running")
        == "true"
    )
    info = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    assert field(info, "running") == "true"
    assert field(info, "hasUserJoined") == "true"
    assert field(info, "participantCount") == "1"
    assert field(info, "moderatorCount") == "1"
    assert field(info, "attendees/attendee/userID") == "lms-17"
    assert field(info, "attendees/attendee/fullName") == "Ada"
    assert field(info, "attendees/attendee/role") == "MODERATOR"
    assert field(info, "attendees/attendee/customdata/bbb_auto_join_audio") == "false"

    listing = success(await api.get("getMeetings"))
    ids = [m.findtext("meetingID") for m in listing.iter("meeting")]
    assert meeting_id in ids

    await meetings.user_disconnected(field(joined, "meeting_id"), field(joined, "user_id"))
    info = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    assert field(info, "running") == "false"
    assert field(info, "participantCount") == "0"


async def test_end_makes_the_meeting_gone_but_in_history(api: Api, clock: ManualClock) -> None:
    meeting_id, created = await api.create()
    ended = success(await api.get("end", {"meetingID": meeting_id}))
    assert field(ended, "messageKey") == "sentEndMeetingRequest"
    failed(await api.get("getMeetingInfo", {"meetingID": meeting_id}), "notFound")
    assert (
        field(success(await api.get("isMeetingRunning", {"meetingID": meeting_id})), "running")
        == "false"
    )
    failed(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": "X", "role": "VIEWER", "redirect": "false"},
        ),
        "meetingForciblyEnded",
    )
    failed(await api.get("end", {"meetingID": meeting_id}), "notFound")

    clock.advance(seconds=5)
    _, again = await api.create(meeting_id)
    assert field(success(again), "messageKey") == ""
    assert field(success(again), "internalMeetingID") != field(
        success(created), "internalMeetingID"
    )

    history = success(await api.get("getAllMeetings", {"meetingID": meeting_id}))
    sessions = history.findall("meetings/meetingData/meeting")
    assert len(sessions) == 2
    assert [s.findtext("hasBeenForciblyEnded") for s in sessions] == ["false", "true"]

    internal = field(success(created), "internalMeetingID")
    async with api.services.db.read() as conn:
        types = [e.type for e in await read_events(conn, internal)]
    assert types[0] == "meeting-created" and types[-1] == "meeting-ended"


async def test_get_meetings_empty_server(api: Api) -> None:
    root = success(await api.get("getMeetings"))
    assert field(root, "messageKey") == "noMeetings"
    assert root.find("meetings") is not None


async def test_max_participants(api: Api) -> None:
    meeting_id, _ = await api.create(maxParticipants="1")
    first = success(
        await api.get(
            "join",
            {
                "meetingID": meeting_id,
                "fullName": "A",
                "role": "VIEWER",
                "redirect": "false",
                "userID": "a",
            },
        )
    )
    await api.services.meetings.user_connected(field(first, "meeting_id"), field(first, "user_id"))
    base = {"meetingID": meeting_id, "fullName": "B", "role": "VIEWER", "redirect": "false"}
    failed(await api.get("join", {**base, "userID": "b"}), "maxParticipantsReached")
    success(await api.get("join", {**base, "userID": "a"}))  # the same person again is fine


async def test_guest_policies(api: Api) -> None:
    deny_id, _ = await api.create(guestPolicy="ALWAYS_DENY")
    base = {"fullName": "G", "role": "VIEWER", "redirect": "false"}
    failed(
        await api.get("join", {**base, "meetingID": deny_id, "guest": "true"}), "guestDeniedAccess"
    )
    moderator = success(
        await api.get("join", {**base, "meetingID": deny_id, "role": "MODERATOR", "guest": "true"})
    )
    assert field(moderator, "guestStatus") == "ALLOW"
    ask_id, _ = await api.create(guestPolicy="ASK_MODERATOR")
    waiting = success(await api.get("join", {**base, "meetingID": ask_id, "guest": "true"}))
    assert field(waiting, "guestStatus") == "WAIT"
    member = success(await api.get("join", {**base, "meetingID": ask_id, "guest": "false"}))
    assert field(member, "guestStatus") == "ALLOW"


async def test_every_checksum_algorithm(api: Api) -> None:
    meeting_id, _ = await api.create()
    for algorithm in ("sha1", "sha256", "sha384", "sha512"):
        response = await api.get("isMeetingRunning", {"meetingID": meeting_id}, algorithm=algorithm)
        success(response)


async def test_post_with_form_body(api: Api) -> None:
    meeting_id = f"m-{uuid.uuid4()}"
    body = {"name": "Posted room", "meetingID": meeting_id, "moderatorPW": "mp"}
    # bbb-web's rule for a body-only POST: checksum over the sorted, re-encoded parameters.
    canonical = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in sorted(body.items()))
    digest = hashlib.sha1(f"create{canonical}{api.secret}".encode()).hexdigest()
    response = await api.client.post("/bigbluebutton/api/create", data={**body, "checksum": digest})
    assert field(success(response), "meetingID") == meeting_id
    query = api.query("getMeetingInfo", {"meetingID": meeting_id})
    response = await api.client.post(f"/bigbluebutton/api/getMeetingInfo?{query}")
    assert field(success(response), "meetingName") == "Posted room"


async def test_create_with_presentation_modules_body(api: Api) -> None:
    meeting_id = f"m-{uuid.uuid4()}"
    query = api.query("create", {"name": "Deck", "meetingID": meeting_id})
    body = (
        '<?xml version="1.0"?><modules><module name="presentation">'
        '<document url="http://127.0.0.1:9/deck.pdf" filename="deck.pdf" current="true"/>'
        "</module></modules>"
    )
    response = await api.client.post(
        f"/bigbluebutton/api/create?{query}",
        content=body,
        headers={"Content-Type": "application/xml"},
    )
    success(response)
    meeting = await api.services.meetings.get_live(meeting_id)
    assert meeting is not None
    bad = await api.client.post(
        f"/bigbluebutton/api/create?{api.query('create', {'name': 'Deck', 'meetingID': 'other-id'})}",
        content="<modules><module",
        headers={"Content-Type": "application/xml"},
    )
    failed(bad, "validationError")


async def test_json_on_request(api: Api) -> None:
    meeting_id, _ = await api.create(**{"meta_origin": "lms"})
    response = await api.get(
        "getMeetingInfo", {"meetingID": meeting_id}, headers={"Accept": "application/json"}
    )
    assert response.headers["content-type"] == "application/json"
    body = response.json()["response"]
    assert body["returncode"] == "SUCCESS"
    assert body["meetingID"] == meeting_id
    assert body["running"] is False
    assert body["attendees"] == []
    assert body["metadata"] == {"origin": "lms"}


async def test_send_chat_message_reaches_the_event_log(api: Api) -> None:
    meeting_id, created = await api.create()
    # BBB 3.0 takes API chat only while the meeting runs: somebody is in the room.
    joined = success(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": "Ada", "role": "VIEWER", "redirect": "false"},
        )
    )
    await api.services.meetings.user_connected(
        field(joined, "meeting_id"), field(joined, "user_id")
    )
    success(
        await api.get(
            "sendChatMessage",
            {"meetingID": meeting_id, "message": "Hello <all>", "userName": "Bot"},
        )
    )
    async with api.services.db.read() as conn:
        events = await read_events(conn, field(success(created), "internalMeetingID"))
    chat = [e for e in events if e.type == "chat-message"]
    assert (
        chat and chat[0].data["message"] == "Hello <all>" and chat[0].data["sender_name"] == "Bot"
    )
    failed(
        await api.get("sendChatMessage", {"meetingID": "nope", "message": "x"}), "meetingNotFound"
    )
    failed(
        await api.get("sendChatMessage", {"meetingID": meeting_id, "message": "x" * 501}),
        "sizeError",
    )
    failed(await api.get("sendChatMessage", {"meetingID": meeting_id}), "nullError")


async def test_get_join_url_for_a_room_session(api: Api) -> None:
    meeting_id, _ = await api.create()
    token = await api.room_session(meeting_id, "Ada", "MODERATOR")
    response = await api.client.get(
        f"/bigbluebutton/api/getJoinUrl?sessionToken={token}&sessionName=Tablet"
    )
    body = response.json()["response"]
    assert body["returncode"] == "SUCCESS"
    follow = await api.client.get(body["url"].removeprefix("https://sala.test"))
    assert follow.status_code == 302  # a valid, signed join URL for the same user
    bad = await api.client.get("/bigbluebutton/api/getJoinUrl?sessionToken=nope")
    assert bad.json()["response"]["returncode"] == "FAILED"


async def test_update_meeting_renames(api: Api) -> None:
    meeting_id, _ = await api.create()
    root = success(await api.get("updateMeeting", {"meetingID": meeting_id, "name": "Renamed"}))
    assert field(root, "messageKey") == "meetingUpdated"
    info = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    assert field(info, "meetingName") == "Renamed"
    failed(await api.get("updateMeeting", {"meetingID": "nope", "name": "Renamed"}), "notFound")
    failed(await api.get("updateMeeting", {"meetingID": meeting_id}), "emptyError")


async def test_insert_document(api: Api) -> None:
    meeting_id, _ = await api.create()
    query = api.query("insertDocument", {"meetingID": meeting_id})
    body = '<modules><module name="presentation"><document url="https://x.org/a.pdf"/></module></modules>'
    response = await api.client.post(
        f"/bigbluebutton/api/insertDocument?{query}",
        content=body,
        headers={"Content-Type": "text/xml"},
    )
    assert field(success(response), "message") == "Presentation is being uploaded"
    missing = await api.client.post(
        f"/bigbluebutton/api/insertDocument?{api.query('insertDocument', {'meetingID': 'nope'})}",
        content=body,
        headers={"Content-Type": "text/xml"},
    )
    # BBB 3.0's insert-document.ftlx: returncode and message, no messageKey.
    root = xml(missing)
    assert field(root, "returncode") == "FAILED"
    assert field(root, "message") == "Meeting with id [nope] not found."
    assert root.find("messageKey") is None


async def test_welcome_placeholders_are_filled_at_create(api: Api) -> None:
    meeting_id, created = await api.create(
        name="Physics",
        welcome="Hi %%CONFNAME%%, dial %%DIALNUM%% room %%CONFNUM%% at %%SERVERURL%%",
        moderatorOnlyMessage="Moderators of %%CONFNAME%%",
    )
    bridge = field(success(created), "voiceBridge")
    meeting = await api.services.meetings.get_live(meeting_id)
    assert meeting is not None
    assert (
        meeting.settings["welcome"]
        == f"Hi Physics, dial 613-555-1234 room {bridge} at https://sala.test"
    )
    assert meeting.settings["moderatorOnlyMessage"] == "Moderators of Physics"
    default_id, _ = await api.create(name="Chemistry")
    default = await api.services.meetings.get_live(default_id)
    assert default is not None and default.settings["welcome"] == "Welcome to <b>Chemistry</b>!"


async def test_negative_max_participants_means_no_limit(api: Api) -> None:
    meeting_id, response = await api.create(maxParticipants="-1")
    assert field(success(response), "meetingID") == meeting_id
    info = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    assert field(info, "maxUsers") == "0"


async def test_root_answers_json_like_bbb_3(api: Api) -> None:
    response = await api.client.get(
        "/bigbluebutton/api", headers={"Content-Type": "application/json"}
    )
    assert response.json()["response"]["version"] == "2.0"
    plain = await api.client.get("/bigbluebutton/api/")
    assert field(success(plain), "apiVersion") == "2.0"


async def test_a_join_link_opens_nothing_once_its_meeting_ended(api: Api) -> None:
    """The hand-off spends the token and checks that the meeting runs in one statement; a link
    followed after `end` is refused, says why, and opens no session."""
    meeting_id, _ = await api.create()
    response = await api.get("join", {"meetingID": meeting_id, "fullName": "Bea", "password": "ap"})
    room = urlsplit(response.headers["location"])
    success(await api.get("end", {"meetingID": meeting_id}))
    refused = await api.client.get(f"{room.path}?{room.query}")
    assert refused.status_code == 403 and "sala_room" not in refused.cookies
    with pytest.raises(InvalidSession):
        await api.services.sessions.spend(room.query.split("=", 1)[1])
    assert field(success(await api.get("getSessions")), "messageKey") == "noSessions"
