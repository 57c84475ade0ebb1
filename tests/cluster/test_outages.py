"""The shared servers of a cluster go away mid-meeting and come back (tests/support/cluster.py:
three front ends, a worker, nginx; the session's PostgreSQL and Redis).

What an operator is promised (docs/deployment.md, "Many machines"): a Redis restart, which comes
back empty (no persistence: every lease, heartbeat and subscription gone), costs nothing but a
moment: the rooms go on, nodes heartbeat again, owners take their meetings back. A PostgreSQL
restart makes the API answer with errors while it is down, quickly, and refuses what cannot be
written; afterwards everything goes on. Either way every webhook of what was accepted arrives
once, and nothing refused arrives at all.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.cluster.helpers import SECRET, api, assert_once, call, owner_of, rejoin, wait_for_hook
from tests.support.cluster import LocalCluster, nginx_available
from tests.support.postgres import PostgresServer
from tests.support.receiver import Receiver
from tests.support.redis import RedisServer
from tests.support.room_socket import RoomSocket

pytestmark = pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))

DOWN_ANSWER_S = 5.0
"""How long an API call may take to fail while PostgreSQL is down."""


async def connected(http: httpx.AsyncClient, *rooms: RoomSocket) -> None:
    """Reconnect, as the page does, any of `rooms` whose connection the cluster closed (a room
    handed over to another front end closes with MOVED)."""
    for room in rooms:
        if room.closed:
            await rejoin(http, room, within_s=15)


async def sala_status(cluster: LocalCluster, *wanted: str, within_s: float = 15.0) -> str:
    """`sala status` once its output has every line of `wanted`, or the last one after
    `within_s` (run in a thread: the test's room connections keep being read meanwhile)."""
    deadline = time.monotonic() + within_s
    while True:
        out = await asyncio.to_thread(cluster.sala, "status")
        if all(w in out for w in wanted) or time.monotonic() > deadline:
            return out
        await asyncio.sleep(0.5)


async def test_a_redis_restart_mid_meeting_costs_nothing(
    cluster: LocalCluster, redis_server: RedisServer, receiver: Receiver
) -> None:
    api(cluster.base, "hooks/create", callbackURL=receiver.url())
    api(cluster.base, "create", meetingID="weathered", name="Weathered")
    async with httpx.AsyncClient(timeout=30) as http:
        ana = await RoomSocket.join(
            http, cluster.base, SECRET, "weathered", "Ana", role="MODERATOR"
        )
        bia = await RoomSocket.join(http, cluster.base, SECRET, "weathered", "Bia")
        heard = bia.expect("chat.message")
        await ana.send({"type": "chat.send", "text": "before the restart", "ref": "c1"})
        await asyncio.wait_for(heard, 10)

        await asyncio.to_thread(redis_server.restart)

        # Every node heartbeats into the empty Redis again, and the meeting has an owner again
        # (its own, taking the lapsed lease back, or another if someone asked first).
        status = await sala_status(cluster, "fe1 ", "fe2 ", "fe3 ", "worker1 ", "room on fe")
        for node in ("fe1", "fe2", "fe3", "worker1"):
            assert f"  {node} " in status, status
        assert "weathered" in status and "room on fe" in status, status
        await connected(http, ana, bia)

        # The room works: chat both ways, and API calls on a front end that does not own the
        # meeting reach it through the bus.
        heard = ana.expect("chat.message")
        await bia.send({"type": "chat.send", "text": "after the restart", "ref": "c2"})
        assert "after the restart" in json.dumps(await asyncio.wait_for(heard, 10))
        owner = await owner_of(http, ana)
        other = next(n for n in cluster.front_ends() if n.node_id != owner)
        heard = bia.expect("chat.message")
        api(other.base, "sendChatMessage", meetingID="weathered", message="from the api")
        assert "from the api" in json.dumps(await asyncio.wait_for(heard, 10))
        info = api(other.base, "getMeetingInfo", meetingID="weathered")
        assert info.findtext("participantCount") == "2"
        ended = ana.expect("meeting.ended")
        api(other.base, "end", meetingID="weathered")
        await asyncio.wait_for(ended, 10)
        await ana.close()
        await bia.close()

    seen = await asyncio.to_thread(wait_for_hook, receiver, "meeting-ended:")
    assert_once(
        seen,
        "meeting-created:",
        "user-joined:Ana",
        "user-joined:Bia",
        "chat-group-message-sent:before the restart",
        "chat-group-message-sent:after the restart",
        "chat-group-message-sent:from the api",
        "meeting-ended:",
    )
    # Both left once, when the meeting ended (someone marked as left meanwhile would have
    # joined twice).
    assert seen["user-left:"] == 2, seen


async def test_a_postgres_restart_mid_meeting_refuses_then_resumes(
    cluster: LocalCluster, postgres_server: PostgresServer, receiver: Receiver
) -> None:
    api(cluster.base, "hooks/create", callbackURL=receiver.url())
    api(cluster.base, "create", meetingID="steadfast", name="Steadfast")
    async with httpx.AsyncClient(timeout=30) as http:
        ana = await RoomSocket.join(
            http, cluster.base, SECRET, "steadfast", "Ana", role="MODERATOR"
        )
        bia = await RoomSocket.join(http, cluster.base, SECRET, "steadfast", "Bia")
        heard = bia.expect("chat.message")
        await ana.send({"type": "chat.send", "text": "before the outage", "ref": "c1"})
        await asyncio.wait_for(heard, 10)

        await asyncio.to_thread(postgres_server.shut_down)
        try:
            # Every front end answers, quickly, with a BBB error document.
            for node in cluster.front_ends():
                for name, params in (
                    ("create", {"meetingID": "during", "name": "During"}),
                    ("join", {"meetingID": "steadfast", "fullName": "Eve", "redirect": "false"}),
                    ("sendChatMessage", {"meetingID": "steadfast", "message": "unwritten"}),
                ):
                    started = time.monotonic()
                    root = await call(http, node.base, name, **params)
                    took = time.monotonic() - started
                    assert root.findtext("returncode") == "FAILED", (node.node_id, name)
                    assert root.findtext("messageKey") == "internalError", (node.node_id, name)
                    assert took < DOWN_ANSWER_S, (node.node_id, name, took)
            # What the room cannot write is refused to its sender, and shown to nobody.
            refused = ana.expect("error")
            shown = bia.expect("chat.message")
            await ana.send({"type": "chat.send", "text": "lost in the outage", "ref": "c2"})
            error = await asyncio.wait_for(refused, DOWN_ANSWER_S)
            assert error["ref"] == "c2", error
            await asyncio.sleep(0.5)
            assert not shown.done()
            shown.cancel()
        finally:
            await asyncio.to_thread(postgres_server.start_again)

        # Everything resumes: the room, and new joins (the pool reconnects on its own).
        deadline = time.monotonic() + 20
        while True:
            try:
                cai = await RoomSocket.join(http, cluster.base, SECRET, "steadfast", "Cai")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        assert not ana.closed and not bia.closed
        heard = ana.expect("chat.message")
        await bia.send({"type": "chat.send", "text": "after the outage", "ref": "c3"})
        assert "after the outage" in json.dumps(await asyncio.wait_for(heard, 10))
        info = api(cluster.base, "getMeetingInfo", meetingID="steadfast")
        assert info.findtext("participantCount") == "3"
        ended = ana.expect("meeting.ended")
        api(cluster.base, "end", meetingID="steadfast")
        await asyncio.wait_for(ended, 10)
        for room in (ana, bia, cai):
            await room.close()

    seen = await asyncio.to_thread(wait_for_hook, receiver, "meeting-ended:", 30.0)
    assert_once(
        seen,
        "meeting-created:",
        "user-joined:Ana",
        "user-joined:Bia",
        "user-joined:Cai",
        "chat-group-message-sent:before the outage",
        "chat-group-message-sent:after the outage",
        "meeting-ended:",
    )
    assert seen["user-left:"] == 3, seen
    # What was refused was not written, and so never reported.
    assert not [k for k in seen if "unwritten" in k or "lost in the outage" in k], seen
