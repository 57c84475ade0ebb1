"""Several front ends behind one URL (tests/support/cluster.py): PostgreSQL, Redis, three
`sala serve --role frontend`, a `--role worker`, and nginx routing as docs/deployment.md says.

What an operator is promised: any front end answers the API; a meeting's room lives on one
front end and its people reach it through the proxy; API calls on other front ends reach the
room; when a front end is killed, its meetings move to another within seconds with their chat
intact, and webhooks are neither lost nor sent twice.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.cluster.helpers import SECRET, api, rejoin, route_of, wait_for_hook
from tests.support.cluster import LocalCluster, nginx_available
from tests.support.receiver import Receiver
from tests.support.room_socket import RoomSocket

pytestmark = pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))


def test_any_front_end_answers_and_rooms_spread(cluster: LocalCluster) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            rooms = []
            for index in range(6):
                meeting = f"spread-{index}"
                api(cluster.base, "create", meetingID=meeting, name=meeting)
                rooms.append(
                    await RoomSocket.join(http, cluster.base, SECRET, meeting, f"U{index}")
                )
            owners = {await route_of(http, room) for room in rooms}
            # The proxy spreads first connections, and with them the meetings.
            assert len(owners) >= 2, owners
            for node in cluster.front_ends():
                for index in range(6):
                    info = api(node.base, "getMeetingInfo", meetingID=f"spread-{index}")
                    assert info.findtext("participantCount") == "1", node.node_id
            for room in rooms:
                await room.close()

    asyncio.run(scenario())


def test_api_calls_on_any_front_end_reach_the_room(cluster: LocalCluster) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            api(cluster.base, "create", meetingID="crossing", name="Crossing")
            ana = await RoomSocket.join(http, cluster.base, SECRET, "crossing", "Ana")
            bia = await RoomSocket.join(http, cluster.base, SECRET, "crossing", "Bia")
            owner = (await route_of(http, ana)).split("/")[2]
            other = next(n for n in cluster.front_ends() if n.node_id != owner)
            heard = bia.expect("chat.message")
            api(other.base, "sendChatMessage", meetingID="crossing", message="from afar")
            message = await asyncio.wait_for(heard, 10)
            assert "from afar" in json.dumps(message)
            # The other front end's read cache heard of the joins through Redis too.
            info = api(other.base, "getMeetingInfo", meetingID="crossing")
            assert info.findtext("participantCount") == "2"
            # Ending it on a third front end closes the room on the owner.
            ended = ana.expect("meeting.ended")
            third = next(n for n in cluster.front_ends() if n.node_id not in (owner, other.node_id))
            api(third.base, "end", meetingID="crossing")
            assert (await asyncio.wait_for(ended, 10))["type"] == "meeting.ended"
            await ana.close()
            await bia.close()

    asyncio.run(scenario())


def test_a_killed_front_end_s_meetings_move_with_nothing_lost(
    cluster: LocalCluster, receiver: Receiver
) -> None:
    api(cluster.base, "hooks/create", callbackURL=receiver.url())

    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            api(cluster.base, "create", meetingID="survivor", name="Survivor")
            ana = await RoomSocket.join(
                http, cluster.base, SECRET, "survivor", "Ana", role="MODERATOR"
            )
            bia = await RoomSocket.join(http, cluster.base, SECRET, "survivor", "Bia")
            owner = (await route_of(http, ana)).split("/")[2]
            got = bia.expect("chat.message")
            await ana.send({"type": "chat.send", "text": "before the crash", "ref": "c1"})
            await asyncio.wait_for(got, 10)

            cluster.kill(owner)
            took = [await rejoin(http, room, within_s=15) for room in (ana, bia)]
            assert max(took) < 15, took
            new_owner = (await route_of(http, ana)).split("/")[2]
            assert new_owner != owner
            assert "before the crash" in json.dumps(ana.welcome["chat"])
            assert {u["name"] for u in bia.welcome["users"]} == {"Ana", "Bia"}
            got = ana.expect("chat.message")
            await bia.send({"type": "chat.send", "text": "after the crash", "ref": "c2"})
            assert "after the crash" in json.dumps(await asyncio.wait_for(got, 10))
            info = api(cluster.base, "getMeetingInfo", meetingID="survivor")
            assert info.findtext("participantCount") == "2"
            api(cluster.base, "end", meetingID="survivor")
            await ana.close()
            await bia.close()

    asyncio.run(scenario())

    seen = wait_for_hook(receiver, "meeting-ended:")
    assert seen["meeting-created:"] == 1
    assert seen["user-joined:Ana"] == 1, seen
    assert seen["user-joined:Bia"] == 1, seen
    assert seen["meeting-ended:"] == 1, seen
    assert seen["chat-group-message-sent:before the crash"] == 1, seen
    assert seen["chat-group-message-sent:after the crash"] == 1, seen
