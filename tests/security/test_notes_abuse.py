"""Probe finding 8: a viewer filled the shared notes' budget (4 MiB in 20 s of edits), every
newcomer's welcome then weighed 5.8 MiB, and the space never came back because deleted text
still counted. Edits are rate-limited per user, the budget counts the document as it is now
(deleting gives space back), and a moderator can reset the notes; the log replays the same
document after a restart, from its latest snapshot."""

from __future__ import annotations

import base64
import random
import re
import string
import time

import pytest
from pycrdt import Doc, Text

from sala.config import Settings
from sala.events import types
from sala.events.log import MeetingEvent, read_all_events
from sala.recordings.timeline import build_timeline
from sala.room import notes
from tests.room.conftest import RoomClient, RoomServer, serve_room
from tests.room.test_notes import Writer, writer
from tests.security.conftest import drain, opened


def words(n: int) -> str:
    """n characters a compressor could not shrink (each update really carries n bytes)."""
    return "".join(random.choices(string.ascii_letters, k=n))


def decoded(update: str) -> str:
    doc: Doc[Text] = Doc()
    doc.apply_update(base64.b64decode(update))
    return str(doc.get("notes", type=Text))


async def internal_id(server: RoomServer, meeting_id: str) -> str:
    meeting = await server.services.meetings.get_live(meeting_id)
    assert meeting is not None
    return meeting.internal_id


