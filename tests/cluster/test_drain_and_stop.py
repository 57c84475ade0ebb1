"""Taking a front end out of service (tests/support/cluster.py: three front ends, a worker,
nginx), as docs/deployment.md ("Adding and draining nodes") tells operators to.

What an operator is promised: `sala status --drain <node>` stops new meetings from being placed
on that front end while the meetings it has stay; `--undrain` undoes it. Stopping a front end
normally (SIGTERM, what systemd sends) hands its rooms over at once: its people are sent on with
MOVED and are back in their meeting on another front end well within the 5 s lease a killed one
leaves them waiting for, and nobody is counted as having left.
"""

from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.cluster.helpers import SECRET, api, assert_once, owner_of, rejoin, wait_for_hook
from tests.support.cluster import LocalCluster, Node, nginx_available
from tests.support.receiver import Receiver
from tests.support.room_socket import RoomSocket, signed_url

pytestmark = pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))

MOVED = 4421
HANDED_OVER_WITHIN_S = 2.5
"""From SIGTERM to everyone back in the meeting elsewhere: half the lease a kill -9 costs."""


async def placed_by(http: httpx.AsyncClient, node: Node, meeting: str, name: str) -> str:
    """`name` joins `meeting` and its page asks `node` itself (not the proxy) where to connect:
    the node the room is on, placed there by that question if nobody had it."""
    params = {"meetingID": meeting, "fullName": name, "role": "VIEWER", "redirect": "false"}
    joined = await http.get(signed_url(node.base, SECRET, "join", params))
    token = ET.fromstring(joined.content).findtext("session_token")
    assert token, joined.text
    handoff = await http.get(f"{node.base}/room/join", params={"sessionToken": token})
    cookie = handoff.cookies["sala_room"]
    route = await http.get(f"{node.base}/room/route", headers={"Cookie": f"sala_room={cookie}"})
    path: str = route.json()["ws"]
    return path.split("/")[2]


def status_line(status: str, node_id: str) -> str:
    return next(line for line in status.splitlines() if line.startswith(f"  {node_id} "))


async def test_a_drained_front_end_takes_no_new_meetings_and_keeps_its_own(
    cluster: LocalCluster,
) -> None:
    fe1 = cluster.nodes["fe1"]
    api(cluster.base, "create", meetingID="kept", name="Kept")
    async with httpx.AsyncClient(timeout=30) as http:
        # Asked first on fe1, the meeting is placed there.
        ana = await RoomSocket.join(http, fe1.base, SECRET, "kept", "Ana", role="MODERATOR")
        assert await owner_of(http, ana) == "fe1"

        out = await asyncio.to_thread(cluster.sala, "status", "--drain", "fe1")
        assert "fe1: draining" in out, out
        assert "draining" in status_line(out, "fe1"), out
        assert "draining" not in status_line(out, "fe2"), out

        # New meetings asked on fe1 go to the other front ends, and people get in there.
        for index in range(3):
            api(cluster.base, "create", meetingID=f"new-{index}", name="New")
            where = await placed_by(http, fe1, f"new-{index}", "Dan")
            assert where in ("fe2", "fe3"), where
        dan = await RoomSocket.join(http, cluster.base, SECRET, "new-0", "Dan")
        assert await owner_of(http, dan) in ("fe2", "fe3")

        # The meeting fe1 has stays there and works: a newcomer gets in, chat flows.
        bia = await RoomSocket.join(http, cluster.base, SECRET, "kept", "Bia")
        assert await owner_of(http, bia) == "fe1"
        heard = ana.expect("chat.message")
        await bia.send({"type": "chat.send", "text": "still here", "ref": "c1"})
        assert "still here" in json.dumps(await asyncio.wait_for(heard, 10))
        assert not ana.closed

        out = await asyncio.to_thread(cluster.sala, "status", "--undrain", "fe1")
        assert "fe1: takes meetings again" in out, out
        assert "draining" not in status_line(out, "fe1"), out
        api(cluster.base, "create", meetingID="later", name="Later")
        assert await placed_by(http, fe1, "later", "Eve") == "fe1"
        for room in (ana, bia, dan):
            await room.close()


async def test_a_stopped_front_end_hands_its_rooms_over_at_once(
    cluster: LocalCluster, receiver: Receiver
) -> None:
    api(cluster.base, "hooks/create", callbackURL=receiver.url())
    api(cluster.base, "create", meetingID="handed", name="Handed")
    async with httpx.AsyncClient(timeout=30) as http:
        ana = await RoomSocket.join(http, cluster.base, SECRET, "handed", "Ana", role="MODERATOR")
        bia = await RoomSocket.join(http, cluster.base, SECRET, "handed", "Bia")
        owner = await owner_of(http, ana)
        heard = bia.expect("chat.message")
        await ana.send({"type": "chat.send", "text": "before the stop", "ref": "c1"})
        await asyncio.wait_for(heard, 10)

        started = time.monotonic()
        stopping = asyncio.create_task(asyncio.to_thread(cluster.terminate, owner))
        await asyncio.wait_for(asyncio.gather(ana.ws.wait_closed(), bia.ws.wait_closed()), 10)
        assert [ana.ws.close_code, bia.ws.close_code] == [MOVED, MOVED]
        # As the page does on MOVED: ask where the meeting is now and go there at once.
        for room in (ana, bia):
            await rejoin(http, room, within_s=10)
        back_after = time.monotonic() - started
        assert back_after < HANDED_OVER_WITHIN_S, back_after
        await stopping

        assert await owner_of(http, ana) != owner
        assert {u["name"] for u in bia.welcome["users"]} == {"Ana", "Bia"}
        assert "before the stop" in json.dumps(ana.welcome["chat"])
        heard = ana.expect("chat.message")
        await bia.send({"type": "chat.send", "text": "after the stop", "ref": "c2"})
        assert "after the stop" in json.dumps(await asyncio.wait_for(heard, 10))
        info = api(cluster.base, "getMeetingInfo", meetingID="handed")
        assert info.findtext("participantCount") == "2"
        api(cluster.base, "end", meetingID="handed")
        await ana.close()
        await bia.close()

    seen = await asyncio.to_thread(wait_for_hook, receiver, "meeting-ended:")
    assert_once(
        seen,
        "user-joined:Ana",
        "user-joined:Bia",
        "chat-group-message-sent:before the stop",
        "chat-group-message-sent:after the stop",
        "meeting-ended:",
    )
    assert seen["user-left:"] == 2, seen  # when the meeting ended, not when the node stopped
