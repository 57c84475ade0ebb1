"""The room over its WebSocket protocol, with real connections to a real server."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from sala.events.log import read_events
from tests.room.conftest import RoomClient, RoomServer


async def test_presence_chat_and_hands(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    welcome = await ada.expect("welcome")
    assert welcome["version"] == 3  # the server's, whatever version the client said (1 here)
    assert welcome["you"]["role"] == "MODERATOR" and welcome["you"]["presenter"] is True
    bea = await room_server.client(meeting_id, "Bea")
    bea_welcome = await bea.expect("welcome")
    bea_id = bea_welcome["you"]["id"]
    assert {u["name"] for u in bea_welcome["users"]} == {"Ada", "Bea"}
    joined = await ada.expect("user.joined")
    assert joined["user"]["name"] == "Bea" and joined["user"]["role"] == "VIEWER"

    info = await room_server.api("getMeetingInfo", meetingID=meeting_id)
    assert "<participantCount>2</participantCount>" in info and "<running>true</running>" in info
    assert "<isPresenter>true</isPresenter>" in info

    await ada.send({"type": "chat.send", "text": "Olá <b>turma</b>", "ref": "c1"})
    got = await bea.expect("chat.message")
    assert got["text"] == "Olá <b>turma</b>" and got["from"]["name"] == "Ada" and got["to"] is None
    await bea.send({"type": "chat.send", "text": "hi"})
    assert (await ada.expect("chat.message", text="hi"))["from"]["name"] == "Bea"

    await bea.send({"type": "hand.set", "raised": True})
    update = await ada.expect("user.updated", where=lambda m: m["user"]["id"] == bea_id)
    assert update["user"]["hand"] is True
    await ada.send({"type": "hand.set", "raised": False, "user": bea_id})
    await bea.expect("user.updated", where=lambda m: m["user"]["hand"] is False)
    await bea.send({"type": "reaction.set", "emoji": "👍"})
    await ada.expect("user.updated", where=lambda m: m["user"]["reaction"] == "👍")

    await bea.send({"type": "leave"})
    left = await ada.expect("user.left")
    assert left["user"] == bea_id
    await ada.close()


async def test_private_chat_reaches_only_the_two(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    bea = await room_server.client(meeting_id, "Bea")
    bea_id = (await bea.expect("welcome"))["you"]["id"]
    cid = await room_server.client(meeting_id, "Cid")
    await cid.expect("welcome")
    await ada.send({"type": "chat.send", "text": "secret", "to": bea_id})
    assert (await bea.expect("chat.message"))["to"] == bea_id
    assert (await ada.expect("chat.message"))["text"] == "secret"
    await cid.nothing_of("chat.message")
    # Reloading shows the history, and still not someone else's private messages.
    again = await room_server.client(meeting_id, "Cid 2")
    assert [m["text"] for m in (await again.expect("welcome"))["chat"]] == []
    for client in (ada, bea, cid, again):
        await client.close()


async def test_viewers_cannot_moderate(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    ada_id = (await ada.expect("welcome"))["you"]["id"]
    bea = await room_server.client(meeting_id, "Bea")
    await bea.expect("welcome")
    for message in (
        {"type": "user.remove", "user": ada_id},
        {"type": "user.presenter", "user": ada_id},
        {"type": "user.role", "user": ada_id, "role": "VIEWER"},
        {"type": "lock.set", "disablePublicChat": True},
        {"type": "meeting.end"},
        {"type": "hand.set", "raised": False, "user": ada_id},
    ):
        await bea.send({**message, "ref": "x"})
        error = await bea.expect("error")
        assert error["code"] == "forbidden" and error["ref"] == "x", error
    assert "<running>true</running>" in await room_server.api(
        "isMeetingRunning", meetingID=meeting_id
    )
    await ada.close()
    await bea.close()


async def test_remove_and_ban(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    bea = await room_server.client(meeting_id, "Bea", userID="bea-1")
    bea_id = (await bea.expect("welcome"))["you"]["id"]
    await ada.send({"type": "user.remove", "user": bea_id, "ban": True})
    removed = await bea.expect("removed")
    assert removed["logoutUrl"]
    await asyncio.wait_for(bea.ws.wait_closed(), 5)
    assert (await ada.expect("user.left"))["user"] == bea_id
    info = await room_server.api("getMeetingInfo", meetingID=meeting_id)
    assert "<participantCount>1</participantCount>" in info
    back = await room_server.client(meeting_id, "Bea again", userID="bea-1")
    assert (await back.expect("removed"))["reason"] == "banned"
    await ada.close()


async def test_promote_and_presenter(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    bea = await room_server.client(meeting_id, "Bea")
    bea_id = (await bea.expect("welcome"))["you"]["id"]
    await ada.send({"type": "user.role", "user": bea_id, "role": "MODERATOR"})
    assert (await bea.expect("welcome"))["you"]["role"] == "MODERATOR"
    await ada.send({"type": "user.presenter", "user": bea_id})
    assert await ada.expect("user.updated", within=5)
    info = await room_server.api("getMeetingInfo", meetingID=meeting_id)
    assert info.count("<role>MODERATOR</role>") == 2
    assert "<moderatorCount>2</moderatorCount>" in info
    await ada.close()
    await bea.close()


async def test_guest_lobby(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(guestPolicy="ASK_MODERATOR")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    guest = await room_server.client(meeting_id, "Gil", guest="true")
    waiting = await guest.expect("lobby.waiting")
    assert waiting["you"]["name"] == "Gil"
    lobby = await ada.expect("lobby.updated")
    [entry] = lobby["waiting"]
    await guest.send({"type": "chat.send", "text": "let me in"})
    assert (await guest.expect("error"))["code"] == "waiting"
    info = await room_server.api("getMeetingInfo", meetingID=meeting_id)
    assert "<participantCount>1</participantCount>" in info  # waiting guests are not in yet
    await ada.send({"type": "guest.decide", "user": entry["id"], "allow": True})
    assert (await guest.expect("welcome"))["you"]["name"] == "Gil"
    assert (await ada.expect("user.joined"))["user"]["name"] == "Gil"

    denied = await room_server.client(meeting_id, "Dan", guest="true")
    await denied.expect("lobby.waiting")
    await ada.send({"type": "guest.decide", "allow": False})
    await denied.expect("guest.denied")
    await asyncio.wait_for(denied.ws.wait_closed(), 5)
    await ada.close()
    await guest.close()


async def test_disabled_features_and_locks_are_enforced(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(disabledFeatures="privateChat")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    ada_welcome = await ada.expect("welcome")
    assert "privateChat" in ada_welcome["meeting"]["disabledFeatures"]
    bea = await room_server.client(meeting_id, "Bea")
    await bea.expect("welcome")
    await bea.send({"type": "chat.send", "text": "psst", "to": ada_welcome["you"]["id"]})
    assert (await bea.expect("error"))["code"] == "disabled"
    await ada.send({"type": "lock.set", "disablePublicChat": True})
    assert (await bea.expect("locks.updated"))["locks"]["disablePublicChat"] is True
    await bea.send({"type": "chat.send", "text": "hello?"})
    assert (await bea.expect("error"))["code"] == "locked"
    await ada.send({"type": "chat.send", "text": "moderators still talk"})
    assert (await bea.expect("chat.message"))["text"] == "moderators still talk"
    await ada.close()
    await bea.close()


async def test_moderator_ends_the_meeting(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(logoutURL="https://lms.example.org/course/7")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    bea = await room_server.client(meeting_id, "Bea")
    await bea.expect("welcome")
    await ada.send({"type": "meeting.end"})
    for client in (ada, bea):
        ended = await client.expect("meeting.ended")
        assert ended["logoutUrl"] == "https://lms.example.org/course/7"
        await asyncio.wait_for(client.ws.wait_closed(), 5)
    assert "<running>false</running>" in await room_server.api(
        "isMeetingRunning", meetingID=meeting_id
    )
    assert "hasBeenForciblyEnded" not in await room_server.api(
        "getMeetingInfo", meetingID=meeting_id
    )


async def test_end_api_closes_the_room(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    await room_server.api("end", meetingID=meeting_id)
    await ada.expect("meeting.ended")


async def test_reconnect_is_not_a_new_join(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    cookie = await room_server.session(meeting_id, "Bea")
    bea = await RoomClient.open(room_server, cookie)
    bea_id = (await bea.expect("welcome"))["you"]["id"]
    await ada.expect("user.joined")
    await bea.ws.close()  # a reload: the same room session comes back
    again = await RoomClient.open(room_server, cookie)
    assert (await again.expect("welcome"))["you"]["id"] == bea_id
    await ada.nothing_of("user.left", wait=0.5)
    await ada.nothing_of("user.joined", wait=0.1)
    meeting = await room_server.services.meetings.get_live(meeting_id)
    assert meeting is not None
    async with room_server.services.db.read() as conn:
        joins = [e for e in await read_events(conn, meeting.internal_id) if e.type == "user-joined"]
    assert len(joins) == 2  # Ada and Bea once each
    await ada.close()
    await again.close()


async def test_bad_messages_are_refused_and_the_room_stays_healthy(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    bea = await room_server.client(meeting_id, "Bea")
    await bea.expect("welcome")
    cases = [
        ("{not json", "bad_json"),
        ('"just a string"', "bad_message"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "chat.send"}', "invalid"),
        ('{"type": "chat.send", "text": ""}', "invalid"),
        ('{"type": "chat.send", "text": "' + "x" * 1001 + '"}', "invalid"),
        ('{"type": "chat.send", "text": "hi", "extra": 1}', "invalid"),
        ('{"type": "reaction.set", "emoji": "<script>"}', "invalid"),
        ('{"type": "chat.send", "text": "' + "y" * 40000 + '"}', "too_large"),
        ('{"type": "media.audio.join", "sdp": "' + "v" * 25000 + '"}', "invalid"),
        ('{"type": "media.subscribe", "feed": "one"}', "invalid"),
        ('{"type": "media.subscribe", "feed": 0}', "invalid"),
        ('{"type": "media.publish", "kind": "hologram", "sdp": "v=0 xxxxxxxxxx"}', "invalid"),
        ('{"type": "media.quality", "feed": 7, "substream": 3}', "invalid"),
        ('{"type": "media.quality", "feed": 7, "substream": -1}', "invalid"),
        ('{"type": "media.quality", "feed": 7, "substream": 1, "temporal": 5}', "invalid"),
        ('{"type": "media.quality", "feed": 7, "width": 640}', "invalid"),
        ('{"type": "media.quality", "feed": 7, "substream": 1}', "not_found"),
        ('{"type": "media.listen.layer", "feed": 7, "substream": 3}', "invalid"),
        ('{"type": "media.listen.layer", "feed": 0, "substream": 1}', "invalid"),
        ('{"type": "media.listen.layer", "feed": 7, "substream": 1, "temporal": 5}', "invalid"),
        ('{"type": "media.listen.layer", "feed": 7, "substream": 1.5}', "invalid"),
        ('{"type": "media.listen.layer", "feed": 7, "layer": 1}', "invalid"),
        # Not listening (and no relay): refused.
        ('{"type": "media.listen.layer", "feed": 7, "substream": 1}', "not_relayed"),
        # No media server in this test: refused, and the connection stays.
        ('{"type": "media.subscribe", "feed": 7}', "not_found"),
        ('{"type": "media.audio.join", "sdp": "v=0 not really sdp"}', "media_unavailable"),
    ]
    for raw, code in cases:
        await bea.send(raw)
        assert (await bea.expect("error"))["code"] == code, raw
    await bea.send({"type": "ping", "ref": "p"})
    assert (await bea.expect("pong"))["ref"] == "p"
    await ada.send({"type": "chat.send", "text": "still here"})
    assert (await bea.expect("chat.message"))["text"] == "still here"
    await ada.close()
    await bea.close()


async def test_flooding_is_rate_limited_then_cut_off(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    await ada.expect("welcome")
    spammer = await room_server.client(meeting_id, "Spam")
    await spammer.expect("welcome")
    for _ in range(300):
        await spammer.send({"type": "chat.send", "text": "spam"})
    codes = []
    with pytest.raises(websockets.ConnectionClosed):
        for _ in range(1000):  # read everything the server says until it hangs up
            message = json.loads(await asyncio.wait_for(spammer.ws.recv(), 10))
            if message["type"] == "error":
                codes.append(message["code"])
    assert "rate_limited" in codes
    assert spammer.ws.close_code == 4429
    received = 0
    while True:
        try:
            await ada.expect("chat.message", within=0.3)
            received += 1
        except (AssertionError, TimeoutError):
            break
    assert 0 < received <= 20  # the chat bucket let a burst through, not 300
    await ada.send({"type": "ping"})
    await ada.expect("pong")
    await ada.close()


async def test_handshake_and_authentication(room_server: RoomServer) -> None:
    url = room_server.base.replace("http", "ws") + "/room/ws"
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(url)  # no room session
    meeting_id = await room_server.create()
    cookie = await room_server.session(meeting_id, "Ada", "MODERATOR")
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(
            url,
            additional_headers={"Cookie": f"sala_room={cookie}", "Origin": "https://evil.example"},
        )
    client = await RoomClient.open(room_server, cookie, hello=False)
    await client.send({"type": "hello", "version": 99})
    assert (await client.expect("error"))["code"] == "bad_handshake"
    await asyncio.wait_for(client.ws.wait_closed(), 5)
    assert client.ws.close_code == 4400


async def test_send_chat_message_appears_live_and_welcome_is_sanitized(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create(welcome="Hi <b>all</b><script>alert(1)</script>")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    welcome = await ada.expect("welcome")
    assert welcome["meeting"]["welcome"] == "Hi <b>all</b>"
    await room_server.api(
        "sendChatMessage", meetingID=meeting_id, message="From the LMS", userName="Moodle"
    )
    message = await ada.expect("chat.message")
    assert (message["text"], message["from"]["name"]) == ("From the LMS", "Moodle")
    await ada.close()


async def test_after_a_restart_people_who_do_not_come_back_are_marked_left(settings) -> None:  # type: ignore[no-untyped-def]
    from sala.app import build_app
    from sala.meetings.model import Role
    from sala.meetings.specs import CreateSpec, JoinSpec
    from sala.services import build_services

    before = build_services(settings)
    await before.db.migrate()
    meeting = (
        await before.meetings.create(CreateSpec(external_id="restart-room", name="Room"))
    ).meeting
    joined = await before.meetings.join("restart-room", JoinSpec(full_name="Ada", role=Role.VIEWER))
    await before.meetings.user_connected(meeting.internal_id, joined.attendee.internal_user_id)
    await before.db.dispose()  # the process dies with Ada "present"

    after = build_app(
        settings.model_copy(update={"reconnect_grace_after_restart_seconds": 0.2}),
        run_reaper=False,
        run_workers=False,
    )
    async with after.router.lifespan_context(after):
        meetings = after.state.services.meetings
        for _ in range(100):
            live = await meetings.get_live("restart-room")
            assert live is not None
            if not live.attendees:
                break
            await asyncio.sleep(0.05)
        assert live.attendees == ()
        assert live.has_user_joined
