"""Shared notes in the room: concurrent edits merge the same for everyone, newcomers and a
restarted server see the merged text, locks and disabledFeatures hold, bad updates are refused
without harming anyone's connection.

The clients here edit with pycrdt, which speaks Yjs' update format like the browsers' Yjs does
(tests/e2e/test_notes_browser.py types in real pages)."""

from __future__ import annotations

import base64

import pytest
from pycrdt import Doc, Text

from sala.config import Settings
from sala.room import notes
from tests.room.conftest import RoomClient, RoomServer, serve_room


class Writer:
    """One participant's copy of the notes, fed by the room like a browser's."""

    def __init__(self, client: RoomClient, welcome: dict[str, object]) -> None:
        self.client = client
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get("notes", type=Text)
        self.doc.apply_update(base64.b64decode(str(welcome["notes"])))

    async def edit(self, change: object, ref: str | None = None) -> None:
        before = self.doc.get_state()
        with self.doc.transaction():
            change(self.text)  # type: ignore[operator]
        update = self.doc.get_update(before)
        message = {"type": "notes.update", "update": base64.b64encode(update).decode()}
        if ref:
            message["ref"] = ref
        await self.client.send(message)

    async def receive(self, count: int) -> None:
        for _ in range(count):
            relayed = await self.client.expect("notes.update")
            self.doc.apply_update(base64.b64decode(relayed["update"]))


async def writer(server: RoomServer, meeting_id: str, name: str, role: str = "VIEWER") -> Writer:
    client = await server.client(meeting_id, name, role)
    return Writer(client, await client.welcomed())


async def test_concurrent_edits_merge_alike_everywhere(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    bea = await writer(room_server, meeting_id, "Bea")
    assert str(ada.text) == ""

    await ada.edit(lambda t: t.insert(0, "agenda\n"))
    await ada.receive(1)
    await bea.receive(1)
    assert str(bea.text) == "agenda\n"

    # Both type at the end of the same text before seeing the other's change.
    await ada.edit(lambda t: t.insert(len(t), "1. welcome\n"))
    await bea.edit(lambda t: t.insert(len(t), "2. questions\n"))
    await ada.edit(lambda t: t.insert(0, "# "))
    await ada.receive(3)
    await bea.receive(3)
    merged = str(ada.text)
    assert merged == str(bea.text)
    assert merged.startswith("# agenda\n")
    assert "1. welcome\n" in merged and "2. questions\n" in merged
    assert len(merged) == len("# agenda\n1. welcome\n2. questions\n")

    room = room_server.services.rooms.get(
        (await room_server.services.meetings.get_live(meeting_id)).internal_id  # type: ignore[union-attr]
    )
    assert room is not None and room.notes.text == merged

    late = await writer(room_server, meeting_id, "Cyd")
    assert str(late.text) == merged


async def test_notes_survive_a_restart(settings: Settings) -> None:
    async with serve_room(settings) as server:
        meeting_id = await server.create()
        ada = await writer(server, meeting_id, "Ada", "MODERATOR")
        await ada.edit(lambda t: t.insert(0, "kept across restarts"))
        await ada.receive(1)
        await ada.edit(lambda t: t.__delitem__(slice(0, 5)))
        await ada.receive(1)
        await ada.client.close()
    async with serve_room(settings) as server:
        bea = await writer(server, meeting_id, "Bea")
        assert str(bea.text) == "across restarts"
        # The restored copy still merges: an edit made on it reaches the next newcomer.
        await bea.edit(lambda t: t.insert(0, "still "))
        await bea.receive(1)
        cyd = await writer(server, meeting_id, "Cyd")
        assert str(cyd.text) == "still across restarts"


async def test_locked_notes_are_read_only_for_viewers(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(lockSettingsDisableNotes="true")
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    bea = await writer(room_server, meeting_id, "Bea")

    await bea.edit(lambda t: t.insert(0, "viewer text"), ref="v")
    assert (await bea.client.expect_reply("v"))["code"] == "locked"
    await ada.edit(lambda t: t.insert(0, "moderator text"))
    await ada.receive(1)
    assert str(ada.text) == "moderator text"

    # Bea's copy kept her refused edit; she starts over from the room's document.
    await bea.client.send({"type": "notes.sync", "ref": "s"})
    state = await bea.client.expect_reply("s")
    assert state["type"] == "notes.state"
    fresh: Doc[Text] = Doc()
    fresh.apply_update(base64.b64decode(state["update"]))
    assert str(fresh.get("notes", type=Text)) == "moderator text"


async def test_disabled_notes_are_neither_sent_nor_accepted(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(disabledFeatures="sharedNotes")
    client = await room_server.client(meeting_id, "Ada", "MODERATOR")
    welcome = await client.welcomed()
    assert welcome["notes"] is None
    doc: Doc[Text] = Doc()
    doc.get("notes", type=Text).insert(0, "x")
    update = base64.b64encode(doc.get_update()).decode()
    await client.send({"type": "notes.update", "update": update, "ref": "d"})
    assert (await client.expect_reply("d"))["code"] == "disabled"


@pytest.mark.parametrize(
    ("update", "code", "says"),
    [
        ("not base64!", "invalid", "not base64"),
        (base64.b64encode(b"\x05\xff\xff\xff garbage").decode(), "invalid", "could not be decoded"),
        (base64.b64encode(bytes(notes.MAX_UPDATE_BYTES + 1)).decode(), "too_large", "limited to"),
    ],
    ids=["not-base64", "not-yjs", "update-too-large"],
)
async def test_bad_updates_are_refused_and_harm_nobody(
    room_server: RoomServer, update: str, code: str, says: str
) -> None:
    meeting_id = await room_server.create()
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    bea = await writer(room_server, meeting_id, "Bea")
    await ada.edit(lambda t: t.insert(0, "before"))
    await ada.receive(1)
    await bea.receive(1)

    await bea.client.send({"type": "notes.update", "update": update, "ref": "bad"})
    reply = await bea.client.expect_reply("bad")
    assert (reply["type"], reply["code"]) == ("error", code)
    assert says in reply["message"]
    await ada.client.nothing_of("notes.update")

    # Both connections still work and the notes are intact.
    await bea.edit(lambda t: t.insert(len(t), " and after"))
    await ada.receive(1)
    await bea.receive(1)
    assert str(ada.text) == str(bea.text) == "before and after"


async def test_the_notes_have_a_size_limit(
    room_server: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notes, "MAX_TOTAL_BYTES", 200)
    meeting_id = await room_server.create()
    ada = await writer(room_server, meeting_id, "Ada", "MODERATOR")
    await ada.edit(lambda t: t.insert(0, "a" * 100))
    await ada.receive(1)
    await ada.edit(lambda t: t.insert(0, "b" * 150), ref="big")
    reply = await ada.client.expect_reply("big")
    assert reply["code"] == "full"
    assert "size limit" in reply["message"]
