"""BBB 3.0 conformance: for each call, the element paths of sala's answer against BBB 3.0's own.

The expected shapes are written by hand from bbb-web's response templates and bbb-webhooks'
answers in tests/api/bbb_shapes.py (each cites its source). An answer may carry only what BBB
3.0 sends in the same situation, plus the documented extensions listed there (Mconf's, the
guides'); nothing BBB sends may be missing.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.bbb_shapes import json_paths, paths_for, problems
from tests.api.test_recordings_api import seed
from tests.conftest import Api
from tests.xmlutil import field, success


def conforms(name: str, response: httpx.Response, *tags: str) -> None:
    assert response.status_code == 200, response.text
    found = problems(name, paths_for(name, response.content), *tags)
    assert not found, f"{name}: {found}\n{response.text}"


def conforms_json(name: str, document: Any, *tags: str) -> None:
    found = problems(name, json_paths(document), *tags)
    assert not found, f"{name}: {found}\n{json.dumps(document)}"


async def present(api: Api, meeting_id: str, name: str = "Ada", **extra: str) -> Any:
    """Join `name` and put them in the room, as their browser would."""
    joined = success(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": name, "redirect": "false", **extra},
        )
    )
    await api.services.meetings.user_connected(
        field(joined, "meeting_id"), field(joined, "user_id")
    )
    return joined


# ----------------------------------------------------------------------------- meetings --
@pytest.mark.parametrize("path", ["/bigbluebutton/api", "/bigbluebutton/api/", "/bigbluebutton/"])
async def test_root(api: Api, path: str) -> None:
    response = await api.client.get(path)
    conforms("root", response, "3_0_later")
    assert (await api.client.head(path)).status_code == 200


async def test_create_and_duplicate(api: Api) -> None:
    meeting_id, created = await api.create()
    conforms("create", created, "passwords")
    _, again = await api.create(meeting_id)
    conforms("create", again, "passwords")
    assert field(success(again), "messageKey") == "duplicateWarning"


async def test_create_without_passwords(api: Api) -> None:
    response = await api.get("create", {"name": "Room", "meetingID": "no-passwords"})
    conforms("create", response, "passwords")


async def test_join_without_redirect(api: Api) -> None:
    meeting_id, _ = await api.create()
    response = await api.get(
        "join",
        {"meetingID": meeting_id, "fullName": "Ada", "role": "MODERATOR", "redirect": "false"},
    )
    conforms("join", response)


async def test_join_refused_as_xml(api: Api) -> None:
    meeting_id, _ = await api.create(guestPolicy="ALWAYS_DENY")
    response = await api.get(
        "join",
        {
            "meetingID": meeting_id,
            "fullName": "Guest",
            "role": "VIEWER",
            "guest": "true",
            "redirect": "false",
        },
    )
    conforms("join.error", response)


async def test_end_and_is_meeting_running(api: Api) -> None:
    meeting_id, _ = await api.create()
    conforms("isMeetingRunning", await api.get("isMeetingRunning", {"meetingID": meeting_id}))
    conforms("end", await api.get("end", {"meetingID": meeting_id}))


async def test_get_meeting_info_empty(api: Api) -> None:
    meeting_id, _ = await api.create()
    conforms(
        "getMeetingInfo", await api.get("getMeetingInfo", {"meetingID": meeting_id}), "passwords"
    )


async def test_get_meeting_info_with_attendees_and_metadata(api: Api) -> None:
    meeting_id, _ = await api.create(**{"meta_bbb-origin": "Moodle"})
    await present(api, meeting_id, role="MODERATOR", **{"userdata-bbb_custom": "x"})
    response = await api.get("getMeetingInfo", {"meetingID": meeting_id})
    conforms(
        "getMeetingInfo", response, "passwords", "attendees", "customdata", "userdata", "metadata"
    )


async def test_get_meetings(api: Api) -> None:
    conforms("getMeetings.noMeetings", await api.get("getMeetings"))
    meeting_id, _ = await api.create(**{"meta_course": "physics"})
    await present(api, meeting_id, role="VIEWER")
    await api.create()
    conforms(
        "getMeetings",
        await api.get("getMeetings"),
        "passwords",
        "attendees",
        "customdata",
        "metadata",
    )


async def test_breakout_parent_and_child(api: Api) -> None:
    parent_id, parent = await api.create()
    parent_internal = field(success(parent), "internalMeetingID")
    _, child = await api.create(
        isBreakout="true", parentMeetingID=parent_internal, sequence="1", freeJoin="true"
    )
    child_root = success(child)
    conforms("create", child, "passwords")
    child_info = await api.get("getMeetingInfo", {"meetingID": field(child_root, "meetingID")})
    conforms("getMeetingInfo", child_info, "passwords", "breakout_child")
    assert field(success(child_info), "parentMeetingID") == parent_internal
    parent_info = await api.get("getMeetingInfo", {"meetingID": parent_id})
    conforms("getMeetingInfo", parent_info, "passwords", "breakout_parent")


async def test_get_sessions(api: Api) -> None:
    conforms("getSessions.noSessions", await api.get("getSessions"))
    meeting_id, _ = await api.create()
    await api.room_session(meeting_id, "Ada")
    conforms("getSessions", await api.get("getSessions"))


async def test_insert_document(api: Api) -> None:
    meeting_id, _ = await api.create()
    body = (
        "<modules><module name='presentation'>"
        "<document url='https://docs.invalid/a.pdf'/></module></modules>"
    )
    for target in (meeting_id, "no-such-meeting"):
        query = api.query("insertDocument", {"meetingID": target})
        response = await api.client.post(
            f"/bigbluebutton/api/insertDocument?{query}",
            content=body,
            headers={"content-type": "application/xml"},
        )
        conforms("insertDocument", response)
    await api.services.presentations.wait_idle()


async def test_send_chat_message(api: Api) -> None:
    meeting_id, _ = await api.create()
    await present(api, meeting_id, role="VIEWER")
    response = await api.get("sendChatMessage", {"meetingID": meeting_id, "message": "Hello"})
    conforms("sendChatMessage", response)


async def test_errors(api: Api) -> None:
    conforms("error", await api.client.get("/bigbluebutton/api/getMeetingInfo?meetingID=x"))
    conforms("error", await api.get("getMeetingInfo", {"meetingID": "missing"}))


async def test_get_join_url(api: Api) -> None:
    meeting_id, _ = await api.create()
    token = await api.room_session(meeting_id, "Ada", "MODERATOR")
    ok = await api.client.get(f"/bigbluebutton/api/getJoinUrl?sessionToken={token}")
    conforms_json("getJoinUrl", ok.json())
    bad = await api.client.get("/bigbluebutton/api/getJoinUrl?sessionToken=nope")
    conforms_json("getJoinUrl.error", bad.json())


# --------------------------------------------------------------------------- recordings --
async def test_get_recordings(api: Api) -> None:
    conforms("getRecordings.noRecordings", await api.get("getRecordings", {"meetingID": "none"}))
    await seed(api, "conformance-room", 1_000)
    response = await api.get("getRecordings", {"meetingID": "conformance-room"})
    conforms("getRecordings", response, "internal_id", "metadata", "formats", "preview")


async def test_publish_delete_update_recordings(api: Api) -> None:
    rid = await seed(api, "conformance-room", 2_000)
    for call, params in (
        ("publishRecordings", {"recordID": rid, "publish": "false"}),
        ("updateRecordings", {"recordID": rid, "meta_course": "chemistry"}),
        ("deleteRecordings", {"recordID": rid}),
    ):
        conforms(call, await api.get(call, params))


async def test_text_tracks(api: Api) -> None:
    track = {"kind": "subtitles", "lang": "pt-BR", "label": "Português", "source": "upload"}
    rid = await seed(api, "conformance-room", 3_000, text_tracks=[track])
    tracks = await api.get("getRecordingTextTracks", {"recordID": rid})
    conforms_json("getRecordingTextTracks", tracks.json(), "tracks")
    bare = await seed(api, "conformance-room", 4_000)
    for record_id in (bare, "nope"):  # noCaptionsFound, noRecordings
        answer = await api.get("getRecordingTextTracks", {"recordID": record_id})
        conforms_json("getRecordingTextTracks.error", answer.json())


# -------------------------------------------------------------------------------- hooks --
async def test_hooks(api: Api) -> None:
    conforms("hooks/list", await api.get("hooks/list"))
    meeting_id, _ = await api.create()
    created = await api.get(
        "hooks/create",
        {
            "callbackURL": "http://127.0.0.1:9/hook",
            "meetingID": meeting_id,
            "eventID": "meeting-ended",
        },
    )
    conforms("hooks/create", created)
    again = await api.get(
        "hooks/create",
        {
            "callbackURL": "http://127.0.0.1:9/hook",
            "meetingID": meeting_id,
            "eventID": "meeting-ended",
        },
    )
    conforms("hooks/create.duplicate", again)
    listing = await api.get("hooks/list")
    conforms("hooks/list", listing, "hooks", "meeting_bound", "event_filter")
    hook_id = field(success(created), "hookID")
    conforms("hooks/destroy", await api.get("hooks/destroy", {"hookID": hook_id}))
    conforms("hooks/error", await api.get("hooks/destroy", {"hookID": "999999"}))


def test_shapes_cover_every_bbb_call() -> None:
    """The suite above exercises every BBB 3.0 call sala serves."""
    from sala.api.calls import api_calls

    served = set(api_calls())
    bbb = {
        "create",
        "join",
        "end",
        "isMeetingRunning",
        "getMeetingInfo",
        "getMeetings",
        "getSessions",
        "insertDocument",
        "sendChatMessage",
        "getRecordings",
        "publishRecordings",
        "deleteRecordings",
        "updateRecordings",
        "getRecordingTextTracks",
        "putRecordingTextTrack",
        "getJoinUrl",
        "hooks/create",
        "hooks/list",
        "hooks/destroy",
    }
    assert bbb <= served, f"BBB 3.0 calls sala does not serve: {sorted(bbb - served)}"
