"""join's userdata-bbb_force_listen_only, enforced by the room's media rules (BBB 3.0: attendees
cannot join with a microphone, listen-only only; moderators are not affected)."""

from __future__ import annotations

from tests.media.sdp import audio_offer
from tests.media.test_room_media import join_audio, meeting_info
from tests.room.conftest import RoomClient, RoomServer

FORCED = {"userdata-bbb_force_listen_only": "true"}


async def joined(server: RoomServer, meeting_id: str, name: str, role: str) -> RoomClient:
    client = await server.client(meeting_id, name, role, **FORCED)
    await client.welcomed()
    return client


async def test_forced_listen_only_viewers_cannot_use_a_microphone(
    media_server: RoomServer,
) -> None:
    meeting_id = await media_server.create()
    ada = await joined(media_server, meeting_id, "Ada", "MODERATOR")
    bea = await joined(media_server, meeting_id, "Bea", "VIEWER")

    # A hand-made microphone offer from Bea is refused by the server, not just hidden by the page.
    await bea.send({"type": "media.audio.join", "sdp": audio_offer(), "ref": "mic"})
    refused = await bea.expect_reply("mic")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert (await join_audio(bea, listen_only=True))["type"] == "media.audio.answer"
    # The moderator's userdata says the same, and does not apply to moderators.
    assert (await join_audio(ada))["type"] == "media.audio.answer"

    info = await meeting_info(media_server, meeting_id)
    assert info.findtext("voiceParticipantCount") == "1"
    assert info.findtext("listenerCount") == "1"

    # Made a moderator, Bea may switch to her microphone (the rule follows the current role).
    await ada.send({"type": "user.role", "user": bea.me, "role": "MODERATOR"})
    await bea.expect("welcome")
    assert (await join_audio(bea))["type"] == "media.audio.answer"
    assert (await meeting_info(media_server, meeting_id)).findtext("voiceParticipantCount") == "2"
