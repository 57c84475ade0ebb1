"""Protocol version 2 beyond chat: pushed and enforced layouts, the live guest policy, clearing
everybody's status, pointers and cursors, and the new whiteboard kinds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sala.config import Settings
from sala.events.log import read_all_events
from tests.room.conftest import RoomClient, RoomServer, serve_room


async def test_both_versions_shake_hands(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    for version in (1, 2, 3):
        cookie = await room_server.session(meeting_id, f"V{version}")
        client = await RoomClient.open(room_server, cookie, hello=False)
        await client.send({"type": "hello", "version": version})
        assert (await client.welcomed())["version"] == 3
    client = await RoomClient.open(
        room_server, await room_server.session(meeting_id, "V4"), hello=False
    )
    await client.send({"type": "hello", "version": 4})
    assert (await client.expect("error"))["code"] == "bad_handshake"


async def test_a_pushed_layout_reaches_everyone_and_late_joiners(settings: Settings) -> None:
    async with serve_room(settings) as server:
        meeting_id = await server.create()
        ada = await server.joined(meeting_id, "Ada", "MODERATOR")
        bea = await server.client(meeting_id, "Bea", enforceLayout="cameras_only")
        welcome = await bea.welcomed()
        assert welcome["meeting"]["pushedLayout"] is None
        assert welcome["enforceLayout"] == "CAMERAS_ONLY"
        await bea.send({"type": "layout.push", "layout": "VIDEO_FOCUS", "ref": "b"})
        assert (await bea.expect_reply("b"))["code"] == "forbidden"
        await ada.send({"type": "layout.push", "layout": "NOT_A_LAYOUT", "ref": "x"})
        assert (await ada.expect_reply("x"))["code"] == "invalid"
        await ada.send({"type": "layout.push", "layout": "VIDEO_FOCUS"})
        pushed = await bea.expect("layout.pushed")
        assert pushed["layout"] == "VIDEO_FOCUS" and pushed["by"] == {"id": ada.me, "name": "Ada"}
        cyd = await server.client(meeting_id, "Cyd")
        late = await cyd.welcomed()
        assert late["meeting"]["pushedLayout"] == "VIDEO_FOCUS" and late["enforceLayout"] is None
    async with serve_room(settings) as server:  # kept in the meeting's settings
        dan = await server.client(meeting_id, "Dan")
        assert (await dan.welcomed())["meeting"]["pushedLayout"] == "VIDEO_FOCUS"


async def test_layouts_can_be_disabled(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(disabledFeatures="layouts")
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    await ada.send({"type": "layout.push", "layout": "SMART_LAYOUT", "ref": "l"})
    assert (await ada.expect_reply("l"))["code"] == "disabled"


async def test_guest_policy_switches_decide_for_the_waiting(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(guestPolicy="ASK_MODERATOR")
    ada = await room_server.client(meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    assert welcome["meeting"]["guestPolicy"] == "ASK_MODERATOR"
    bea = await room_server.client(meeting_id, "Bea", guest="false")
    await bea.welcomed()
    await bea.send({"type": "guest.policy", "policy": "ALWAYS_ACCEPT", "ref": "b"})
    assert (await bea.expect_reply("b"))["code"] == "forbidden"

    gil = await room_server.client(meeting_id, "Gil", guest="true")
    await gil.expect("lobby.waiting")
    await ada.send({"type": "guest.policy", "policy": "ALWAYS_ACCEPT"})
    changed = await ada.expect("guest.policy")
    assert changed["policy"] == "ALWAYS_ACCEPT" and changed["by"]["name"] == "Ada"
    await bea.nothing_of("guest.policy")  # moderators only
    assert (await gil.welcomed())["you"]["name"] == "Gil"
    # New guests now come straight in.
    hal = await room_server.client(meeting_id, "Hal", guest="true")
    await hal.welcomed()

    await ada.send({"type": "guest.policy", "policy": "ASK_MODERATOR"})
    await ada.expect("guest.policy", policy="ASK_MODERATOR")
    ivy = await room_server.client(meeting_id, "Ivy", guest="true")
    await ivy.expect("lobby.waiting")
    await ada.send({"type": "guest.policy", "policy": "ALWAYS_DENY"})
    await ivy.expect("guest.denied")
    await asyncio.wait_for(ivy.ws.wait_closed(), 5)
    joined = await room_server.http.get(
        room_server.signed("join", {"meetingID": meeting_id, "fullName": "Jo", "guest": "true"})
    )
    # Joins from now on follow the new policy: turned away, never handed a room session.
    assert "/room/join" not in joined.headers.get("location", "")


async def test_status_clear_resets_everyone(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    cyd = await room_server.joined(meeting_id, "Cyd")
    await bea.send({"type": "hand.set", "raised": True})
    await bea.send({"type": "reaction.set", "emoji": "👏"})
    await cyd.send({"type": "away.set", "away": True})
    await ada.expect("user.updated", where=lambda m: m["user"]["away"])
    await ada.expect("user.updated", where=lambda m: m["user"]["reaction"] == "👏")
    await cyd.send({"type": "status.clear", "ref": "c"})
    assert (await cyd.expect_reply("c"))["code"] == "forbidden"
    ada.inbox.clear()
    await ada.send({"type": "status.clear"})

    def cleared(user_id: str) -> Callable[[dict[str, Any]], bool]:
        def check(message: dict[str, Any]) -> bool:
            user = message["user"]
            return bool(
                user["id"] == user_id and not (user["hand"] or user["reaction"] or user["away"])
            )

        return check

    for who in (bea.me, cyd.me):
        await cyd.expect("user.updated", where=cleared(who))
    # Ada had nothing to clear.
    await cyd.nothing_of("user.updated", wait=0.3, where=lambda m: m["user"]["id"] == ada.me)
    live = await room_server.services.meetings.get_live(meeting_id)
    assert live is not None
    async with room_server.services.db.read() as conn:
        events = await read_all_events(conn, live.internal_id)
    logged = [(e.type, e.user_id, e.data) for e in events[-3:]]
    assert logged == [
        ("user-raise-hand-changed", bea.me, {"raised": False}),
        ("user-emoji-changed", bea.me, {"emoji": "none"}),
        ("user-away-changed", cyd.me, {"away": False}),
    ]


async def test_the_presenters_pointer_and_multi_user_cursors(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(lockSettingsHideViewersCursor="true")
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")  # presenter
    bea = await room_server.joined(meeting_id, "Bea")
    cyd = await room_server.joined(meeting_id, "Cyd")
    await ada.send({"type": "pointer.move", "x": 0.25, "y": 0.5})
    pointer = await bea.expect("pointer")
    assert pointer == {"type": "pointer", "user": ada.me, "name": "Ada", "x": 0.25, "y": 0.5}
    await ada.nothing_of("pointer", wait=0.1)
    await ada.send({"type": "pointer.move", "x": None, "y": None})
    assert (await cyd.expect("pointer", where=lambda m: m["x"] is None))["y"] is None
    await bea.send({"type": "pointer.move", "x": 0.1, "y": 0.1, "ref": "b"})
    assert (await bea.expect_reply("b"))["code"] == "forbidden"
    await bea.send({"type": "pointer.move", "x": 0.1, "ref": "half"})
    assert (await bea.expect_reply("half"))["code"] == "invalid"

    # Everybody points while everybody may draw; hidden viewers' cursors reach moderators only.
    await ada.send({"type": "whiteboard.multi", "enabled": True})
    await bea.expect("whiteboard.multi")
    await cyd.expect("whiteboard.multi")
    await bea.send({"type": "pointer.move", "x": 0.3, "y": 0.3})
    assert (await ada.expect("pointer"))["user"] == bea.me
    await cyd.nothing_of("pointer", where=lambda m: m["user"] == bea.me)
    await ada.send({"type": "lock.set", "hideViewersCursor": False})
    assert (await cyd.expect("locks.updated"))["locks"]["hideViewersCursor"] is False
    await bea.send({"type": "pointer.move", "x": 0.4, "y": 0.4})
    assert (await cyd.expect("pointer", where=lambda m: m["user"] == bea.me))["x"] == 0.4


async def test_pointer_moves_have_their_own_budget(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    for i in range(60):
        await ada.send({"type": "pointer.move", "x": i / 100, "y": 0.5})
    await ada.send({"type": "chat.send", "text": "after the storm", "ref": "c"})
    # The general budget (bursts of 40) is untouched: the chat goes through.
    assert (await ada.expect_reply("c"))["type"] == "chat.message"
    await bea.expect("chat.message")
    received = []
    while True:
        try:
            received.append(await bea.expect("pointer", within=0.3))
        except (AssertionError, TimeoutError):
            break
    assert 30 <= len(received) < 40  # the burst, and what refilled while sending
    await ada.nothing_of("error", wait=0.1)  # dropped, not refused


def shape(shape_id: str, tool: str, **extra: object) -> dict[str, object]:
    return {"id": shape_id, "tool": tool, "points": [[0.1, 0.1], [0.3, 0.2]], **extra}


async def test_new_shapes_and_updates_replayed_after_a_restart(settings: Settings) -> None:
    async with serve_room(settings) as server:
        meeting_id = await server.create()
        ada = await server.client(meeting_id, "Ada", "MODERATOR")
        where = {"presentation": (await ada.welcomed())["current"], "page": 1}
        bea = await server.joined(meeting_id, "Bea")
        for sent in (
            shape("h1", "highlighter", width=0.03, color="#fde047"),
            shape("a1", "arrow"),
            {
                "id": "n1",
                "tool": "note",
                "points": [[0.5, 0.5]],
                "text": "Remember",
                "color": "#fef08a",
            },
        ):
            await ada.send({"type": "draw.add", **where, "shape": sent})
            assert (await bea.expect("draw.added"))["shape"]["tool"] == sent["tool"]
        for bad in (
            {"id": "x", "tool": "arrow", "points": [[0.1, 0.1]]},
            {"id": "x", "tool": "note", "points": [[0.1, 0.1]]},
            {"id": "x", "tool": "highlighter", "points": [[0.1, 0.1]], "width": 0.2},
        ):
            await ada.send({"type": "draw.add", **where, "shape": bad, "ref": "bad"})
            assert (await ada.expect_reply("bad"))["code"] == "invalid", bad

        moved = shape("a1", "arrow", color="#2563eb")
        moved["points"] = [[0.6, 0.6], [0.9, 0.7]]
        await ada.send({"type": "draw.update", **where, "shape": moved})
        updated = await bea.expect("draw.updated")
        assert updated["shape"]["points"] == [[0.6, 0.6], [0.9, 0.7]]
        assert updated["shape"]["author"] == ada.me

        # Viewers change only their own, with the multi-user whiteboard on; the tool stays.
        await bea.send({"type": "draw.update", **where, "shape": moved, "ref": "v"})
        assert (await bea.expect_reply("v"))["code"] == "forbidden"
        await ada.send({"type": "whiteboard.multi", "enabled": True})
        await bea.expect("whiteboard.multi")
        await bea.send({"type": "draw.update", **where, "shape": moved, "ref": "v2"})
        assert (await bea.expect_reply("v2"))["code"] == "forbidden"
        await bea.send({"type": "draw.add", **where, "shape": shape("b1", "rect")})
        await bea.expect("draw.added", where=lambda m: m["shape"]["id"] == "b1")
        await bea.send(
            {"type": "draw.update", **where, "shape": shape("b1", "ellipse"), "ref": "t"}
        )
        assert (await bea.expect_reply("t"))["code"] == "invalid"
        await bea.send({"type": "draw.update", **where, "shape": shape("zz", "rect"), "ref": "n"})
        assert (await bea.expect_reply("n"))["code"] == "not_found"
        await bea.send(
            {"type": "draw.update", **where, "shape": shape("b1", "rect", color="#000000")}
        )
        recoloured = await ada.expect("draw.updated", where=lambda m: m["shape"]["id"] == "b1")
        assert recoloured["shape"]["color"] == "#000000"
        await ada.close()
        await bea.close()
    async with serve_room(settings) as server:
        cyd = await server.client(meeting_id, "Cyd")
        shapes = (await cyd.welcomed())["annotations"]["1"]
        by_id = {s["id"]: s for s in shapes}
        assert [s["id"] for s in shapes] == ["h1", "a1", "n1", "b1"]
        assert by_id["a1"]["points"] == [[0.6, 0.6], [0.9, 0.7]]
        assert by_id["a1"]["color"] == "#2563eb" and by_id["b1"]["color"] == "#000000"
        assert by_id["n1"]["text"] == "Remember"
