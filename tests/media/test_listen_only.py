"""Listen-only through the meeting's one forwarded mix, over the room protocol, against sala's
real Janus.

The browser's answers are written by hand (tests/media/sdp.py), so no media flows here (the
browser test tests/e2e/test_listen_browser.py hears it). What is checked is what users,
integrators and operators see: the offer and the replies, getMeetingInfo's counts and the BBB
events through every switch, and on Janus one mountpoint and one forwarder per meeting, no
bridge participant for a listener, and nothing left once the meeting ends.
"""

from __future__ import annotations

from typing import Any

import pytest

from sala.media.janus.client import JanusError
from tests.media.sdp import answer_to
from tests.media.test_room_media import join_audio, logged, meeting_info
from tests.room.conftest import RoomClient, RoomServer
from tests.support.janus import plugin_request


async def janus(server: RoomServer, plugin: str, **body: Any) -> dict[str, Any]:
    process = server.services.media.process
    assert process is not None
    name = f"janus.plugin.{plugin}"
    return await plugin_request(process.config.ws_url, process.config.api_secret, name, body)


async def voice_bridge(server: RoomServer, meeting_id: str) -> int:
    return int(str((await meeting_info(server, meeting_id)).findtext("voiceBridge")))


async def listen(client: RoomClient, ref: str = "l") -> dict[str, Any]:
    """The whole listen-only flow: start, the media server's offer, the answer, started."""
    await client.send({"type": "media.listen.start", "ref": ref})
    offer = await client.expect_reply(ref)
    assert offer["type"] == "media.listen.offer", offer
    await client.send({"type": "media.listen.answer", "sdp": answer_to(offer["sdp"]), "ref": ref})
    started = await client.expect_reply(ref)
    assert started["type"] == "media.listen.started", started
    return offer


async def stop_listening(client: RoomClient, ref: str = "s") -> None:
    await client.send({"type": "media.listen.stop", "ref": ref})
    assert (await client.expect_reply(ref))["type"] == "media.listen.stopped"


async def counts(server: RoomServer, meeting_id: str) -> tuple[str | None, str | None]:
    info = await meeting_info(server, meeting_id)
    return info.findtext("voiceParticipantCount"), info.findtext("listenerCount")


async def bridge_participants(server: RoomServer, room: int) -> int:
    return len(
        (await janus(server, "audiobridge", request="listparticipants", room=room))["participants"]
    )


async def test_listeners_watch_one_forwarded_mix_outside_the_bridge(
    media_server: RoomServer,
) -> None:
    meeting_id = await media_server.create()
    room = await voice_bridge(media_server, meeting_id)
    ada = await media_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await media_server.joined(meeting_id, "Bea")
    cyd = await media_server.joined(meeting_id, "Cyd")
    await join_audio(ada)
    # Nothing is forwarded before the first listener comes.
    assert (await janus(media_server, "audiobridge", request="listforwarders", room=room))[
        "rtp_forwarders"
    ] == []

    offer = await listen(bea)
    # Janus offers a send-only Opus stream; the listener sends nothing.
    assert "m=audio" in offer["sdp"] and "a=sendonly" in offer["sdp"]
    assert "opus/48000/2" in offer["sdp"]
    await listen(cyd)
    assert await counts(media_server, meeting_id) == ("1", "2")
    updated = await ada.expect("user.updated", where=lambda m: m["user"]["name"] == "Cyd")
    assert updated["user"]["audio"] == "listen"

    # One forwarder into one mountpoint, whatever the number of listeners; the bridge mixes
    # (and encodes) for Ada only.
    forwarders = (await janus(media_server, "audiobridge", request="listforwarders", room=room))[
        "rtp_forwarders"
    ]
    assert len(forwarders) == 1 and forwarders[0]["codec"] == "opus"
    assert forwarders[0]["ip"] == "127.0.0.1"
    assert await bridge_participants(media_server, room) == 1
    mountpoints = (await janus(media_server, "streaming", request="list"))["list"]
    assert [m["id"] for m in mountpoints] == [room]
    info = (await janus(media_server, "streaming", request="info", id=room))["info"]
    assert info["viewers"] == 2
    assert info["host"] == "127.0.0.1" and info["media"][0]["port"] == forwarders[0]["port"]

    await stop_listening(cyd)
    assert await counts(media_server, meeting_id) == ("1", "1")
    events = await logged(media_server, meeting_id)
    assert [e for e in events if e.startswith("user-audio")] == [
        "user-audio-voice-enabled",
        "user-audio-listen-only-enabled",
        "user-audio-listen-only-enabled",
        "user-audio-listen-only-disabled",
    ]

    # The meeting ends: the mountpoint and the forwarder (with the bridge) are gone.
    await media_server.api("end", meetingID=meeting_id)
    await ada.expect("meeting.ended")
    assert (await janus(media_server, "streaming", request="list"))["list"] == []
    with pytest.raises(JanusError):
        await janus(media_server, "audiobridge", request="listforwarders", room=room)


