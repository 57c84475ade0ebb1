"""Probe finding 5: after a moderator removed a user (without a ban), the same cookie
reconnected and was back in the meeting. A removal ends the user's room sessions in the
database, restarts included; only a new join through the integrator brings them back (and a
ban refuses that too, as in BBB)."""

from __future__ import annotations

import pytest
import websockets

from sala.config import Settings
from tests.room.conftest import RoomClient, RoomServer, serve_room
from tests.security.conftest import alive, opened


async def remove(moderator: RoomClient, user: str, ban: bool = False) -> None:
    await moderator.send({"type": "user.remove", "user": user, "ban": ban})
    assert (await moderator.expect("user.left"))["user"] == user


async def refused(server: RoomServer, cookie: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as caught:
        await RoomClient.open(server, cookie)
    assert caught.value.response.status_code == 403


async def test_a_removed_user_cannot_come_back_with_the_same_cookie(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    cookie = await room_server.session(meeting_id, "Bea", userID="bea-1")
    bea = await opened(room_server, cookie)
    second_tab = await opened(room_server, cookie)
    cid_cookie = await room_server.session(meeting_id, "Cid")
    await opened(room_server, cid_cookie)

    await remove(ada, bea.me)
    assert (await bea.expect("removed"))["logoutUrl"]
    assert (await second_tab.expect("removed"))["logoutUrl"]

    # The reload that used to put her back in the meeting.
    await refused(room_server, cookie)
    slides = await room_server.http.get(
        f"{room_server.base}/room/slides/any/1", headers={"Cookie": f"sala_room={cookie}"}
    )
    assert slides.status_code == 401
    # Nobody else's session ended.
    assert await alive(await opened(room_server, cid_cookie))
    assert await alive(ada)

    # A new join through the integrator lets her back.
    back = await room_server.client(meeting_id, "Bea", userID="bea-1")
    assert (await back.welcomed())["you"]["name"] == "Bea"


async def test_the_removal_survives_a_restart(settings: Settings) -> None:
    async with serve_room(settings) as server:
        meeting_id = await server.create()
        ada_cookie = await server.session(meeting_id, "Ada", "MODERATOR")
        ada = await opened(server, ada_cookie)
        cookie = await server.session(meeting_id, "Bea", userID="bea-1")
        bea = await opened(server, cookie)
        await remove(ada, bea.me)
    async with serve_room(settings) as server:
        await refused(server, cookie)
        assert await alive(await opened(server, ada_cookie))
        back = await server.client(meeting_id, "Bea", userID="bea-1")
        assert (await back.welcomed())["you"]["name"] == "Bea"


async def test_a_banned_user_is_refused_with_the_old_cookie_and_a_new_join(
    room_server: RoomServer,
) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    cookie = await room_server.session(meeting_id, "Bea", userID="bea-1")
    bea = await opened(room_server, cookie)
    await remove(ada, bea.me, ban=True)
    await refused(room_server, cookie)
    again = await room_server.client(meeting_id, "Bea", userID="bea-1")
    assert (await again.expect("removed"))["reason"] == "banned"
