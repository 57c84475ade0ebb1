"""Probe finding 4: one viewer's cookie opened 300 WebSockets and, each within its own
per-connection rate limit, they took the room from everybody. Connections are capped per room
session and per user (the oldest goes, so a reload is never locked out), rate limits are per
user whatever number of sockets they use, and each meeting has a budget of its own."""

from __future__ import annotations

import asyncio
import time

import pytest
import websockets

from sala.config import Settings
from sala.meetings.model import Role
from sala.meetings.specs import JoinSpec
from sala.room.connection import Connection
from tests.meetings.factories import attendee
from tests.room.conftest import RoomClient, RoomServer, serve_room
from tests.security.conftest import alive, close_code, drain, opened

PER_SESSION = 3  # docs/protocol.md: connections per room session
PER_USER = 5  # connections per user, across their room sessions
REPLACED = 4409  # close code of a connection a newer one of the same session replaced


def connections_of(server: RoomServer, meeting_internal_id: str, user_id: str) -> int:
    room = server.services.rooms.get(meeting_internal_id)
    assert room is not None
    return len(room.participants[user_id].connections)


async def internal_id(server: RoomServer, meeting_id: str) -> str:
    meeting = await server.services.meetings.get_live(meeting_id)
    assert meeting is not None
    return meeting.internal_id


