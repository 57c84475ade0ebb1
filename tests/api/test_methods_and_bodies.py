"""Methods and bodies bbb-web 3.0 accepts: join over POST, sendChatMessage with any body, values
trimmed before their size checks, and file parts nobody counts."""

from __future__ import annotations

from tests.conftest import Api
from tests.xmlutil import field, success


async def running_meeting(api: Api) -> str:
    """A meeting somebody is in (sendChatMessage needs one)."""
    meeting_id, _ = await api.create()
    joined = success(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": "Ada", "role": "VIEWER", "redirect": "false"},
        )
    )
    await api.services.meetings.user_connected(
        field(joined, "meeting_id"), field(joined, "user_id")
    )
    return meeting_id


async def test_join_over_post(api: Api) -> None:
    meeting_id, _ = await api.create()
    query = api.query(
        "join",
        {"meetingID": meeting_id, "fullName": "Ada", "role": "moderator", "redirect": "false"},
    )
    response = await api.client.post(f"/bigbluebutton/api/join?{query}")
    assert field(success(response), "meeting_id")


async def test_send_chat_message_with_a_body_of_any_type(api: Api) -> None:
    meeting_id = await running_meeting(api)
    query = api.query("sendChatMessage", {"meetingID": meeting_id, "message": "hi"})
    response = await api.client.post(
        f"/bigbluebutton/api/sendChatMessage?{query}",
        content=b'{"a": 1}',
        headers={"content-type": "application/json"},
    )
    success(response)


async def test_send_chat_message_trims_before_measuring(api: Api) -> None:
    meeting_id = await running_meeting(api)
    response = await api.get(
        "sendChatMessage",
        {"meetingID": meeting_id, "message": "a" * 500 + " ", "userName": "b" * 255 + " "},
    )
    success(response)


async def test_create_with_many_file_parts(api: Api) -> None:
    fields = {"name": "Room", "meetingID": "many-parts"}
    query = api.query("create", fields)
    files = [(f"f{i}", (f"{i}.txt", b"x", "text/plain")) for i in range(6)]
    response = await api.client.post(f"/bigbluebutton/api/create?{query}", files=files)
    assert field(success(response), "meetingID") == "many-parts"
