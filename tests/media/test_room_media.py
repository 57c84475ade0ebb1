"""Media rules and bookkeeping over the room protocol, against sala's real Janus.

The offers are written by hand (tests/media/sdp.py): Janus negotiates them, no media flows.
What is checked is what users and integrators see: answers and refusals, getMeetingInfo's
counts, the event log, the feeds each participant is offered, and Janus' handles being freed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from sala.events.log import read_events
from tests.media.conftest import janus_handles
from tests.media.sdp import audio_offer, video_offer
from tests.room.conftest import RoomClient, RoomServer
from tests.support.receiver import Receiver
from tests.xmlutil import parse


async def join_audio(client: RoomClient, listen_only: bool = False) -> dict[str, Any]:
    offer = audio_offer("recvonly" if listen_only else "sendrecv")
    await client.send(
        {"type": "media.audio.join", "sdp": offer, "listenOnly": listen_only, "ref": "a"}
    )
    return await client.expect_reply("a")


async def publish(client: RoomClient, kind: str = "camera", ref: str = "p") -> dict[str, Any]:
    await client.send({"type": "media.publish", "kind": kind, "sdp": video_offer(), "ref": ref})
    return await client.expect_reply(ref)


async def sending(server: RoomServer, meeting_id: str) -> None:
    """Mark the meeting's published feeds as sending, as Janus' webrtcup does once a browser's
    media arrives. Hand-written offers never connect, so the tests say it in Janus' place; the
    browser tests see the real event."""
    internal = (await meeting_info(server, meeting_id)).findtext("internalMeetingID")
    room = server.services.rooms.get(str(internal))
    assert room is not None
    for feed in list(room.media.feeds.values()):
        await room.media.feed_up(feed)


async def meeting_info(server: RoomServer, meeting_id: str) -> Any:
    return parse(await server.api("getMeetingInfo", meetingID=meeting_id))


def attendee(info: Any, name: str) -> Any:
    for a in info.iter("attendee"):
        if a.findtext("fullName") == name:
            return a
    raise AssertionError(f"{name} is not in getMeetingInfo")


async def logged(server: RoomServer, meeting_id: str) -> list[str]:
    internal = (await meeting_info(server, meeting_id)).findtext("internalMeetingID")
    async with server.services.db.read() as conn:
        return [e.type for e in await read_events(conn, internal)]


async def test_microphone_and_listen_only_are_counted_and_logged(
    media_server: RoomServer,
) -> None:
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")

    answer = await join_audio(ada)
    assert answer["type"] == "media.audio.answer" and answer["sdp"].startswith("v=0")
    assert (await bea.expect("user.updated", where=lambda m: m["user"]["name"] == "Ada"))["user"][
        "audio"
    ] == "mic"
    # A listen-only offer must not send: the server checks what the browser offers.
    await bea.send(
        {"type": "media.audio.join", "sdp": audio_offer(), "listenOnly": True, "ref": "x"}
    )
    assert (await bea.expect_reply("x"))["code"] == "bad_sdp"
    assert (await join_audio(bea, listen_only=True))["type"] == "media.audio.answer"

    info = await meeting_info(media_server, meeting_id)
    assert info.findtext("voiceParticipantCount") == "1"
    assert info.findtext("listenerCount") == "1"
    assert attendee(info, "Ada").findtext("hasJoinedVoice") == "true"
    assert attendee(info, "Ada").findtext("isListeningOnly") == "false"
    assert attendee(info, "Bea").findtext("hasJoinedVoice") == "false"
    assert attendee(info, "Bea").findtext("isListeningOnly") == "true"

    # Switching Bea to the microphone without leaving.
    assert (await join_audio(bea))["type"] == "media.audio.answer"
    info = await meeting_info(media_server, meeting_id)
    assert info.findtext("voiceParticipantCount") == "2"
    assert info.findtext("listenerCount") == "0"

    await ada.send({"type": "media.audio.leave", "ref": "l"})
    assert (await ada.expect_reply("l"))["type"] == "media.audio.left"
    assert (await meeting_info(media_server, meeting_id)).findtext("voiceParticipantCount") == "1"
    events = await logged(media_server, meeting_id)
    assert [e for e in events if e.startswith("user-audio")] == [
        "user-audio-voice-enabled",
        "user-audio-listen-only-enabled",
        "user-audio-listen-only-disabled",
        "user-audio-voice-enabled",
        "user-audio-voice-disabled",
    ]


async def test_mute_on_start_locks_and_moderators(media_server: RoomServer) -> None:
    meeting_id = await media_server.create(muteOnStart="true")
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    await join_audio(ada)
    await join_audio(bea)
    who = lambda name: lambda m: m["user"]["name"] == name  # noqa: E731
    assert (await ada.expect("user.updated", where=who("Bea")))["user"]["muted"] is True

    await bea.send({"type": "media.audio.mute", "muted": False, "ref": "u"})
    assert (await bea.expect_reply("u"))["type"] == "media.ok"
    assert (await ada.expect("user.updated", where=who("Bea")))["user"]["muted"] is False

    # A viewer cannot mute others; a moderator can, but not unmute them (allowModsToUnmuteUsers).
    await bea.send({"type": "media.audio.mute", "muted": True, "user": ada.me, "ref": "m"})
    assert (await bea.expect_reply("m"))["code"] == "forbidden"
    await ada.send({"type": "media.audio.mute", "muted": True, "user": bea.me, "ref": "m2"})
    assert (await ada.expect_reply("m2"))["type"] == "media.ok"
    assert (await bea.expect("user.updated", where=who("Bea")))["user"]["muted"] is True
    await ada.send({"type": "media.audio.mute", "muted": False, "user": bea.me, "ref": "m3"})
    assert (await ada.expect_reply("m3"))["code"] == "forbidden"

    # Locking microphones: viewers can no longer unmute, nor join with one.
    await ada.send({"type": "lock.set", "disableMic": True})
    await bea.expect("locks.updated")
    await bea.send({"type": "media.audio.mute", "muted": False, "ref": "u2"})
    assert (await bea.expect_reply("u2"))["code"] == "locked"
    await bea.send({"type": "media.audio.join", "sdp": audio_offer(), "ref": "j"})
    assert (await bea.expect_reply("j"))["code"] == "locked"
    assert (await join_audio(bea, listen_only=True))["type"] == "media.audio.answer"

    events = await logged(media_server, meeting_id)
    assert events.count("user-audio-muted") == 1
    assert events.count("user-audio-unmuted") == 1


async def test_webcams_follow_locks_caps_and_visibility(media_server: RoomServer) -> None:
    meeting_id = await media_server.create(webcamsOnlyForModerator="true", meetingCameraCap="2")
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    cyd = await media_server.joined(meeting_id, "Cyd")

    published = await publish(bea)
    assert published["type"] == "media.published" and published["sdp"].startswith("v=0")
    bea_feed = published["feed"]
    # Nobody is offered a feed before its media flows.
    await cyd.send({"type": "media.subscribe", "feed": bea_feed, "ref": "s0"})
    assert (await cyd.expect_reply("s0"))["code"] == "not_found"
    await sending(media_server, meeting_id)
    # The moderator is offered Bea's webcam; the other viewer is not, and cannot ask for it.
    feeds = await ada.expect("media.feeds", where=lambda m: bool(m["feeds"]))
    assert [(f["id"], f["kind"]) for f in feeds["feeds"]] == [(bea_feed, "camera")]
    assert (await cyd.expect("media.feeds"))["feeds"] == []
    await cyd.send({"type": "media.subscribe", "feed": bea_feed, "ref": "s"})
    assert (await cyd.expect_reply("s"))["code"] == "not_found"

    assert (await publish(ada))["type"] == "media.published"
    # Third webcam: over meetingCameraCap.
    assert (await publish(cyd))["code"] == "camera_cap"
    info = await meeting_info(media_server, meeting_id)
    assert info.findtext("videoCount") == "2"
    assert attendee(info, "Bea").findtext("hasVideo") == "true"
    assert attendee(info, "Cyd").findtext("hasVideo") == "false"

    # Locking webcams stops the viewers' ones at once.
    await ada.send({"type": "lock.set", "disableCam": True})
    stopped = await bea.expect("media.stopped")
    assert stopped["kind"] == "camera" and stopped["by"] == "lock"
    assert (await publish(bea, ref="p2"))["code"] == "locked"
    assert (await meeting_info(media_server, meeting_id)).findtext("videoCount") == "1"
    events = await logged(media_server, meeting_id)
    assert events.count("user-cam-broadcast-start") == 2
    assert events.count("user-cam-broadcast-end") == 1


async def test_moderator_ejects_a_webcam_only_when_allowed(media_server: RoomServer) -> None:
    for allowed in ("false", "true"):
        meeting_id = await media_server.create(allowModsToEjectCameras=allowed)
        ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
        bea = await media_server.joined(meeting_id, "Bea")
        await publish(bea)
        await ada.send({"type": "media.unpublish", "kind": "camera", "user": bea.me, "ref": "e"})
        reply = await ada.expect_reply("e")
        if allowed == "true":
            assert reply["type"] == "media.ok"
            assert (await bea.expect("media.stopped"))["by"] == "moderator"
        else:
            assert reply["code"] == "forbidden"
        await ada.close()
        await bea.close()


async def test_only_the_presenter_shares_a_screen(media_server: RoomServer) -> None:
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")  # the first moderator presents
    bea = await media_server.joined(meeting_id, "Bea")
    assert (await publish(bea, "screen"))["code"] == "forbidden"
    shared = await publish(ada, "screen")
    assert shared["type"] == "media.published"
    await sending(media_server, meeting_id)
    feeds = await bea.expect("media.feeds", where=lambda m: bool(m["feeds"]))
    assert feeds["feeds"][0]["kind"] == "screen"
    # Making Bea presenter ends Ada's share.
    await ada.send({"type": "user.presenter", "user": bea.me})
    assert (await ada.expect("media.stopped"))["by"] == "presenter"
    assert (await bea.expect("media.feeds", where=lambda m: not m["feeds"]))["feeds"] == []
    assert "meeting-screenshare-stopped" in await logged(media_server, meeting_id)

    disabled = await media_server.create(disabledFeatures="screenshare")
    dan = await media_server.joined(disabled, "Dan", "MODERATOR")
    assert (await publish(dan, "screen"))["code"] == "disabled"


async def test_a_subscriber_chooses_the_layer_of_a_webcam_not_of_a_screen(
    media_server: RoomServer,
) -> None:
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    camera = (await publish(bea))["feed"]
    screen = (await publish(ada, "screen"))["feed"]
    await sending(media_server, meeting_id)
    await bea.expect("media.feeds", where=lambda m: bool(m["feeds"]))

    async def quality(ref: str, feed: int, **wanted: int) -> dict[str, Any]:
        await ada.send({"type": "media.quality", "feed": feed, "ref": ref, **wanted})
        return await ada.expect_reply(ref)

    # Not subscribed: nothing to configure. (Janus subscribes nobody to hand-written offers,
    # which never send media; the accepted choice is tested with Chromium in
    # tests/e2e/test_simulcast_browser.py.)
    assert (await quality("q0", camera, substream=0))["code"] == "not_subscribed"
    assert (await quality("q1", camera, substream=2, temporal=1))["code"] == "not_subscribed"
    # A screen has one layer, at full quality; one's own feed and unknown ones are refused.
    await bea.send({"type": "media.quality", "feed": screen, "substream": 0, "ref": "q2"})
    screen_refused = await bea.expect_reply("q2")
    assert screen_refused["code"] == "invalid" and "screen" in screen_refused["message"]
    await bea.send({"type": "media.quality", "feed": camera, "substream": 0, "ref": "q3"})
    assert (await bea.expect_reply("q3"))["code"] == "invalid"
    assert (await quality("q4", 9999, substream=1))["code"] == "not_found"
    # The room carries on.
    await ada.send({"type": "ping", "ref": "p"})
    assert (await ada.expect_reply("p"))["type"] == "pong"


async def test_leaving_and_ending_free_janus_handles(media_server: RoomServer) -> None:
    before = await janus_handles(media_server)
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    await join_audio(ada)
    await publish(ada)
    await join_audio(bea, listen_only=True)
    await publish(bea)

    during = await janus_handles(media_server)
    assert during == before + 4  # audio and camera, for each
    await bea.send({"type": "leave"})
    await ada.expect("user.left")
    assert await janus_handles(media_server) == during - 2
    await media_server.api("end", meetingID=meeting_id)
    await ada.expect("meeting.ended")
    assert await janus_handles(media_server) == before


async def test_a_vanished_client_is_cleaned_up(
    media_server: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sala.room.room.RECONNECT_GRACE_S", 0.2)
    before = await janus_handles(media_server)
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    await join_audio(bea)
    await publish(bea)
    assert await janus_handles(media_server) == before + 2
    bea.ws.transport.abort()  # the network went away: no close frame, no leave
    await ada.expect("user.left", within=5)
    assert await janus_handles(media_server) == before
    info = await meeting_info(media_server, meeting_id)
    assert info.findtext("voiceParticipantCount") == "0"
    assert info.findtext("videoCount") == "0"


async def test_another_meetings_feed_is_out_of_reach(media_server: RoomServer) -> None:
    first = await media_server.create()
    second = await media_server.create()
    ada = await media_server.joined(first, "Ada", "MODERATOR")
    eve = await media_server.joined(second, "Eve", "MODERATOR")
    feed = (await publish(ada))["feed"]
    await eve.send({"type": "media.subscribe", "feed": feed, "ref": "s"})
    assert (await eve.expect_reply("s"))["code"] == "not_found"
    await eve.send({"type": "media.answer", "feed": feed, "sdp": audio_offer(), "ref": "a"})
    assert (await eve.expect_reply("a"))["code"] == "not_found"


async def test_malformed_sdp_is_refused_and_the_room_carries_on(media_server: RoomServer) -> None:
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    for sdp in ("v=0\r\nthis is not sdp at all\r\n", "hello, Janus" + "!" * 20):
        await ada.send({"type": "media.publish", "kind": "camera", "sdp": sdp, "ref": "p"})
        reply = await ada.expect_reply("p")
        assert reply["type"] == "error" and reply["code"] in ("bad_sdp", "media_refused"), reply
    await ada.send({"type": "media.audio.join", "sdp": "v=0\r\nnope\r\n", "ref": "j"})
    assert (await ada.expect_reply("j"))["code"] in ("bad_sdp", "media_refused")
    # Nothing was published or joined, and everybody is still connected.
    assert (await meeting_info(media_server, meeting_id)).findtext("videoCount") == "0"
    await ada.send({"type": "chat.send", "text": "still here"})
    assert (await bea.expect("chat.message"))["text"] == "still here"
    assert (await join_audio(ada))["type"] == "media.audio.answer"


async def test_media_changes_reach_webhooks_as_bbb_events(
    media_server: RoomServer, receiver: Receiver
) -> None:
    await media_server.api("hooks/create", callbackURL=receiver.url("/hook"))
    meeting_id = await media_server.create()
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    await join_audio(ada)
    await ada.send({"type": "media.audio.mute", "muted": True, "ref": "m"})
    await ada.expect_reply("m")
    await publish(ada)
    await ada.send({"type": "media.unpublish", "kind": "camera", "ref": "u"})
    await ada.expect_reply("u")

    wanted = [
        "user-audio-voice-enabled",
        "user-audio-muted",
        "user-cam-broadcast-start",
        "user-cam-broadcast-end",
    ]

    def media_events() -> list[dict[str, Any]]:
        out = []
        for request in receiver.accepted():
            [event] = json.loads(request.form["event"][0])
            if event["data"]["id"] in wanted:
                out.append(event["data"])
        return out

    for _ in range(100):
        if len(media_events()) == len(wanted):
            break
        await asyncio.sleep(0.1)
    events = media_events()
    assert [e["id"] for e in events] == wanted
    users = [e["attributes"]["user"] for e in events]
    assert all(u["internal-user-id"] == ada.me for u in users)
    assert users[0]["sharing-mic"] is True and users[0]["listening-only"] is False
    assert users[1]["muted"] is True
    assert users[2]["stream"] == users[3]["stream"]


async def start_echo(client: RoomClient, ref: str = "e") -> dict[str, Any]:
    await client.send({"type": "media.echo.start", "sdp": audio_offer(), "ref": ref})
    return await client.expect_reply(ref)


async def test_the_echo_test_answers_refuses_and_frees_its_handle(
    media_server: RoomServer,
) -> None:
    before = await janus_handles(media_server)
    meeting_id = await media_server.create(lockSettingsDisableMic="true")
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    forced = await media_server.client(
        meeting_id, "Fay", "VIEWER", **{"userdata-bbb_force_listen_only": "true"}
    )
    await forced.welcomed()

    answer = await start_echo(ada)
    assert answer["type"] == "media.echo.answer", answer
    assert answer["sdp"].startswith("v=0") and "m=audio" in answer["sdp"]
    assert await janus_handles(media_server) == before + 1
    again = await start_echo(ada, "e2")  # a new check replaces the running one
    assert again["type"] == "media.echo.answer"
    assert await janus_handles(media_server) == before + 1
    await ada.send({"type": "media.echo.stop", "ref": "s"})
    assert (await ada.expect_reply("s"))["type"] == "media.ok"
    assert await janus_handles(media_server) == before

    # Whoever may not speak may not test a microphone either.
    assert (await start_echo(bea))["code"] == "locked"
    await ada.send({"type": "lock.set", "disableMic": False})
    await forced.expect("locks.updated")
    assert (await start_echo(forced))["code"] == "forbidden"
    assert await janus_handles(media_server) == before

    # Joining the audio ends the check; so does leaving.
    await start_echo(ada)
    await join_audio(ada)
    assert await janus_handles(media_server) == before + 1  # the audio only
    await start_echo(bea)
    assert await janus_handles(media_server) == before + 2
    await bea.send({"type": "leave"})
    await ada.expect("user.left")
    assert await janus_handles(media_server) == before + 1
    await media_server.api("end", meetingID=meeting_id)
    await ada.expect("meeting.ended")
    assert await janus_handles(media_server) == before
