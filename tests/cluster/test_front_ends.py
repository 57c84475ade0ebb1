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
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cluster import LocalCluster, nginx_available
from tests.support.postgres import PostgresServer
from tests.support.receiver import Receiver
from tests.support.room_socket import RoomSocket, signed_url

SECRET = "cluster-secret-0123456789abcdef0123456789"
pytestmark = pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver().start()
    yield hooks
    hooks.stop()


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_server: PostgresServer, redis_url: str
) -> Iterator[LocalCluster]:
    name = f"cluster_{uuid.uuid4().hex[:8]}"
    database = postgres_server.create_database(name)
    nodes = LocalCluster(
        tmp_path,
        database,
        redis_url,
        SECRET,
        {"SALA_WEBHOOK_ALLOW": "127.0.0.1", "SALA_RECONNECT_GRACE_AFTER_RESTART_SECONDS": "20"},
    )
    try:
        for index in (1, 2, 3):
            nodes.start_front_end(f"fe{index}")
        nodes.start_worker("worker1")
        nodes.start_proxy()
        yield nodes
    finally:
        nodes.stop()
        postgres_server.drop_database(name)


def api(base: str, call: str, **params: str) -> ET.Element:
    answer = httpx.get(signed_url(base, SECRET, call, params), timeout=10)
    root = ET.fromstring(answer.content)
    assert root.findtext("returncode") == "SUCCESS", answer.text
    return root


async def route_of(http: httpx.AsyncClient, room: RoomSocket) -> str:
    answer = await http.get(
        f"{room.base}/room/route", headers={"Cookie": f"sala_room={room.cookie}"}
    )
    path: str = answer.json()["ws"]
    return path


async def rejoin(http: httpx.AsyncClient, room: RoomSocket, within_s: float) -> float:
    """Reconnect as the page does (ask the route, connect, back off up to 8 s); seconds taken."""
    started = time.monotonic()
    pause = 0.5
    while True:
        try:
            await room.reconnect(http)
            return time.monotonic() - started
        except Exception:
            if time.monotonic() - started > within_s:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 8.0)


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

    def events() -> Counter[str]:
        seen: Counter[str] = Counter()
        for request in receiver.accepted():
            for event in json.loads(request.form["event"][0]):
                attributes = event["data"]["attributes"]
                user = attributes.get("user", {}).get("name", "")
                if event["data"]["id"] == "chat-group-message-sent":
                    user = ""
                seen[f"{event['data']['id']}:{user}"] += 1
        return seen

    deadline = time.monotonic() + 20
    while "meeting-ended:" not in events() and time.monotonic() < deadline:
        time.sleep(0.2)
    seen = events()
    assert seen["meeting-created:"] == 1
    assert seen["user-joined:Ana"] == 1, seen
    assert seen["user-joined:Bia"] == 1, seen
    assert seen["meeting-ended:"] == 1, seen
    chats = [k for k in seen if k.startswith("chat-group-message-sent")]
    assert sum(seen[k] for k in chats) == 2, seen
