"""create and join read their parameters as bbb-web 3.0 does: its few checks with its keys and
messages, everything else parsed leniently (a value that does not parse means the default or
false, never an error), and the parameters of later BBB releases stored, not refused.

tests/api/test_never_stricter.py checks the same rules with generated requests; these are the
cases an integrator would try first, and they also run on PostgreSQL, whose columns have limits.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import Api
from tests.xmlutil import failed, field, success


def room_id() -> str:
    return f"m-{uuid.uuid4()}"


async def created(api: Api, **params: str) -> tuple[str, Any]:
    """Create a meeting with `params` (plus a fresh meetingID and a name) and return its ID and
    the stored settings."""
    meeting_id = params.pop("meetingID", room_id())
    success(await api.get("create", {"name": "Room", "meetingID": meeting_id, **params}))
    meeting = await api.services.meetings.get_live(meeting_id)
    assert meeting is not None
    return meeting_id, meeting


def refused(response: httpx.Response, key: str, message: str) -> None:
    assert field(failed(response, key), "message") == message


# ------------------------------------------------------------------------------- create --
async def test_unchecked_booleans_never_fail_and_read_like_java(api: Api) -> None:
    _, meeting = await created(
        api,
        muteOnStart="yes",
        webcamsOnlyForModerator="1",
        lockSettingsLockOnJoin="garbage",  # default true, but any non-empty value is parsed
        allowStartStopRecording="TRUE",
        lockSettingsDisableMic="",  # empty: the default
        multiUserWhiteboardEnabled="tRuE",
        endWhenNoModerator="on",
    )
    s = meeting.settings
    assert s["muteOnStart"] is False
    assert s["webcamsOnlyForModerator"] is False
    assert s["lockSettingsLockOnJoin"] is False
    assert s["allowStartStopRecording"] is True
    assert s["lockSettingsDisableMic"] is False
    assert s["multiUserWhiteboardEnabled"] is True
    assert s["endWhenNoModerator"] is False


async def test_record_takes_what_bbb_takes(api: Api) -> None:
    for value, recording in (("TRUE", "true"), ("1", "false"), ("0", "false"), ("", "false")):
        meeting_id = room_id()
        success(await api.get("create", {"name": "Room", "meetingID": meeting_id, "record": value}))
        info = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
        assert field(info, "recording") == recording, value
    refused(
        await api.get("create", {"name": "Room", "meetingID": room_id(), "record": "yes"}),
        "validationError",
        "Record must be a boolean value (true or false)",
    )
    # isBreakoutRoom (sic) is the other boolean bbb-web checks; isBreakout is not checked.
    success(
        await api.get("create", {"name": "Room", "meetingID": room_id(), "isBreakoutRoom": "1"})
    )
    refused(
        await api.get(
            "create", {"name": "Room", "meetingID": room_id(), "isBreakoutRoom": "maybe"}
        ),
        "validationError",
        "You must provide a boolean value (true or false) for the breakout room",
    )
    success(
        await api.get("create", {"name": "Room", "meetingID": room_id(), "isBreakout": "maybe"})
    )


async def test_integers_that_do_not_parse_mean_the_default(api: Api) -> None:
    meeting_id = room_id()
    answer = success(
        await api.get(
            "create",
            {
                "name": "Room",
                "meetingID": meeting_id,
                "duration": "ten",
                "maxParticipants": "lots",
                "meetingCameraCap": "-1",  # negative: the default
                "maxPinnedCameras": "0",  # not positive: the default
                "userCameraCap": "2147483648",  # beyond Java's int: the default
                "meetingExpireIfNoUserJoinedInMinutes": "1.5",
                "logoutTimer": "x",
                "maxNumPages": "+40",
            },
        )
    )
    assert field(answer, "duration") == "0"
    meeting = await api.services.meetings.get_live(meeting_id)
    assert meeting is not None
    s = meeting.settings
    assert (s["meetingCameraCap"], s["maxPinnedCameras"], s["userCameraCap"]) == (0, 3, 3)
    assert s["meetingExpireIfNoUserJoinedInMinutes"] == 5
    assert (s["logoutTimer"], s["maxNumPages"]) == (0, 40)
    assert meeting.max_participants == 0
    for value, duration in (("+30", "30"), ("0045", "45"), ("-5", "-5"), ("\u0663", "3")):
        answer = success(
            await api.get("create", {"name": "Room", "meetingID": room_id(), "duration": value})
        )
        assert field(answer, "duration") == duration, value


async def test_voice_bridge_is_any_long(api: Api) -> None:
    answer = success(
        await api.get(
            "create", {"name": "Room", "meetingID": room_id(), "voiceBridge": "+00123456"}
        )
    )
    assert field(answer, "voiceBridge") == "123456"  # one media room per number
    answer = success(
        await api.get("create", {"name": "Room", "meetingID": room_id(), "voiceBridge": " 77001 "})
    )
    assert field(answer, "voiceBridge") == "77001"
    # Zero and negative numbers are longs too, but cannot name a media room: sala picks one.
    for value in ("0", "-77"):
        answer = success(
            await api.get("create", {"name": "Room", "meetingID": room_id(), "voiceBridge": value})
        )
        assert int(field(answer, "voiceBridge")) > 0
    for value in ("12a45", "9223372036854775808", "1.0", "+"):
        refused(
            await api.get("create", {"name": "Room", "meetingID": room_id(), "voiceBridge": value}),
            "validationError",
            "Voice bridge must be an integral value",
        )


async def test_meeting_name_id_and_passwords_fail_with_bbb_keys(api: Api) -> None:
    async def create(**params: str) -> httpx.Response:
        return await api.get("create", params)

    name_message = "You must provide a meeting name"
    refused(await create(meetingID=room_id()), "nullError", name_message)
    refused(await create(name="", meetingID=room_id()), "emptyError", name_message)
    refused(
        await create(name=" x ", meetingID=room_id()),
        "sizeError",
        "Meeting name must be between 2 and 256 characters",
    )
    refused(await create(name="Room"), "validationError", "Invalid meeting ID")
    id_size = "Meeting ID must be between 2 and 256 characters"
    refused(await create(name="Room", meetingID=""), "sizeError", id_size)
    refused(await create(name="Room", meetingID="x" * 257), "sizeError", id_size)
    refused(
        await create(name="Room", meetingID="a,b"),
        "validationError",
        "Meeting ID cannot contain ','",
    )
    # Changed by bbb-web's sanitizing (control characters, surrounding spaces).
    refused(await create(name="Room", meetingID=" padded"), "validationError", "Invalid meeting ID")
    refused(
        await create(name="Room", meetingID="ab\x01cd"), "validationError", "Invalid meeting ID"
    )
    refused(
        await create(name="Room", meetingID=room_id(), attendeePW="x"),
        "invalidPassword",
        "Invalid password",
    )
    # Lengths are Java's (UTF-16 units): 32 emoji are 64 units, 33 are 66.
    success(await create(name="Room", meetingID=room_id(), moderatorPW="\U0001f600" * 32))
    refused(
        await create(name="Room", meetingID=room_id(), moderatorPW="\U0001f600" * 33),
        "invalidPassword",
        "Invalid password",
    )
    # Several problems: bbb-web answers the one its HashMap of violations holds first.
    refused(await create(meetingID="x"), "sizeError", id_size)
    refused(
        await create(name="Room", meetingID="x", attendeePW="y"),
        "invalidPassword",
        "Invalid password",
    )
    refused(await create(name="", meetingID="x", attendeePW="y"), "emptyError", name_message)


async def test_enumerations_never_fail(api: Api) -> None:
    meeting_id, meeting = await created(api, guestPolicy="SOMETIMES", meetingLayout="video_focus")
    assert meeting.settings["guestPolicy"] == "ALWAYS_ACCEPT"  # the server's default
    assert meeting.settings["meetingLayout"] == "VIDEO_FOCUS"
    viewer = await api.get("join", {"meetingID": meeting_id, "fullName": "V", "role": "VIEWER"})
    assert viewer.headers["location"].startswith("https://sala.test/room/join?")
    deny_id, meeting = await created(api, guestPolicy="always_deny", meetingLayout="NO_SUCH")
    assert meeting.settings["guestPolicy"] == "ALWAYS_DENY"
    assert meeting.settings["meetingLayout"] == "SMART_LAYOUT"
    denied = await api.get(
        "join", {"meetingID": deny_id, "fullName": "V", "role": "VIEWER", "redirect": "false"}
    )
    failed(denied, "guestDeniedAccess")


async def test_links_and_colours_that_are_not_are_ignored(api: Api) -> None:
    _, meeting = await created(
        api,
        logo="javascript:alert(1)",
        darklogo="https://cdn.example.com/dark.png",
        logoutURL="not a url",
        bannerColor="url(http://evil.example/x)",
        meetingEndedURL="ftp:nothing",
    )
    s = meeting.settings
    assert "logo" not in s
    assert s["darklogo"] == "https://cdn.example.com/dark.png"
    assert s["logoutURL"] == "https://sala.test/"
    assert "bannerColor" not in s
    assert "meetingEndedURL" not in s
    _, meeting = await created(api, bannerColor="#FF000080", logo="https://cdn.example.com/l.png")
    assert meeting.settings["bannerColor"] == "#FF000080"
    assert meeting.settings["logo"] == "https://cdn.example.com/l.png"


async def test_parameters_of_later_releases_are_stored(api: Api) -> None:
    later = {
        "sharedNotesEditor": "blockNote",
        "sharedNotesInitialContentJsonUrl": "https://lms.example.com/notes.json",
        "sharedNotesInitialContentMarkdown": "# Notes",
        "sharedNotesInitialContentMarkdownUrl": "https://lms.example.com/notes.md",
        "clientSettingsOverrideJsonUrl": "https://lms.example.com/settings.json",
        "lockSettingsPresenterPolicy": "requireApproval",
        "notifyRecordingAppend": "This session continues an earlier recording",
        "presentationUploadExternalDescription": "Upload to the LMS",
        "pluginManifests": '[{"url": "https://plugins.example.com/manifest.json"}]',
        "pluginManifestsFetchUrl": "https://plugins.example.com/all.json",
        "cameraBridge": "livekit",
        "screenShareBridge": "livekit",
        "audioBridge": "livekit",
        "maxNumPages": "12",
    }
    _, meeting = await created(
        api, **later, multiUserWhiteboardEnabled="true", requireUserConsentBeforeUnmuting="TRUE"
    )
    s = meeting.settings
    for name, value in later.items():
        assert str(s[name]) == value, name
    assert s["multiUserWhiteboardEnabled"] is True
    assert s["requireUserConsentBeforeUnmuting"] is True


async def test_presentation_upload_external_url_must_be_a_url(api: Api) -> None:
    url = "https://lms.example.com/upload?meeting=%%MEETINGID%%&user=%%USERID%%"
    _, meeting = await created(api, presentationUploadExternalUrl=url)
    assert meeting.settings["presentationUploadExternalUrl"] == url
    for bad in ("not a url", "", "javascript:alert(1)", "https://example.com/{x}"):
        refused(
            await api.get(
                "create",
                {"name": "Room", "meetingID": room_id(), "presentationUploadExternalUrl": bad},
            ),
            "validationError",
            "Param 'presentationUploadExternalUrl' is not a valid URL",
        )


async def test_empty_welcome_means_the_default_and_the_old_notes_lock_still_works(
    api: Api,
) -> None:
    _, meeting = await created(api, name="Chemistry", welcome="", lockSettingsDisableNote="true")
    assert meeting.settings["welcome"] == "Welcome to <b>Chemistry</b>!"
    assert meeting.settings["lockSettingsDisableNotes"] is True


async def test_what_bbb_takes_fits_the_database(api: Api) -> None:
    """bbb-web bounds few values; sala's columns bound more (this also runs on PostgreSQL)."""
    meeting_id = room_id()
    answer = success(
        await api.get(
            "create",
            {
                "name": "  Spaced name  ",
                "meetingID": meeting_id,
                "attendeePW": "  " + "a" * 64 + "  ",  # 64 once trimmed, as bbb-web counts
                "moderatorPW": " mp ",
                "dialNumber": "Call +1 613 555 1234, then enter the PIN shown in the room " * 2,
            },
        )
    )
    assert field(answer, "attendeePW") == "a" * 64
    assert len(field(answer, "dialNumber")) <= 64
    joined = success(
        await api.get(
            "join",
            {
                "meetingID": meeting_id,
                "fullName": "N" * 300,
                "userID": "u" * 300,
                "password": " mp ",
                "redirect": "false",
            },
        )
    )
    user = await api.services.meetings.get_attendee(field(joined, "user_id"))
    assert user is not None and user.role.value == "MODERATOR"
    assert user.full_name.startswith("N" * 200)


