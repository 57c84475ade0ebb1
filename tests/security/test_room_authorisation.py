"""The room's authorisation against the shapes of known CVEs in conferencing servers: acting on a
user of another meeting by naming their id, malformed chat, and presentations reached by id
from the wrong meeting or the wrong role (the socket and /room/slides, /room/documents,
/room/upload)."""

from __future__ import annotations

import json

import httpx

from sala.events import types
from sala.events.log import read_all_events
from tests.presentations import documents
from tests.room.conftest import RoomClient, RoomServer
from tests.security.conftest import alive, drain, opened


def cookie_header(cookie: str) -> dict[str, str]:
    return {"Cookie": f"sala_room={cookie}"}


async def internal_id(server: RoomServer, meeting_id: str) -> str:
    meeting = await server.services.meetings.get_live(meeting_id)
    assert meeting is not None
    return meeting.internal_id


async def test_a_moderator_cannot_act_on_a_user_of_another_meeting(
    room_server: RoomServer,
) -> None:
    mine = await room_server.create()
    theirs = await room_server.create()
    ada = await room_server.joined(mine, "Ada", "MODERATOR")
    bob_cookie = await room_server.session(theirs, "Bob")
    bob = await opened(room_server, bob_cookie)
    await drain(bob, quiet=0.3)

    for n, attempt in enumerate(
        [
            {"type": "user.remove", "user": bob.me},
            {"type": "user.remove", "user": bob.me, "ban": True},
            {"type": "user.role", "user": bob.me, "role": "MODERATOR"},
            {"type": "user.presenter", "user": bob.me},
            {"type": "hand.set", "raised": False, "user": bob.me},
            {"type": "chat.send", "text": "psst", "to": bob.me},
            {"type": "guest.decide", "user": bob.me, "allow": False},
        ]
    ):
        await ada.send({**attempt, "ref": f"x{n}"})
        reply = await ada.expect_reply(f"x{n}")
        assert (reply["type"], reply["code"]) == ("error", "not_found"), attempt

    # Bob heard nothing, is still in, still a viewer, and his session still works.
    assert [m for m in await drain(bob, quiet=0.5) if m["type"] != "pong"] == []
    assert await alive(bob)
    info = await room_server.api("getMeetingInfo", meetingID=theirs)
    assert "<role>VIEWER</role>" in info and "<isPresenter>false</isPresenter>" in info
    assert await alive(await opened(room_server, bob_cookie))
    assert "removedUserIds" not in json.dumps(
        (await room_server.services.meetings.get_live(theirs)).settings  # type: ignore[union-attr]
    )


MALFORMED_CHAT = [
    ('{"type": "chat.send"}', "invalid"),  # no text
    ('{"type": "chat.send", "text": 123}', "invalid"),
    ('{"type": "chat.send", "text": null}', "invalid"),
    ('{"type": "chat.send", "text": ["a", "b"]}', "invalid"),
    ('{"type": "chat.send", "text": {"$gt": ""}}', "invalid"),
    ('{"type": "chat.send", "text": true}', "invalid"),
    ('{"type": "chat.send", "text": ""}', "invalid"),
    ('{"type": "chat.send", "text": "hi", "to": 5}', "invalid"),
    ('{"type": "chat.send", "text": "hi", "to": ["a"]}', "invalid"),
    ('{"type": "chat.send", "text": "hi", "from": "w_someone"}', "invalid"),
    ('{"type": "chat.send", "text": "' + "x" * 1001 + '"}', "invalid"),
    ('{"type": "chat.send", "text": "' + "y" * 40000 + '"}', "too_large"),
    ('{"type": "chat.send", "text": "nul \\u0000 byte"}', "invalid"),
    ('{"type": "chat.send", "text": "bell \\u0007"}', "invalid"),
    ('{"type": "chat.send", "text": "\\u001b[2J\\u001b[31mred"}', "invalid"),
    ('{"type": "chat.send", "text": "c1 \\u0085 \\u009b"}', "invalid"),
    ('{"type": "chat.send", "text": "lone \\ud800 surrogate"}', "invalid"),
    ('{"type": "chat.send", "text": "low \\udc00"}', "invalid"),
    ('{"type": "chat.send", "text": "hi", "ref": "' + "r" * 65 + '"}', "invalid"),
    ('{"type": "chat.send", "text": "hi", "to": "w_nobody"}', "not_found"),
    ('["chat.send", "hi"]', "bad_message"),
    ('{"type": ["chat.send"], "text": "hi"}', "bad_message"),
    ('{"text": "hi"}', "bad_message"),
]