async def test_switching_between_listening_and_the_microphone_keeps_one_audio_state(
    media_server: RoomServer,
) -> None:
    meeting_id = await media_server.create()
    room = await voice_bridge(media_server, meeting_id)
    bea = await media_server.joined(meeting_id, "Bea")
    await listen(bea)
    assert await counts(media_server, meeting_id) == ("0", "1")

    # Listen-only → microphone: the bridge is joined while the stream still plays, then the
    # stream stops. The user goes from listener to voice once, never out of audio.
    assert (await join_audio(bea))["type"] == "media.audio.answer"
    assert await counts(media_server, meeting_id) == ("1", "0")
    await stop_listening(bea)
    assert await counts(media_server, meeting_id) == ("1", "0")
    assert await bridge_participants(media_server, room) == 1
    assert (await janus(media_server, "streaming", request="info", id=room))["info"]["viewers"] == 0

    # Microphone → listen-only: the stream starts while the microphone is on, then the bridge
    # is left.
    await listen(bea, ref="l2")
    assert await counts(media_server, meeting_id) == ("1", "0")
    await bea.send({"type": "media.audio.leave", "ref": "x"})
    assert (await bea.expect_reply("x"))["type"] == "media.audio.left"
    assert await counts(media_server, meeting_id) == ("0", "1")
    assert await bridge_participants(media_server, room) == 0
    updated = await bea.expect(
        "user.updated",
        where=lambda m: m["user"]["audio"] == "listen" and m["user"]["name"] == "Bea",
    )
    assert updated["user"]["talking"] is False

    # Leaving the audio as a listener stops the stream too.
    await bea.send({"type": "media.audio.leave", "ref": "y"})
    assert (await bea.expect_reply("y"))["type"] == "media.audio.left"
    assert await counts(media_server, meeting_id) == ("0", "0")
    events = await logged(media_server, meeting_id)
    assert [e for e in events if e.startswith("user-audio")] == [
        "user-audio-listen-only-enabled",
        "user-audio-listen-only-disabled",
        "user-audio-voice-enabled",
        "user-audio-voice-disabled",
        "user-audio-listen-only-enabled",
        "user-audio-listen-only-disabled",
    ]


async def test_listen_refusals_and_a_leaving_listener(media_server: RoomServer) -> None:
    meeting_id = await media_server.create()
    bea = await media_server.joined(meeting_id, "Bea")
    cyd = await media_server.joined(meeting_id, "Cyd")
    # An answer with no offer to answer is refused with its ref; the room carries on.
    await bea.send({"type": "media.listen.answer", "sdp": "v=0\r\nnothing", "ref": "a"})
    assert (await bea.expect_reply("a"))["code"] == "not_listening"
    await bea.send({"type": "media.listen.start", "ref": "b"})
    assert (await bea.expect_reply("b"))["type"] == "media.listen.offer"
    await bea.send({"type": "media.listen.answer", "sdp": "v=0 not an answer", "ref": "c"})
    assert (await bea.expect_reply("c"))["type"] == "error"
    assert await counts(media_server, meeting_id) == ("0", "0")
    # Stopping when not listening is harmless.
    await stop_listening(cyd)

    await listen(bea, ref="d")
    await listen(cyd, ref="d")
    await cyd.send({"type": "leave"})
    await bea.expect("user.left")
    assert await counts(media_server, meeting_id) == ("0", "1")