async def test_a_session_keeps_three_connections_and_the_oldest_makes_way(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    cookie = await room_server.session(meeting_id, "Ada", "MODERATOR")
    tabs = [await opened(room_server, cookie) for _ in range(PER_SESSION)]
    user = tabs[0].me

    # A fourth socket (a reload opens its new socket before the old one is gone) is let in;
    # the oldest is closed with a code that tells the page not to come back.
    newest = await opened(room_server, cookie)
    assert await close_code(tabs[0]) == REPLACED
    for tab in [*tabs[1:], newest]:
        assert await alive(tab)
    assert connections_of(room_server, await internal_id(room_server, meeting_id), user) == 3

    # The probe's shape: many sockets on one cookie at once. Never more than three stay.
    crowd = await asyncio.gather(
        *(RoomClient.open(room_server, cookie) for _ in range(12)), return_exceptions=True
    )
    await asyncio.sleep(1.0)
    sockets = [c for c in crowd if isinstance(c, RoomClient)] + [*tabs[1:], newest]
    still_open = [c for c in sockets if await alive(c, "after-crowd")]
    assert len(still_open) <= PER_SESSION
    assert connections_of(room_server, await internal_id(room_server, meeting_id), user) <= 3


async def test_a_user_keeps_five_connections_across_their_sessions(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    services = room_server.services
    first = await services.meetings.join(meeting_id, JoinSpec(full_name="Ada", role=Role.VIEWER))
    user = first.attendee.internal_user_id
    cookies = [(await services.sessions.open_room_session(first.session_token)).token]
    # getJoinUrl's existingUserID: a second room session of the same user.
    again = await services.meetings.join(
        meeting_id, JoinSpec(full_name="Ada", role=Role.VIEWER, existing_user_id=user)
    )
    cookies.append((await services.sessions.open_room_session(again.session_token)).token)

    sockets = [await opened(room_server, cookies[0]) for _ in range(3)]
    sockets += [await opened(room_server, cookies[1]) for _ in range(2)]
    assert all([await alive(s) for s in sockets])
    sixth = await opened(room_server, cookies[1])
    assert await close_code(sockets[0]) == REPLACED
    assert all([await alive(s) for s in [*sockets[1:], sixth]])
    assert connections_of(room_server, await internal_id(room_server, meeting_id), user) == 5


async def test_one_user_gets_one_budget_however_many_sockets_and_others_still_talk(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    cookie = await room_server.session(meeting_id, "Spam")
    flood = [await opened(room_server, cookie) for _ in range(PER_SESSION)]
    spam_id = flood[0].me
    await drain(ada, quiet=0.3)

    start = time.monotonic()
    for i in range(40):
        for socket in flood:
            await socket.send({"type": "chat.send", "text": f"spam {i}"})
        if i % 10 == 0:  # somebody else talks in the middle of the flood
            await bea.send({"type": "chat.send", "text": f"bea {i}"})
    got = await drain(ada, quiet=1.0)
    elapsed = time.monotonic() - start

    spam = [m for m in got if m.get("type") == "chat.message" and m["from"]["id"] == spam_id]
    beas = [
        m["text"] for m in got if m.get("type") == "chat.message" and m["from"]["name"] == "Bea"
    ]
    # Chat is 3 a second with bursts of 10 per user, not per socket: three sockets used to
    # get 30 through at once.
    assert len(spam) <= 10 + 3 * elapsed + 1, (len(spam), elapsed)
    assert beas == ["bea 0", "bea 10", "bea 20", "bea 30"]
    refused = []
    for socket in flood:
        refused += [m["code"] for m in await drain(socket, quiet=0.3) if m.get("type") == "error"]
    assert refused and set(refused) == {"rate_limited"}


async def test_a_meeting_has_a_budget_of_its_own(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sala.room import limits

    monkeypatch.setattr(limits, "MEETING_CHATS", limits.Rate(0.5, 6))
    async with serve_room(settings) as server:
        busy = await server.create()
        quiet = await server.create()
        talkers = [await server.joined(busy, f"Viewer {n}") for n in range(4)]
        other = await server.joined(quiet, "Elsewhere")
        # Each viewer stays within their own budget (3 each); together they exceed the
        # meeting's 6.
        for n in range(3):
            for talker in talkers:
                await talker.send({"type": "chat.send", "text": f"{talker.me} {n}", "ref": "c"})
        replies = []
        for talker in talkers:
            replies += [
                m
                for m in await drain(talker, quiet=0.5)
                if m.get("ref") == "c" and m.get("from", {"id": talker.me})["id"] == talker.me
            ]
        accepted = [m for m in replies if m["type"] == "chat.message"]
        refused = [m for m in replies if m["type"] == "error"]
        assert len(accepted) <= 6 + 2 and len(accepted) + len(refused) == 12
        assert {m["code"] for m in refused} == {"rate_limited"}
        # The other meeting is not affected, and the refused are still connected.
        for n in range(3):
            await other.send({"type": "chat.send", "text": f"elsewhere {n}"})
            assert (await other.expect("chat.message"))["text"] == f"elsewhere {n}"
        assert all([await alive(t) for t in talkers])


async def test_reconnecting_in_a_loop_is_slowed_down(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    cookie = await room_server.session(meeting_id, "Bea")
    codes = []
    for _ in range(16):
        try:
            client = await RoomClient.open(room_server, cookie)
            await client.expect("welcome")
        except websockets.InvalidStatus:
            codes.append(403)
            continue
        except websockets.ConnectionClosed as closed:
            codes.append(closed.rcvd.code if closed.rcvd else None)
            continue
        codes.append(200)
        await client.close()
    # Ten quick reconnects are fine (reloads, flaky networks); then one every two seconds.
    assert codes[:10] == [200] * 10
    assert 4429 in codes[10:]


async def test_a_client_that_stops_reading_is_cut_off_by_size_not_only_by_count() -> None:
    """Large messages (welcomes carry the notes) to a client that no longer reads must not
    pile up: it is disconnected once its queue holds 8 MiB, long before 512 messages."""
    conn = Connection(attendee("w_slow"))
    big = "x" * (256 * 1024)
    sent = 0
    while not conn.closed and sent < 100:
        conn.send_text(big)
        sent += 1
    assert conn.closed and conn.close_code == 1013
    assert sent == 33  # 32 fit in 8 MiB; the 33rd would pass it


async def test_one_message_larger_than_the_cap_still_goes_when_nothing_is_queued() -> None:
    conn = Connection(attendee("w_slow"))
    conn.send_text("x" * (9 * 1024 * 1024))
    assert not conn.closed
    assert await conn.next_text() is not None
    conn.send_text("small")
    assert await conn.next_text() == "small"
