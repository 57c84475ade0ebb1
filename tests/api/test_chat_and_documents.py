"""sendChatMessage and insertDocument answer as bbb-web 3.0 does: a chat message needs a running
meeting (somebody in the room), and insertDocument's own answers carry only returncode and
message (insert-document.ftlx)."""

from __future__ import annotations

import httpx

from tests.api.bbb_shapes import BBB_SHAPES, paths_for, problems
from tests.conftest import Api
from tests.xmlutil import failed, field, success, xml

DOCUMENT = (
    "<modules><module name='presentation'>"
    "<document url='https://docs.invalid/a.pdf' filename='a.pdf'/></module></modules>"
)


async def enter(api: Api, meeting_id: str) -> tuple[str, str]:
    joined = success(
        await api.get(
            "join",
            {"meetingID": meeting_id, "fullName": "Ada", "role": "VIEWER", "redirect": "false"},
        )
    )
    internal, user = field(joined, "meeting_id"), field(joined, "user_id")
    await api.services.meetings.user_connected(internal, user)
    return internal, user


def exactly_bbb(response: httpx.Response) -> None:
    """The answer's element set is exactly insert-document.ftlx's in 3.0: no messageKey."""
    paths = paths_for("insertDocument", response.content)
    assert paths == BBB_SHAPES["insertDocument"].expected(), response.text


async def insert(api: Api, meeting_id: str, body: str = DOCUMENT) -> httpx.Response:
    query = api.query("insertDocument", {"meetingID": meeting_id})
    return await api.client.post(
        f"/bigbluebutton/api/insertDocument?{query}",
        content=body,
        headers={"content-type": "application/xml"},
    )


# -------------------------------------------------------------------------- sendChatMessage --
async def test_chat_needs_somebody_in_the_room(api: Api) -> None:
    meeting_id, _ = await api.create()
    nobody = await api.get("sendChatMessage", {"meetingID": meeting_id, "message": "Hello"})
    assert field(failed(nobody, "meetingNotFound"), "message") == "Meeting not found"
    # A join alone does not make the meeting run: the user has to be in the room.
    internal, user = await enter(api, meeting_id)
    sent = await api.get("sendChatMessage", {"meetingID": meeting_id, "message": "Hello"})
    success(sent)
    assert problems("sendChatMessage", paths_for("sendChatMessage", sent.content)) == []
    await api.services.meetings.user_disconnected(internal, user)
    after = await api.get("sendChatMessage", {"meetingID": meeting_id, "message": "Hello"})
    failed(after, "meetingNotFound")
    unknown = await api.get("sendChatMessage", {"meetingID": "nope", "message": "x"})
    failed(unknown, "meetingNotFound")


# --------------------------------------------------------------------------- insertDocument --
async def test_insert_document_success_carries_returncode_and_message(api: Api) -> None:
    meeting_id, _ = await api.create()
    response = await insert(api, meeting_id)
    root = success(response)
    exactly_bbb(response)
    assert field(root, "message") == "Presentation is being uploaded"
    await api.services.presentations.wait_idle()


async def test_insert_document_to_an_unknown_meeting(api: Api) -> None:
    response = await insert(api, "no-such-room")
    root = xml(response)
    exactly_bbb(response)
    assert field(root, "returncode") == "FAILED"
    assert field(root, "message") == "Meeting with id [no-such-room] not found."


async def test_insert_document_with_presentations_disabled(api: Api) -> None:
    meeting_id, _ = await api.create(disabledFeatures="presentation")
    response = await insert(api, meeting_id)
    root = xml(response)
    exactly_bbb(response)
    assert field(root, "returncode") == "FAILED"
    assert field(root, "message") == "Presentation feature is disabled, ignoring."


async def test_insert_document_without_a_document(api: Api) -> None:
    meeting_id, _ = await api.create()
    response = await insert(api, meeting_id, "<modules><module name='other'/></modules>")
    root = xml(response)
    exactly_bbb(response)
    assert field(root, "returncode") == "FAILED"
    assert field(root, "message")