async def test_one_user_floods_the_notes_in_vain(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    cookie = await room_server.session(meeting_id, "Eve")
    first = await RoomClient.open(room_server, cookie)
    eve = Writer(first, await first.welcomed())
    second = await opened(room_server, cookie)

    # 80 tiny edits over two sockets: the per-user budget (10 a second, bursts of 40) holds
    # whichever socket they come from.
    start = time.monotonic()
    for n in range(40):
        await eve.edit(lambda t: t.insert(0, "x"), ref=f"a{n}")
        await second.send({"type": "notes.update", "update": tiny_update(n), "ref": f"b{n}"})
    got = await drain(first) + await drain(second)
    elapsed = time.monotonic() - start
    accepted = {m["ref"] for m in got if m["type"] == "notes.update" and m["from"] == eve.client.me}
    refused = [m["code"] for m in got if m["type"] == "error"]
    assert len(accepted) + len(refused) == 80
    assert set(refused) == {"rate_limited"}
    assert len(accepted) <= 40 + 10 * elapsed, (len(accepted), elapsed)
    # A refusal names the edit it refuses, so the page knows to start over (notes.sync).
    assert all(re.fullmatch(r"[ab]\d+", str(m["ref"])) for m in got if m["type"] == "error")

    # Bytes count too: updates of 15 kB are refused after the 128 KiB burst.
    bea = await writer(room_server, meeting_id, "Bea")
    for n in range(12):
        await bea.edit(lambda t: t.insert(len(t), words(15_000)), ref=f"big{n}")
    replies = [m for m in await drain(bea.client) if str(m.get("ref", "")).startswith("big")]
    refused = [m["code"] for m in replies if m["type"] == "error"]
    assert refused and set(refused) == {"rate_limited"} and len(refused) <= 12 - 7

    # Others still edit.
    await ada.edit(lambda t: t.insert(0, "agenda "), ref="ada")
    assert (await ada.client.expect_reply("ada"))["type"] == "notes.update"


def tiny_update(n: int) -> str:
    doc: Doc[Text] = Doc()
    doc.get("notes", type=Text).insert(0, f"{n}")
    return base64.b64encode(doc.get_update()).decode()


def test_deleting_gives_the_space_back_and_newcomers_get_the_compact_document() -> None:
    """The whole budget written, then deleted: the document is tiny again and takes edits."""
    room = notes.SharedNotes()
    source: Doc[Text] = Doc()
    text = source.get("notes", type=Text)

    def send(change: object) -> None:
        before = source.get_state()
        with source.transaction():
            change(text)  # type: ignore[operator]
        room.apply(source.get_update(before))

    with pytest.raises(notes.NotesError) as full:
        while True:
            send(lambda t: t.insert(len(t), words(notes.MAX_UPDATE_BYTES - 100)))
    assert full.value.code == "full"
    # The writer's copy drops the refused edit, as a browser does (notes.sync).
    source = Doc()
    text = source.get("notes", type=Text)
    source.apply_update(room.state())
    assert len(room.state()) > notes.MAX_TOTAL_BYTES * 0.95
    send(lambda t: t.__delitem__(slice(0, len(t))))
    assert room.text == "" and len(room.state()) < 1024  # what a newcomer is sent
    send(lambda t: t.insert(0, words(notes.MAX_UPDATE_BYTES - 100)))  # used to be "full"
    assert len(room.text) == notes.MAX_UPDATE_BYTES - 100


async def test_a_newcomer_gets_a_small_welcome_after_insert_and_delete(
    room_server: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notes, "MAX_TOTAL_BYTES", 48 * 1024)
    meeting_id = await room_server.create()
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    for n in range(3):
        await ada.edit(lambda t: t.insert(len(t), words(13_000)), ref=f"i{n}")
        assert (await ada.client.expect_reply(f"i{n}"))["type"] == "notes.update"
    await ada.edit(lambda t: t.__delitem__(slice(0, len(t))), ref="d")
    assert (await ada.client.expect_reply("d"))["type"] == "notes.update"

    late = await room_server.client(meeting_id, "Late")
    welcome = await late.welcomed()
    assert len(welcome["notes"]) < 1024 and decoded(welcome["notes"]) == ""
    # The space came back.
    await ada.edit(lambda t: t.insert(0, words(13_000)), ref="again")
    assert (await ada.client.expect_reply("again"))["type"] == "notes.update"


async def test_a_moderator_resets_the_notes_and_a_viewer_cannot(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    bea = await writer(room_server, meeting_id, "Bea")
    await bea.edit(lambda t: t.insert(0, "junk " * 100))
    await ada.receive(1)
    await bea.receive(1)

    await bea.client.send({"type": "notes.reset", "ref": "r"})
    assert (await bea.client.expect_reply("r"))["code"] == "forbidden"

    await ada.client.send({"type": "notes.reset", "ref": "reset"})
    for client in (ada.client, bea.client):
        reset = await client.expect("notes.reset")
        assert decoded(reset["update"]) == "" and reset["generation"] == 1
        assert reset["by"] == "Ada"
    welcome = await (await room_server.client(meeting_id, "Cid")).welcomed()
    assert decoded(welcome["notes"]) == "" and welcome["notesGeneration"] == 1

    # An edit made on the document from before the reset is refused (the page starts over);
    # one on the new document goes through.
    stale = base64.b64encode(bea.doc.get_update()).decode()
    await bea.client.send(
        {"type": "notes.update", "update": stale, "generation": 0, "ref": "stale"}
    )
    assert (await bea.client.expect_reply("stale"))["code"] == "stale"
    fresh: Doc[Text] = Doc()
    fresh.get("notes", type=Text).insert(0, "new start")
    await bea.client.send(
        {
            "type": "notes.update",
            "update": base64.b64encode(fresh.get_update()).decode(),
            "generation": 1,
            "ref": "fresh",
        }
    )
    assert (await bea.client.expect_reply("fresh"))["generation"] == 1

    room = room_server.services.rooms.get(await internal_id(room_server, meeting_id))
    assert room is not None and room.notes.text == "new start"
    async with room_server.services.db.read() as conn:
        events = await read_all_events(conn, await internal_id(room_server, meeting_id))
    [logged] = [e for e in events if e.type == types.NOTES_RESET]
    assert logged.user_id == ada.client.me


async def test_the_replay_after_a_restart_is_the_live_document(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sala.room import notes_room

    monkeypatch.setattr(notes_room, "SNAPSHOT_EVERY_UPDATES", 5)
    async with serve_room(settings) as server:
        meeting_id = await server.create()
        ada = await writer(server, meeting_id, "Ada", "MODERATOR")
        bea = await writer(server, meeting_id, "Bea")
        for n in range(12):
            await ada.edit(lambda t, n=n: t.insert(len(t), f"line {n} {words(60)}\n"))
            await bea.edit(lambda t, n=n: t.insert(0, f"{n}. {words(40)} "))
            if n % 4 == 3:
                await ada.edit(lambda t: t.__delitem__(slice(0, 3)))
        await drain(ada.client)
        await ada.client.send({"type": "notes.reset"})
        await drain(ada.client)
        ada = await writer(server, meeting_id, "Ada", "MODERATOR")
        for n in range(9):
            await ada.edit(lambda t, n=n: t.insert(len(t), f"after {n} {words(60)}\n"))
        await drain(ada.client)
        room = server.services.rooms.get(await internal_id(server, meeting_id))
        assert room is not None
        live_text, live_state = room.notes.text, room.notes.state()
        async with server.services.db.read() as conn:
            kinds = [e.type for e in await read_all_events(conn, room.id)]
        assert types.NOTES_SNAPSHOT in kinds and types.NOTES_RESET in kinds

    async with serve_room(settings) as server:
        welcome = await (await server.client(meeting_id, "Cid")).welcomed()
        assert welcome["notesGeneration"] == 1
        restored: Doc[Text] = Doc()
        restored.apply_update(base64.b64decode(welcome["notes"]))
        live: Doc[Text] = Doc()
        live.apply_update(live_state)
        assert str(restored.get("notes", type=Text)) == live_text
        # Same document, not only the same text: neither has anything the other lacks.
        assert decoded_is_empty(restored.get_update(live.get_state()))
        assert decoded_is_empty(live.get_update(restored.get_state()))


def decoded_is_empty(update: bytes) -> bool:
    return update == b"\x00\x00"


def test_replay_starts_from_the_latest_snapshot() -> None:
    """What came before a snapshot is not needed (nor even read) to rebuild the notes."""
    source: Doc[Text] = Doc()
    text = source.get("notes", type=Text)
    text.insert(0, "kept")
    snapshot = base64.b64encode(source.get_update()).decode()
    before = source.get_state()
    text.insert(4, " and more")
    after = base64.b64encode(source.get_update(before)).decode()
    garbage = base64.b64encode(b"\x05\xff\xff\xff not an update").decode()
    events = [
        MeetingEvent(1, "m", 1, types.NOTES_UPDATED, "u", {"update": garbage}),
        MeetingEvent(2, "m", 2, types.NOTES_SNAPSHOT, None, {"update": snapshot, "generation": 0}),
        MeetingEvent(3, "m", 3, types.NOTES_UPDATED, "u", {"update": after}),
    ]
    replayed = notes.SharedNotes()
    from sala.room.notes_room import replay_notes

    replay_notes(replayed, events)
    assert replayed.text == "kept and more"


def test_the_recording_shows_the_reset() -> None:
    source: Doc[Text] = Doc()
    source.get("notes", type=Text).insert(0, "before the reset")
    first = base64.b64encode(source.get_update()).decode()
    fresh: Doc[Text] = Doc()
    fresh.get("notes", type=Text).insert(0, "after")
    second = base64.b64encode(fresh.get_update()).decode()
    events = [
        MeetingEvent(1, "m", 1000, types.RECORDING_STARTED, "u", {}),
        MeetingEvent(2, "m", 2000, types.NOTES_UPDATED, "u", {"update": first}),
        MeetingEvent(3, "m", 9000, types.NOTES_RESET, "u", {"generation": 1}),
        MeetingEvent(4, "m", 16000, types.NOTES_UPDATED, "u", {"update": second}),
    ]
    timeline = build_timeline(events, 20_000)
    assert timeline.notes == "after"
    assert [h["text"] for h in timeline.notes_history] == ["before the reset", "", "after"]
