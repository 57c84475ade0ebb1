"""The presentation in the room: what participants are told, who may turn pages, slide images
behind the room cookie, and uploads from the room."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from sala.config import Settings
from tests.presentations import documents
from tests.room.conftest import RoomClient, RoomServer, serve_room


@pytest.fixture
async def room_server(settings: Settings) -> AsyncIterator[RoomServer]:
    async with serve_room(settings) as server:
        yield server


def as_(cookie: str) -> dict[str, str]:
    return {"Cookie": f"sala_room={cookie}"}


async def enter(
    server: RoomServer, meeting_id: str, name: str, role: str
) -> tuple[RoomClient, str]:
    cookie = await server.session(meeting_id, name, role)
    client = await RoomClient.open(server, cookie)
    return client, cookie


async def test_presenter_turns_pages_and_everyone_follows(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    await room_server.services.presentations.wait_idle()
    ada, ada_cookie = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    [default] = welcome["presentations"]
    assert welcome["current"] == default["id"] and default["pages"] == 1
    bea, bea_cookie = await enter(room_server, meeting_id, "Bea", "VIEWER")
    await bea.welcomed()

    # Ada uploads a 3-page PDF from the room; it becomes current when ready.
    uploaded = await room_server.http.post(
        f"{room_server.base}/room/upload",
        files={"file": ("week1.pdf", documents.pdf(3), "application/pdf")},
        headers=as_(ada_cookie),
    )
    assert uploaded.status_code == 202, uploaded.text
    update = await bea.expect(
        "presentation.updated",
        within=15,
        where=lambda m: any(p["state"] == "ready" and p["pages"] == 3 for p in m["presentations"]),
    )
    week1 = next(p for p in update["presentations"] if p["name"] == "week1.pdf")
    assert update["current"] == week1["id"]

    await ada.send({"type": "presentation.page", "page": 2})
    turned = await bea.expect("presentation.page")
    assert (turned["presentation"], turned["page"]) == (week1["id"], 2)
    # A viewer cannot turn pages, nor go past the end.
    await bea.send({"type": "presentation.page", "page": 3, "ref": "v"})
    assert (await bea.expect_reply("v"))["code"] == "forbidden"
    await ada.send({"type": "presentation.page", "page": 4, "ref": "p"})
    assert (await ada.expect_reply("p"))["code"] == "not_found"

    # Slides are served to participants of this meeting only.
    slide = await room_server.http.get(
        f"{room_server.base}/room/slides/{week1['id']}/2", headers=as_(bea_cookie)
    )
    assert slide.status_code == 200 and slide.content.startswith(b"\x89PNG")
    thumb = await room_server.http.get(
        f"{room_server.base}/room/slides/{week1['id']}/2?thumb=1", headers=as_(bea_cookie)
    )
    assert len(thumb.content) < len(slide.content)
    assert (
        await room_server.http.get(
            f"{room_server.base}/room/slides/{week1['id']}/9", headers=as_(bea_cookie)
        )
    ).status_code == 404
    async with httpx.AsyncClient() as stranger:
        anonymous = await stranger.get(f"{room_server.base}/room/slides/{week1['id']}/1")
    assert anonymous.status_code == 401
    other = await room_server.create()
    _, eve_cookie = await enter(room_server, other, "Eve", "MODERATOR")
    stolen = await room_server.http.get(
        f"{room_server.base}/room/slides/{week1['id']}/1", headers=as_(eve_cookie)
    )
    assert stolen.status_code == 404

    # Viewers cannot upload; a page turn survives a reconnect.
    refused = await room_server.http.post(
        f"{room_server.base}/room/upload",
        files={"file": ("x.pdf", documents.pdf(1), "application/pdf")},
        headers=as_(bea_cookie),
    )
    assert refused.status_code == 403
    again = await RoomClient.open(room_server, bea_cookie)
    rejoined = await again.welcomed()
    shown = next(p for p in rejoined["presentations"] if p["id"] == rejoined["current"])
    assert (shown["name"], shown["page"]) == ("week1.pdf", 2)


async def test_the_presenter_switches_between_presentations(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada, ada_cookie = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    await ada.welcomed()
    await room_server.http.post(
        f"{room_server.base}/room/upload",
        files={"file": ("board.png", documents.png(), "image/png")},
        headers=as_(ada_cookie),
    )
    await room_server.services.presentations.wait_idle()
    update = await ada.expect(
        "presentation.updated",
        where=lambda m: (
            len(m["presentations"]) == 2 and m["current"] != m["presentations"][0]["id"]
        ),
    )
    default = update["presentations"][0]
    await ada.send({"type": "presentation.show", "presentation": default["id"]})
    back = await ada.expect("presentation.updated", where=lambda m: m["current"] == default["id"])
    assert back["current"] == default["id"]
    await ada.send({"type": "presentation.show", "presentation": "nope", "ref": "s"})
    assert (await ada.expect_reply("s"))["code"] == "not_found"


async def test_disabled_presentation(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(disabledFeatures="presentation")
    ada, ada_cookie = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    assert welcome["presentations"] == []
    refused = await room_server.http.post(
        f"{room_server.base}/room/upload",
        files={"file": ("x.pdf", documents.pdf(1), "application/pdf")},
        headers=as_(ada_cookie),
    )
    assert refused.status_code == 403
    await ada.send({"type": "presentation.page", "page": 1, "ref": "p"})
    assert (await ada.expect_reply("p"))["code"] == "disabled"


def stroke(shape_id: str, tool: str = "pen") -> dict[str, object]:
    return {"id": shape_id, "tool": tool, "points": [[0.1, 0.1], [0.2, 0.3], [0.4, 0.35]]}


async def test_whiteboard_annotations(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada, _ = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    document = welcome["current"]
    bea, _ = await enter(room_server, meeting_id, "Bea", "VIEWER")
    await bea.welcomed()
    where = {"presentation": document, "page": 1}

    await ada.send({"type": "draw.add", **where, "shape": stroke("a1")})
    added = await bea.expect("draw.added")
    assert added["shape"]["id"] == "a1" and added["shape"]["points"][2] == [0.4, 0.35]
    # Viewers draw only when the presenter lets everybody.
    await bea.send({"type": "draw.add", **where, "shape": stroke("b1"), "ref": "b"})
    assert (await bea.expect_reply("b"))["code"] == "forbidden"
    await ada.send({"type": "whiteboard.multi", "enabled": True})
    await bea.expect("whiteboard.multi", enabled=True)
    await bea.send({"type": "draw.add", **where, "shape": stroke("b1", "rect")})
    await ada.expect("draw.added", where=lambda m: m["shape"]["id"] == "b1")
    # Bad shapes are refused; the page must exist.
    for bad in (
        {"id": "x", "tool": "laser", "points": [[0, 0]]},
        {"id": "x", "tool": "pen", "points": [[0, 0]], "color": "red"},
        {"id": "x y", "tool": "pen", "points": [[0, 0]]},
    ):
        await bea.send({"type": "draw.add", **where, "shape": bad, "ref": "bad"})
        assert (await bea.expect_reply("bad"))["code"] == "invalid"
    await bea.send(
        {"type": "draw.add", "presentation": document, "page": 9, "shape": stroke("z"), "ref": "p9"}
    )
    assert (await bea.expect_reply("p9"))["code"] == "not_found"

    # A viewer erases only their own; undo takes one's last; the presenter clears everything.
    await bea.send({"type": "draw.erase", **where, "shape": "a1"})
    await bea.send({"type": "draw.erase", **where, "undo": True})
    removed = await ada.expect("draw.removed")
    assert removed["ids"] == ["b1"]
    await ada.send({"type": "draw.add", **where, "shape": stroke("a2")})
    await bea.expect("draw.added", where=lambda m: m["shape"]["id"] == "a2")

    # Everybody leaves; the room is rebuilt from the log when they come back.
    await ada.send({"type": "leave"})
    await bea.send({"type": "leave"})
    await asyncio.sleep(0.2)
    again, _ = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    rejoined = await again.welcomed()
    assert [s["id"] for s in rejoined["annotations"]["1"]] == ["a1", "a2"]
    assert rejoined["multiUserWhiteboard"] is True
    await again.send({"type": "draw.erase", **where, "clear": True})
    cleared = await again.expect("draw.removed")
    assert sorted(cleared["ids"]) == ["a1", "a2"]


async def test_removing_a_document(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada, ada_cookie = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    welcome = await ada.welcomed()
    default = welcome["current"]
    await room_server.http.post(
        f"{room_server.base}/room/upload",
        files={"file": ("notes.png", documents.png(), "image/png")},
        headers=as_(ada_cookie),
    )
    update = await ada.expect(
        "presentation.updated", within=15, where=lambda m: m["current"] not in (None, default)
    )
    notes = update["current"]
    # Not the one shown, and not the default (it is not removable).
    await ada.send({"type": "presentation.remove", "presentation": notes, "ref": "r1"})
    assert (await ada.expect_reply("r1"))["code"] == "forbidden"
    await ada.send({"type": "presentation.remove", "presentation": default, "ref": "r2"})
    assert (await ada.expect_reply("r2"))["code"] == "forbidden"
    await ada.send({"type": "presentation.show", "presentation": default})
    await ada.expect("presentation.updated", where=lambda m: m["current"] == default)
    await ada.send({"type": "presentation.remove", "presentation": notes})
    gone = await ada.expect(
        "presentation.updated", where=lambda m: all(p["id"] != notes for p in m["presentations"])
    )
    assert [p["id"] for p in gone["presentations"]] == [default]
    slide = await room_server.http.get(
        f"{room_server.base}/room/slides/{notes}/1", headers=as_(ada_cookie)
    )
    assert slide.status_code == 404


async def test_the_presenters_zoom_is_everybodys_view(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada, _ = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    assert (await ada.welcomed())["view"] == {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0}
    bea, bea_cookie = await enter(room_server, meeting_id, "Bea", "VIEWER")
    await bea.welcomed()
    # The view is kept within the page.
    await ada.send({"type": "presentation.zoom", "x": 0.9, "y": 0.2, "w": 0.5, "h": 0.5})
    zoom = await bea.expect("presentation.zoom")
    assert (zoom["x"], zoom["y"], zoom["w"], zoom["h"]) == (0.5, 0.2, 0.5, 0.5)
    await bea.send({"type": "presentation.zoom", "x": 0, "y": 0, "w": 1, "h": 1, "ref": "z"})
    assert (await bea.expect_reply("z"))["code"] == "forbidden"
    await ada.send({"type": "presentation.zoom", "x": 0, "y": 0, "w": 0.01, "h": 1, "ref": "t"})
    assert (await ada.expect_reply("t"))["code"] == "invalid"
    # Somebody entering now sees the same part of the page.
    late = await RoomClient.open(room_server, bea_cookie)
    assert (await late.welcomed())["view"] == {"x": 0.5, "y": 0.2, "w": 0.5, "h": 0.5}


async def test_the_room_sees_a_long_document_progress_page_by_page(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    ada, ada_cookie = await enter(room_server, meeting_id, "Ada", "MODERATOR")
    await ada.welcomed()
    bea, _ = await enter(room_server, meeting_id, "Bea", "VIEWER")
    await bea.welcomed()

    uploaded = await room_server.http.post(
        f"{room_server.base}/room/upload",
        files={"file": ("long.pdf", documents.pdf(25, (64, 36)), "application/pdf")},
        headers=as_(ada_cookie),
    )
    document = uploaded.json()["id"]
    first = await bea.expect("presentation.progress", within=15, presentation=document)
    assert (first["done"], first["total"]) == (0, 25)
    ready = await bea.expect(
        "presentation.updated",
        within=30,
        where=lambda m: any(
            p["id"] == document and p["state"] == "ready" for p in m["presentations"]
        ),
    )
    [entry] = [p for p in ready["presentations"] if p["id"] == document]
    assert (entry["pages"], entry["progress"]) == (25, None)
    # Progress only ever goes forward.
    told = [first["done"]] + [
        m["done"] for m in bea.inbox if m.get("type") == "presentation.progress"
    ]
    assert told == sorted(told) and all(n < 25 for n in told)