# --------------------------------------------------------------------------------- join --
async def join(api: Api, meeting_id: str, **params: str) -> httpx.Response:
    return await api.get("join", {"meetingID": meeting_id, **params})


async def test_join_full_name_rules(api: Api) -> None:
    meeting_id, _ = await created(api, attendeePW="ap", moderatorPW="mp")
    message = "You must provide your name"
    # Absent: bbb-web fails with HTTP 500; sala answers politely.
    refused(
        await join(api, meeting_id, role="VIEWER", redirect="false"),
        "missingParamFullName",
        message,
    )
    refused(
        await join(api, meeting_id, fullName="   ", role="VIEWER", redirect="false"),
        "missingParamFullName",
        message,
    )
    success(await join(api, meeting_id, fullName="A" * 300, role="VIEWER", redirect="false"))


async def test_join_role_wins_in_any_case_and_passwords_are_checked_like_bbb(api: Api) -> None:
    meeting_id, _ = await created(api, attendeePW="ap", moderatorPW="mp")
    joined = success(
        await join(
            api, meeting_id, fullName="A", role="Moderator", password="nope", redirect="false"
        )
    )
    user = await api.services.meetings.get_attendee(field(joined, "user_id"))
    assert user is not None and user.role.value == "MODERATOR"
    # A one-character password is refused even next to a role.
    refused(
        await join(api, meeting_id, fullName="A", role="VIEWER", password="x", redirect="false"),
        "invalidPassword",
        "Invalid password",
    )