async def test_malformed_chat_is_refused_and_harms_nobody(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    await drain(ada, quiet=0.3)
    for raw, code in MALFORMED_CHAT:
        await bea.send(raw)
        reply = await bea.expect("error")
        assert reply["code"] == code, raw
    await bea.send({"type": "chat.send", "text": "self", "to": bea.me, "ref": "me"})
    assert (await bea.expect_reply("me"))["code"] == "invalid"

    # What is fine still goes through: line breaks, tabs, emoji (escaped as JSON does).
    await bea.send('{"type": "chat.send", "text": "two\\nlines\\tand \\ud83d\\ude00"}')
    assert (await ada.expect("chat.message"))["text"] == "two\nlines\tand 😀"
    assert [m for m in await drain(ada, quiet=0.5) if m["type"] == "chat.message"] == []
    assert await alive(ada) and await alive(bea)
    async with room_server.services.db.read() as conn:
        chat = [
            e.data["message"]
            for e in await read_all_events(conn, await internal_id(room_server, meeting_id))
            if e.type == types.CHAT_MESSAGE
        ]
    assert chat == ["two\nlines\tand 😀"]


async def test_presentations_answer_only_the_presenter_of_their_own_meeting(
    room_server: RoomServer,
) -> None:
    mine = await room_server.create()
    theirs = await room_server.create()
    await room_server.services.presentations.wait_idle()
    ada_cookie = await room_server.session(mine, "Ada", "MODERATOR")
    ada = await RoomClient.open(room_server, ada_cookie)
    ada_welcome = await ada.welcomed()
    ours = ada_welcome["current"]
    bea_cookie = await room_server.session(mine, "Bea")
    bea = await opened(room_server, bea_cookie)
    eve_cookie = await room_server.session(theirs, "Eve", "MODERATOR")
    eve = await RoomClient.open(room_server, eve_cookie)
    eve_welcome = await eve.welcomed()
    assert ours and eve_welcome["current"] and eve_welcome["current"] != ours

    # A viewer of the meeting: nothing that changes the presentation.
    shape = {"id": "s1", "tool": "pen", "points": [[0.1, 0.1]]}
    for n, attempt in enumerate(
        [
            {"type": "presentation.show", "presentation": ours},
            {"type": "presentation.remove", "presentation": ours},
            {"type": "presentation.page", "page": 1},
            {"type": "presentation.zoom", "x": 0, "y": 0, "w": 0.5, "h": 0.5},
            {"type": "whiteboard.multi", "enabled": True},
            {"type": "draw.add", "presentation": ours, "page": 1, "shape": shape},
            {"type": "draw.erase", "presentation": ours, "page": 1, "clear": True},
            {"type": "poll.start", "kind": "YN"},
        ]
    ):
        await bea.send({**attempt, "ref": f"v{n}"})
        assert (await bea.expect_reply(f"v{n}"))["code"] == "forbidden", attempt

    # The presenter of another meeting, naming this meeting's document.
    for n, attempt in enumerate(
        [
            {"type": "presentation.show", "presentation": ours},
            {"type": "presentation.remove", "presentation": ours},
            {"type": "draw.add", "presentation": ours, "page": 1, "shape": shape},
            {"type": "draw.erase", "presentation": ours, "page": 1, "clear": True},
        ]
    ):
        await eve.send({**attempt, "ref": f"e{n}"})
        assert (await eve.expect_reply(f"e{n}"))["code"] == "not_found", attempt
    await drain(ada, quiet=0.3)

    base = room_server.base
    http = room_server.http
    for path in (f"/room/slides/{ours}/1", f"/room/slides/{ours}/1?thumb=1"):
        assert (await http.get(base + path, headers=cookie_header(bea_cookie))).status_code == 200
    for path in (
        f"/room/slides/{ours}/1",
        f"/room/slides/{ours}/1?thumb=1",
        f"/room/documents/{ours}",
        "/room/slides/..%2F..%2Fsecret/1",
        "/room/documents/%2e%2e",
    ):
        stolen = await http.get(base + path, headers=cookie_header(eve_cookie))
        assert stolen.status_code == 404, path
    async with httpx.AsyncClient() as stranger:
        for path in (f"/room/slides/{ours}/1", f"/room/documents/{ours}"):
            assert (await stranger.get(base + path)).status_code == 401
        anonymous = await stranger.post(
            base + "/room/upload", files={"file": ("x.pdf", documents.pdf(1), "application/pdf")}
        )
        assert anonymous.status_code == 401

    # Uploads: never a viewer's, and always into the uploader's own meeting whatever the form
    # says.
    viewer_upload = await http.post(
        base + "/room/upload",
        files={"file": ("x.pdf", documents.pdf(1), "application/pdf")},
        headers=cookie_header(bea_cookie),
    )
    assert viewer_upload.status_code == 403
    presentations = room_server.services.presentations
    before = [d.id for d in await presentations.of_meeting(await internal_id(room_server, mine))]
    sneaky = await http.post(
        base + "/room/upload",
        files={"file": ("x.pdf", documents.pdf(1), "application/pdf")},
        data={"meetingID": mine, "meeting": await internal_id(room_server, mine)},
        headers=cookie_header(eve_cookie),
    )
    assert sneaky.status_code == 202
    uploaded = await presentations.get(sneaky.json()["id"])
    assert uploaded is not None
    assert uploaded.meeting_id == await internal_id(room_server, theirs)
    after = [d.id for d in await presentations.of_meeting(await internal_id(room_server, mine))]
    assert after == before
    await presentations.wait_idle()
    assert await alive(ada) and await alive(bea) and await alive(eve)
