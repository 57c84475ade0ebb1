"""Every call that takes `meetingID` finds the meeting by its internal ID first, then by its
external ID, as bbb-web's ServiceUtils.findMeetingFromMeetingID does: load balancers (Scalelite)
and integrations that keep the internalMeetingID of create's answer address meetings that way."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx

from sala.meetings.rules import EndReason
from tests.conftest import Api
from tests.xmlutil import failed, field, success


async def created(api: Api, meeting_id: str | None = None, **params: str) -> tuple[str, str]:
    """A new meeting: (external ID, internal ID)."""
    meeting_id, response = await api.create(meeting_id, **params)
    return meeting_id, field(success(response), "internalMeetingID")


async def enter(api: Api, meeting_id: str, name: str = "Ada", role: str = "MODERATOR") -> None:
    """Join through the API and put the user in the room, as their browser would."""
    joined = success(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": name, "role": role, "redirect": "false"},
        )
    )
    await api.services.meetings.user_connected(
        field(joined, "meeting_id"), field(joined, "user_id")
    )


async def insert_document(api: Api, meeting_id: str) -> httpx.Response:
    query = api.query("insertDocument", {"meetingID": meeting_id})
    body = (
        "<modules><module name='presentation'>"
        "<document url='https://docs.invalid/a.pdf' filename='a.pdf'/></module></modules>"
    )
    return await api.client.post(
        f"/bigbluebutton/api/insertDocument?{query}",
        content=body,
        headers={"content-type": "application/xml"},
    )


async def test_get_meeting_info_and_is_meeting_running_by_internal_id(api: Api) -> None:
    meeting_id, internal = await created(api)
    info = success(await api.get("getMeetingInfo", {"meetingID": internal}))
    assert field(info, "meetingID") == meeting_id
    assert field(info, "internalMeetingID") == internal
    running = success(await api.get("isMeetingRunning", {"meetingID": internal}))
    assert field(running, "running") == "false"


async def test_answers_by_internal_id_follow_changes(api: Api) -> None:
    """Asking by internal ID is not served a stale answer after the meeting changes."""
    _, internal = await created(api)
    before = success(await api.get("getMeetingInfo", {"meetingID": internal}))
    assert field(before, "running") == "false"
    await enter(api, internal)
    after = success(await api.get("getMeetingInfo", {"meetingID": internal}))
    assert field(after, "running") == "true"
    assert field(after, "participantCount") == "1"
    running = success(await api.get("isMeetingRunning", {"meetingID": internal}))
    assert field(running, "running") == "true"


async def test_end_by_internal_id(api: Api) -> None:
    meeting_id, internal = await created(api)
    ended = success(await api.get("end", {"meetingID": internal}))
    assert field(ended, "messageKey") == "sentEndMeetingRequest"
    failed(await api.get("getMeetingInfo", {"meetingID": meeting_id}), "notFound")
    failed(await api.get("end", {"meetingID": internal}), "notFound")


async def test_join_by_internal_id(api: Api) -> None:
    meeting_id, internal = await created(api)
    joined = success(
        await api.get(
            "join",
            {"meetingID": internal, "fullName": "Ada", "role": "VIEWER", "redirect": "false"},
        )
    )
    assert field(joined, "meeting_id") == internal
    redirected = await api.get("join", {"meetingID": internal, "fullName": "Bo", "password": "ap"})
    assert redirected.status_code == 302
    assert "/room/join?sessionToken=" in redirected.headers["location"]
    await api.get("end", {"meetingID": meeting_id})
    refused = await api.get("join", {"meetingID": internal, "fullName": "Ada", "role": "VIEWER"})
    assert refused.status_code == 302
    errors = parse_qs(urlsplit(refused.headers["location"]).query)["errors"][0]
    assert json.loads(errors)[0]["key"] == "meetingForciblyEnded"


async def test_send_chat_message_and_insert_document_by_internal_id(api: Api) -> None:
    _, internal = await created(api)
    await enter(api, internal)
    success(await api.get("sendChatMessage", {"meetingID": internal, "message": "Hi"}))
    success(await insert_document(api, internal))
    await api.services.presentations.wait_idle()


async def test_internal_id_wins_over_an_equal_external_id(api: Api) -> None:
    """BBB looks up the internal ID first: a room whose external ID happens to equal another
    meeting's internal ID does not take that meeting's place."""
    first_id, first_internal = await created(api, name="First")
    second_id, _ = await created(api, first_internal, name="Second")
    assert second_id == first_internal
    info = success(await api.get("getMeetingInfo", {"meetingID": first_internal}))
    assert field(info, "meetingName") == "First"
    assert field(info, "meetingID") == first_id
    # Ending the second room by its own external ID is therefore impossible while the first
    # runs; the second still ends by its internal ID.
    success(await api.get("end", {"meetingID": first_internal}))
    info = success(await api.get("getMeetingInfo", {"meetingID": first_internal}))
    assert field(info, "meetingName") == "Second"


async def test_a_prefix_of_an_internal_id_does_not_resolve(api: Api) -> None:
    """bbb-web matches internal IDs by prefix, so a short external ID can land on another
    meeting; sala matches them exactly."""
    _, internal = await created(api)
    for prefix in (internal[:2], internal[:40], internal[:-1]):
        failed(await api.get("getMeetingInfo", {"meetingID": prefix}), "notFound")
        answer = success(await api.get("isMeetingRunning", {"meetingID": prefix}))
        assert field(answer, "running") == "false"
        failed(await api.get("end", {"meetingID": prefix}), "notFound")
    assert await api.services.meetings.get_live(internal) is not None


async def test_service_lookup_resolves_both_ids(api: Api) -> None:
    meeting_id, internal = await created(api)
    by_external = await api.services.meetings.get_live(meeting_id)
    by_internal = await api.services.meetings.get_live(internal)
    assert by_external is not None and by_internal is not None
    assert by_external.internal_id == by_internal.internal_id == internal
    await api.services.meetings.end(internal, EndReason.END_API)
    assert await api.services.meetings.get_live(meeting_id) is None
    assert await api.services.meetings.get_live(internal) is None


async def test_is_meeting_running_without_a_meeting_id_is_not_running(api: Api) -> None:
    """bbb-web 3.0 validates isMeetingRunning's meetingID only when it is sent: without one the
    answer is SUCCESS, not running (an empty one fails its size check)."""
    await created(api)
    answer = success(await api.get("isMeetingRunning", {}))
    assert field(answer, "running") == "false"
    failed(await api.get("isMeetingRunning", {"meetingID": ""}), "sizeError")