async def test_join_checked_booleans_and_create_time(api: Api) -> None:
    meeting_id, meeting = await created(api)
    base = {"fullName": "A", "role": "VIEWER", "redirect": "false"}
    success(await join(api, meeting_id, **base, guest="1", auth="FALSE"))
    refused(
        await join(api, meeting_id, **base, guest="maybe"),
        "validationError",
        "Guest must be a boolean value (true or false)",
    )
    refused(
        await join(api, meeting_id, **base, auth="x"),
        "validationError",
        "Auth must be a boolean value (true or false)",
    )
    refused(
        await join(api, meeting_id, **base, createTime="abc"),
        "validationError",
        "Value must be an integral number",
    )
    create_time = meeting.create_time
    success(await join(api, meeting_id, **base, createTime=f"+{create_time}"))
    success(await join(api, meeting_id, **base, createTime=f"0{create_time}"))
    failed(await join(api, meeting_id, **base, createTime="1"), "mismatchCreateTimeParam")


async def test_join_without_a_usable_meeting_id(api: Api) -> None:
    # bbb-web 3.0 answers these as a meeting that was forcibly ended (its HashMap of
    # violations holds that key first).
    message = "You can not join a meeting that has already been forcibly ended"
    for params in ({}, {"meetingID": ""}, {"meetingID": "x"}, {"meetingID": "a,b"}):
        response = await api.get(
            "join", {**params, "fullName": "A", "role": "VIEWER", "redirect": "false"}
        )
        refused(response, "meetingForciblyEnded", message)


async def test_join_logout_url_that_is_not_a_url_is_ignored(api: Api) -> None:
    meeting_id, _ = await created(api, attendeePW="ap", moderatorPW="mp")
    success(
        await join(
            api, meeting_id, fullName="A", role="VIEWER", logoutURL="not a url", redirect="false"
        )
    )
    # A refused join goes to the server's logout URL then, not to the bad one.
    response = await join(api, meeting_id, fullName="A", password="nope", logoutURL="javascript:x")
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc) == ("https", "sala.test")
    errors = json.loads(parse_qs(location.query)["errors"][0])
    assert errors[0]["key"] == "invalidPassword"


async def test_join_userdata_keys_split_like_bbb(api: Api) -> None:
    meeting_id, _ = await created(api)
    joined = success(
        await join(
            api,
            meeting_id,
            fullName="A",
            role="VIEWER",
            redirect="false",
            **{"userdata-bbb_x": "1", "userdata-a-b": "dropped", "userdata-": "dropped"},
        )
    )
    user = await api.services.meetings.get_attendee(field(joined, "user_id"))
    assert user is not None and user.custom_data == {"bbb_x": "1"}
