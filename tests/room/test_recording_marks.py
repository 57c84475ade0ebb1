"""Recording marks in the room: autoStartRecording starts at the first join, moderators start and
stop when allowStartStopRecording lets them, everybody sees the indicator, and the marks are in
the log (and survive a restart of the room)."""

from __future__ import annotations

from sala.config import Settings
from sala.events import types
from sala.events.log import read_events
from tests.room.conftest import RoomServer, serve_room


async def marks(server: RoomServer, meeting_id: str) -> list[str]:
    live = await server.services.meetings.get_live(meeting_id)
    assert live is not None
    async with server.services.db.read() as conn:
        events = await read_events(conn, live.internal_id)
    wanted = (types.RECORDING_STARTED, types.RECORDING_STOPPED)
    return [e.type for e in events if e.type in wanted]


async def test_moderators_start_and_stop_and_everybody_sees_it(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(record="true")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    assert welcome["meeting"]["record"] is True
    assert welcome["meeting"]["recording"] is False
    assert welcome["meeting"]["allowStartStopRecording"] is True
    bea = await room_server.client(meeting_id, "Bea")
    await bea.welcomed()

    await bea.send({"type": "recording.set", "recording": True, "ref": "b"})
    assert (await bea.expect_reply("b"))["code"] == "forbidden"
    await ada.send({"type": "recording.set", "recording": True})
    started = await bea.expect("recording.updated")
    assert (started["recording"], started["by"]) == (True, "Ada")
    late = await room_server.client(meeting_id, "Cyd")
    assert (await late.welcomed())["meeting"]["recording"] is True

    await ada.send({"type": "recording.set", "recording": False})
    assert (await bea.expect("recording.updated"))["recording"] is False
    # Asking for the state it is already in changes nothing.
    await ada.send({"type": "recording.set", "recording": False})
    await bea.nothing_of("recording.updated")
    assert await marks(room_server, meeting_id) == [
        types.RECORDING_STARTED,
        types.RECORDING_STOPPED,
    ]


async def test_auto_start_records_from_the_first_join(settings: Settings) -> None:
    async with serve_room(settings) as server:
        meeting_id = await server.create(
            record="true", autoStartRecording="true", allowStartStopRecording="false"
        )
        ada = await server.client(meeting_id, "Ada", "MODERATOR")
        assert (await ada.welcomed())["meeting"]["recording"] is True
        await ada.send({"type": "recording.set", "recording": False, "ref": "a"})
        assert (await ada.expect_reply("a"))["code"] == "forbidden"
        await ada.close()
    # A new room for the same meeting (a restart) knows it is recording, and does not mark again.
    async with serve_room(settings) as server:
        bea = await server.client(meeting_id, "Bea")
        assert (await bea.welcomed())["meeting"]["recording"] is True
        assert await marks(server, meeting_id) == [types.RECORDING_STARTED]


async def test_meetings_without_record_cannot_record(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(autoStartRecording="true")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    assert welcome["meeting"]["recording"] is False
    await ada.send({"type": "recording.set", "recording": True, "ref": "r"})
    reply = await ada.expect_reply("r")
    assert reply["code"] == "disabled" and "not recorded" in reply["message"]
    assert await marks(room_server, meeting_id) == []
