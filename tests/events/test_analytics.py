"""The analytics callback: the guides' document, signed as a JWT (HS512), durable like webhooks."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import jwt
import pytest

from sala.clock import ManualClock
from sala.events import types
from sala.events.analytics import external_user_id, guide_time
from sala.meetings.model import Role
from sala.meetings.specs import JoinSpec
from tests.conftest import Api
from tests.events.test_webhooks import deliver
from tests.presentations import documents
from tests.support.receiver import Receiver
from tests.xmlutil import success

GUIDE_KEYS = {"version", "meeting_id", "internal_meeting_id", "data"}
DATA_KEYS = {
    "metadata",
    "duration",
    "start",
    "finish",
    "attendees",
    "files",
    "polls",
    "recorded_segments",
    "transfer_attendees",
}
ATTENDEE_KEYS = {
    "ext_user_id",
    "name",
    "moderator",
    "joins",
    "leaves",
    "duration",
    "recent_talking_time",
    "engagement",
    "sessions",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_formats() -> None:
    assert guide_time(1691427977000) == "2023-08-07 17:06:17 +0000"
    assert external_user_id("45") == 45
    assert external_user_id("w_pc3g5bjibj7r") == "w_pc3g5bjibj7r"
    assert external_user_id("007") == "007"  # a number would lose the zeros


async def test_callback_document_and_signature(
    api: Api, receiver: Receiver, clock: ManualClock
) -> None:
    url = receiver.url("/analytics")
    meeting_id, _ = await api.create(
        name="Laboral",
        record="true",
        **{"meta_analytics-callback-url": url, "meta_bbb-origin": "lms"},
    )
    meetings = api.services.meetings
    ada = await meetings.join(
        meeting_id, JoinSpec(full_name="Ada", role=Role.MODERATOR, external_user_id="45")
    )
    bea = await meetings.join(meeting_id, JoinSpec(full_name="Bea", role=Role.VIEWER))
    internal = ada.meeting.internal_id
    ada_id, bea_id = ada.attendee.internal_user_id, bea.attendee.internal_user_id
    # What the room does when the first person enters a meeting without documents.
    await api.services.presentations.add_default(internal)
    clock.advance(seconds=3)
    await meetings.user_connected(internal, ada_id)
    clock.advance(seconds=2)
    await meetings.user_connected(internal, bea_id)
    # What the room and media features append as they land; counted from the log.
    for kind, user, data in (
        (types.CHAT_MESSAGE, ada_id, {"chat": "public", "message": "hi"}),
        (types.CHAT_MESSAGE, ada_id, {"chat": "private", "message": "psst"}),
        (types.TALKING_STARTED, ada_id, {}),
    ):
        await meetings.log_event(internal, kind, data, user_id=user)
    clock.advance(seconds=26)
    await meetings.log_event(internal, types.TALKING_STOPPED, {}, user_id=ada_id)
    await meetings.log_event(internal, types.RAISE_HAND, {"raised": True}, user_id=bea_id)
    await meetings.log_event(internal, types.EMOJI, {"emoji": "happy"}, user_id=bea_id)
    await meetings.log_event(internal, types.POLL_VOTE, {"poll": "p1"}, user_id=bea_id)
    clock.advance(seconds=60)
    await meetings.user_disconnected(internal, bea_id)
    clock.advance(seconds=30)
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)

    [request] = receiver.accepted("/analytics")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    token = request.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, api.secret, algorithms=["HS512"])
    assert set(claims) == {"exp"}
    assert claims["exp"] == clock.now_ms() // 1000 + 24 * 3600
    assert jwt.get_unverified_header(token) == {"alg": "HS512", "typ": "JWT"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret", algorithms=["HS512"])

    body = json.loads(request.body)
    assert set(body) == GUIDE_KEYS
    assert body["version"] == "1.0"
    assert body["meeting_id"] == meeting_id and body["internal_meeting_id"] == internal
    data = body["data"]
    assert set(data) == DATA_KEYS
    assert data["metadata"] == {
        "analytics_callback_url": "hidden",
        "bbb_origin": "lms",
        "is_breakout": "false",
        "meeting_id": meeting_id,
        "meeting_name": "Laboral",
        "record": "true",
    }
    assert data["duration"] == 121
    assert data["files"] == ["default.pdf"]
    assert (data["polls"], data["recorded_segments"], data["transfer_attendees"]) == ([], [], [])
    by_name = {a["name"]: a for a in data["attendees"]}
    assert set(by_name) == {"Ada", "Bea"}
    for attendee in by_name.values():
        assert set(attendee) == ATTENDEE_KEYS
    a, b = by_name["Ada"], by_name["Bea"]
    assert a["ext_user_id"] == 45 and a["moderator"] is True
    assert b["ext_user_id"] == bea_id and b["moderator"] is False
    assert a["duration"] == 118 and b["duration"] == 86
    assert a["engagement"] == {
        "chats": 2,
        "talks": 1,
        "raisehand": 0,
        "emojis": 0,
        "poll_votes": 0,
        "talk_time": 26,
    }
    assert b["engagement"] == {
        "chats": 0,
        "talks": 0,
        "raisehand": 1,
        "emojis": 1,
        "poll_votes": 1,
        "talk_time": 0,
    }
    assert a["joins"] == [a["sessions"][ada_id]["joins"][0]["timestamp"]]
    assert a["sessions"][ada_id]["lefts"][0] == {
        "timestamp": data["finish"],
        "userid": ada_id,
        "ext_userid": 45,
        "event": "left",
        "remove": False,
    }


async def test_failed_callback_is_retried(api: Api, receiver: Receiver, clock: ManualClock) -> None:
    up = False
    receiver.respond = lambda _r: 200 if up else 502
    meeting_id, _ = await api.create(**{"meta_analytics-callback-url": receiver.url("/a")})
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api, passes=2)
    assert receiver.accepted() == []
    up = True
    clock.advance(minutes=30)
    await deliver(api)
    [request] = receiver.accepted("/a")
    # Signed at the retry, so the token is valid for 24 h from then.
    claims = jwt.decode(request.headers["authorization"][7:], api.secret, algorithms=["HS512"])
    assert claims["exp"] == clock.now_ms() // 1000 + 24 * 3600


def _modules(*docs: tuple[str, bytes]) -> str:
    inner = "".join(
        f'<document filename="{name}">{base64.b64encode(data).decode()}</document>'
        for name, data in docs
    )
    return f'<modules><module name="presentation">{inner}</module></modules>'


async def _post(api: Api, call: str, params: dict[str, str], body: str) -> None:
    response = await api.client.post(
        f"/bigbluebutton/api/{call}?{api.query(call, params)}",
        content=body,
        headers={"Content-Type": "application/xml"},
    )
    success(response)
    await api.services.presentations.wait_idle()


async def _files(api: Api, receiver: Receiver, meeting_id: str) -> list[str]:
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)
    [request] = receiver.accepted(f"/{meeting_id}")
    files: list[str] = json.loads(request.body)["data"]["files"]
    return files


async def test_files_are_the_documents_converted_for_the_meeting(
    api: Api, receiver: Receiver
) -> None:
    """BBB lists the original name of each document converted for the meeting, in order,
    repeats included; the default presentation only if the meeting got it."""
    meeting_id = "files-replaced-default"
    create = {
        "name": "Deck",
        "meetingID": meeting_id,
        "meta_analytics-callback-url": receiver.url(f"/{meeting_id}"),
    }
    # A <modules> document replaces the default presentation, which is never made.
    await _post(api, "create", create, _modules(("syllabus.pdf", documents.pdf(2))))
    insert = {"meetingID": meeting_id}
    await _post(api, "insertDocument", insert, _modules(("week 1.pdf", documents.pdf(1))))
    await _post(api, "insertDocument", insert, _modules(("broken.pdf", b"not a pdf")))
    await _post(api, "insertDocument", insert, _modules(("syllabus.pdf", documents.pdf(3))))
    assert await _files(api, receiver, meeting_id) == ["syllabus.pdf", "week 1.pdf", "syllabus.pdf"]


async def test_files_list_the_default_presentation_when_it_was_kept(
    api: Api, receiver: Receiver
) -> None:
    meeting_id = "files-kept-default"
    await _post(
        api,
        "create",
        {
            "name": "Deck",
            "meetingID": meeting_id,
            "preUploadedPresentationOverrideDefault": "false",
            "meta_analytics-callback-url": receiver.url(f"/{meeting_id}"),
        },
        _modules(("slides.pdf", documents.pdf(1))),
    )
    assert await _files(api, receiver, meeting_id) == ["default.pdf", "slides.pdf"]
