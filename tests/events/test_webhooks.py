"""Webhooks end to end: hooks API, then real HTTP deliveries to a receiver on loopback.

The event worker is driven pass by pass and time is moved with the manual clock, so retries and
the retry window are exercised without waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest

from sala.clock import ManualClock
from sala.meetings.model import Role
from sala.meetings.specs import JoinSpec
from tests.conftest import Api
from tests.support.receiver import Received, Receiver
from tests.xmlutil import failed, field, success


async def deliver(api: Api, passes: int = 5) -> None:
    """Run the event worker until nothing more goes out."""
    for _ in range(passes):
        await api.services.events.run_once()
        await api.services.deliverer.drain()


def events_of(requests: list[Received]) -> list[dict[str, Any]]:
    out = []
    for request in requests:
        [event] = json.loads(request.form["event"][0])
        out.append(event["data"])
    return out


async def register(api: Api, url: str, **params: str) -> dict[str, str]:
    root = success(await api.get("hooks/create", {"callbackURL": url, **params}))
    return {child.tag: child.text or "" for child in root}


async def attend(api: Api, meeting_id: str, name: str, user_id: str) -> tuple[str, str]:
    joined = await api.services.meetings.join(
        meeting_id, JoinSpec(full_name=name, role=Role.MODERATOR, external_user_id=user_id)
    )
    internal, user = joined.meeting.internal_id, joined.attendee.internal_user_id
    await api.services.meetings.user_connected(internal, user)
    return internal, user


async def test_hooks_api(api: Api, receiver: Receiver) -> None:
    created = await register(
        api, receiver.url("/a"), meetingID="room-1,room-2", eventID="meeting-ended"
    )
    assert created["hookID"] == "1"
    assert len(created["authToken"]) == 40 and created["authToken"] != api.secret
    again = await register(api, receiver.url("/a"))
    assert again["messageKey"] == "duplicateWarning"
    assert (again["hookID"], again["authToken"]) == (created["hookID"], created["authToken"])
    global_hook = await register(api, receiver.url("/b"))
    assert global_hook["hookID"] == "2" and global_hook["authToken"] != created["authToken"]

    listed = success(await api.get("hooks/list"))
    hooks = {h.findtext("hookID"): h for h in listed.iter("hook")}
    assert set(hooks) == {"1", "2"}
    assert hooks["1"].findtext("callbackURL") == receiver.url("/a")
    assert hooks["1"].findtext("meetingID") == "room-1,room-2"
    assert hooks["1"].findtext("eventID") == "meeting-ended"
    assert hooks["1"].findtext("authToken") == created["authToken"]
    assert hooks["1"].findtext("enabled") == "true"
    assert hooks["2"].find("meetingID") is None
    only_room_3 = success(await api.get("hooks/list", {"meetingID": "room-3"}))
    assert [h.findtext("hookID") for h in only_room_3.iter("hook")] == ["2"]

    assert field(success(await api.get("hooks/destroy", {"hookID": "1"})), "removed") == "true"
    failed(await api.get("hooks/destroy", {"hookID": "1"}), "destroyMissingHook")
    failed(await api.get("hooks/destroy", {"hookID": "abc"}), "destroyMissingHook")
    failed(await api.get("hooks/destroy", {}), "missingParamHookID")
    ping = await api.client.get("/bigbluebutton/api/hooks/ping")
    assert ping.text == "bbb-webhooks API up!"


async def test_hooks_bad_input(api: Api) -> None:
    failed(await api.get("hooks/create", {}), "missingParamCallbackURL")
    failed(await api.get("hooks/create", {"callbackURL": ""}), "missingParamCallbackURL")
    # Refused: what no delivery could ever use (bbb-webhooks stores them and fails every
    # delivery; its HTTP client refuses credentials in URLs too).
    for url in (
        "ftp://example.org/x",
        "not a url",
        "http://",
        "http://u:p@127.0.0.1/x",
        "http://127.0.0.1:99999/",
        "http://2130706433/",  # IPv4 is written a.b.c.d
        "http://[fe80::1%25eth0]/",  # zone ids name an interface of this machine
    ):
        failed(await api.get("hooks/create", {"callbackURL": url}), "createHookError")
    # Registered as bbb-webhooks registers them; the destination policy decides at delivery.
    for url in ("http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]:8080/"):
        success(await api.get("hooks/create", {"callbackURL": url}))
    missing = await api.get("hooks/enable", {"hookID": "999"})
    assert missing.status_code == 404
    failed_root = missing.text
    assert "enableMissingHook" in failed_root
    assert (await api.get("hooks/enable", {"hookID": "x1"})).status_code == 422
    assert (await api.get("hooks/enable", {})).status_code == 400
    bad = await api.client.get("/bigbluebutton/api/hooks/list?checksum=00")
    failed(bad, "checksumError")
    unauthorized = await api.client.get("/bigbluebutton/api/hooks/enable?hookID=1&checksum=00")
    assert unauthorized.status_code == 401 and "checksumError" in unauthorized.text


async def test_deliveries_are_exact_ordered_and_authenticated(api: Api, receiver: Receiver) -> None:
    meeting_id = "physics-101"
    everything = await register(api, receiver.url("/global"))
    bound = await register(api, receiver.url("/bound"), meetingID=meeting_id)
    filtered = await register(
        api, receiver.url("/filtered"), eventID="meeting-created,meeting-ended"
    )
    other = await register(api, receiver.url("/other"), meetingID="some-other-room")

    await api.create(meeting_id, **{"meta_bbb-origin": "Moodle"})
    internal, user = await attend(api, meeting_id, "Ada", "17")
    success(await api.get("sendChatMessage", {"meetingID": meeting_id, "message": "hi all"}))
    await api.services.meetings.user_disconnected(internal, user)
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)

    expected = [
        "meeting-created",
        "user-joined",
        "chat-group-message-sent",
        "user-left",
        "meeting-ended",
    ]
    for path in ("/global", "/bound"):
        assert [e["id"] for e in events_of(receiver.accepted(path))] == expected
    assert [e["id"] for e in events_of(receiver.accepted("/filtered"))] == [
        "meeting-created",
        "meeting-ended",
    ]
    assert receiver.accepted("/other") == []

    requests = receiver.accepted("/global")
    delivery_ids = {r.headers["x-sala-delivery-id"] for r in requests}
    assert len(delivery_ids) == len(requests)
    for request in requests:
        assert request.method == "POST"
        assert request.headers["authorization"] == f"Bearer {everything['authToken']}"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert list(request.form) == ["domain", "event", "timestamp"]
        assert request.form["domain"] == ["sala.test"]
        # BBB's default mode too: ?checksum=sha1(callbackURL + body + secret).
        digest = hashlib.sha1(receiver.url("/global").encode() + request.body + api.secret.encode())
        assert request.query["checksum"] == [digest.hexdigest()]
    assert {r.headers["authorization"] for r in receiver.accepted("/bound")} == {
        f"Bearer {bound['authToken']}"
    }
    assert filtered and other

    created, joined, chat, left, ended = events_of(requests)
    meeting = created["attributes"]["meeting"]
    assert meeting["external-meeting-id"] == meeting_id
    assert meeting["internal-meeting-id"] == internal
    assert meeting["name"] == "Room"
    assert meeting["metadata"] == {"bbb-origin": "Moodle"}
    assert meeting["moderator-pass"] == "mp" and meeting["viewer-pass"] == "ap"
    assert meeting["record"] is False and isinstance(meeting["create-time"], int)
    assert created["type"] == "event" and isinstance(created["event"]["ts"], int)
    assert joined["attributes"]["user"] == {
        "internal-user-id": user,
        "external-user-id": "17",
        "name": "Ada",
        "role": "MODERATOR",
        "presenter": False,
        "guest": False,
        "userdata": {},
    }
    assert chat["attributes"]["chat-message"]["message"] == "hi all"
    # The message's id in the room (the same after a restart, and in edits and deletions).
    assert chat["attributes"]["chat-message"]["id"].startswith("m_")
    assert chat["attributes"]["chat-id"] == "MAIN-PUBLIC-GROUP-CHAT"
    assert left["attributes"]["user"]["external-user-id"] == "17"
    assert ended["attributes"]["meeting"] == {
        "internal-meeting-id": internal,
        "external-meeting-id": meeting_id,
    }


async def test_raw_hooks_get_sala_events(api: Api, receiver: Receiver) -> None:
    await register(api, receiver.url("/raw"), getRaw="true")
    meeting_id, _ = await api.create()
    await deliver(api)
    [request] = receiver.accepted("/raw")
    [raw] = json.loads(request.form["event"][0])
    assert raw["envelope"]["name"] == "meeting-created"
    assert raw["core"]["body"]["external_id"] == meeting_id


async def test_receiver_down_then_back_gets_everything_in_order(
    api: Api, receiver: Receiver, clock: ManualClock
) -> None:
    up = False
    receiver.respond = lambda _r: 200 if up else 503
    await register(api, receiver.url())
    ids = []
    for _ in range(3):
        meeting_id, _ = await api.create()
        ids.append(meeting_id)
        success(await api.get("end", {"meetingID": meeting_id}))
    for _ in range(6):  # several failed attempts, each followed by a backoff
        await deliver(api, passes=1)
        clock.advance(minutes=1)
    assert receiver.accepted() == []
    up = True
    clock.advance(minutes=20)
    await deliver(api, passes=10)
    received = [
        (e["id"], e["attributes"]["meeting"]["external-meeting-id"])
        for e in events_of(receiver.accepted())
    ]
    for meeting_id in ids:
        mine = [kind for kind, m in received if m == meeting_id]
        assert mine == ["meeting-created", "meeting-ended"]
    assert len(received) == 6


async def test_failing_receiver_disables_the_hook_and_loses_nothing(
    api: Api, receiver: Receiver, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    up = False
    receiver.respond = lambda _r: 200 if up else 500
    hook = await register(api, receiver.url())
    meeting_id, _ = await api.create()
    await deliver(api, passes=1)
    clock.advance(hours=25)
    await deliver(api, passes=1)
    listed = success(await api.get("hooks/list"))
    assert listed.findtext("hooks/hook/enabled") == "false"
    disabled = [r.getMessage() for r in caplog.records if "disabled" in r.getMessage()]
    assert any("HTTP 500" in line for line in disabled), disabled

    success(await api.get("end", {"meetingID": meeting_id}))  # happens while disabled
    up = True
    await deliver(api)
    assert receiver.accepted() == []  # a disabled hook gets nothing...
    enabled = await api.get("hooks/enable", {"hookID": hook["hookID"]})
    assert field(success(enabled), "enabled") == "true"
    await deliver(api)
    assert [e["id"] for e in events_of(receiver.accepted())] == ["meeting-created", "meeting-ended"]


async def test_timeouts_count_as_failures(api: Api, receiver: Receiver, clock: ManualClock) -> None:
    api.services.deliverer._settings = type(api.services.deliverer._settings)(
        secret=api.secret, timeout_s=0.2
    )
    receiver.delay_s = 0.5
    await register(api, receiver.url())
    await api.create()
    await deliver(api, passes=1)
    # The receiver still takes the request sala gave up on, 0.5 s after it came: wait for it,
    # or it may land after the retry below and look like a delivery made twice by the retry.
    for _ in range(50):
        if receiver.accepted():
            break
        await asyncio.sleep(0.05)
    assert [e["id"] for e in events_of(receiver.accepted())] == ["meeting-created"]
    receiver.delay_s = 0
    clock.advance(minutes=5)
    await deliver(api)
    # The timeout counted as a failure: the event was sent again, and answered in time.
    deliveries = receiver.accepted()
    assert [e["id"] for e in events_of(deliveries)] == ["meeting-created", "meeting-created"]


async def test_401_stops_retrying(api: Api, receiver: Receiver, clock: ManualClock) -> None:
    calls: list[Received] = []

    def refuse(request: Received) -> int:
        calls.append(request)
        return 401

    receiver.respond = refuse
    await register(api, receiver.url())
    await api.create()
    await deliver(api)
    clock.advance(hours=1)
    await deliver(api)
    assert len(calls) == 1


async def test_end_callback_like_bbb(api: Api, receiver: Receiver) -> None:
    meeting_id, _ = await api.create(**{"meta_endCallbackUrl": receiver.url("/ended?x=1")})
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)
    [request] = receiver.accepted("/ended")
    assert request.method == "GET"
    assert request.query == {"x": ["1"], "recordingmarks": ["false"], "meetingID": [meeting_id]}


async def test_recording_api_actions_emit_rap_events(api: Api, receiver: Receiver) -> None:
    from tests.api.test_recordings_api import seed

    meeting_id, created = await api.create()
    internal = field(success(created), "internalMeetingID")
    await seed(api, meeting_id, int(internal.rsplit("-", 1)[1]))
    await register(api, receiver.url(), eventID="rap-published,rap-unpublished,rap-deleted")
    success(await api.get("publishRecordings", {"recordID": internal, "publish": "false"}))
    success(await api.get("publishRecordings", {"recordID": internal, "publish": "true"}))
    success(await api.get("deleteRecordings", {"recordID": internal}))
    await deliver(api)
    events = events_of(receiver.accepted())
    assert [e["id"] for e in events] == ["rap-unpublished", "rap-published", "rap-deleted"]
    assert all(e["attributes"]["record-id"] == internal for e in events)
    assert events[0]["attributes"]["meeting"]["external-meeting-id"] == meeting_id


async def test_room_events_reach_hooks_in_bbb_shape(api: Api, receiver: Receiver) -> None:
    from sala.events import types

    await register(api, receiver.url(), eventID="user-raise-hand-changed,user-emoji-changed")
    meeting_id, _ = await api.create()
    internal, user = await attend(api, meeting_id, "Ada", "17")
    await api.services.meetings.log_event(
        internal, types.RAISE_HAND, {"raised": True}, user_id=user
    )
    await api.services.meetings.log_event(internal, types.EMOJI, {"emoji": "none"}, user_id=user)
    await deliver(api)
    hand, emoji = events_of(receiver.accepted())
    assert hand["attributes"]["user"] == {
        "internal-user-id": user,
        "external-user-id": "17",
        "raise-hand": True,
    }
    assert emoji["attributes"]["user"]["emoji"] == "none"
