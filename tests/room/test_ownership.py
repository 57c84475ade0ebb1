"""Which front end owns a meeting's room (room/ownership.py), with the in-process directory and
registry: the rules the Redis ones follow too (tests/cluster)."""

from __future__ import annotations

import asyncio

import pytest

from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry, NodeInfo
from sala.room import ownership
from sala.room.ownership import RoomOwnership, node_path


async def test_a_meeting_nobody_owns_goes_to_the_front_end_asked() -> None:
    directory = LocalDirectory()
    fe1, fe2 = RoomOwnership(directory, "fe1"), RoomOwnership(directory, "fe2")
    assert await fe1.route("m1") == "/n/fe1/room/ws"
    # Asked later, another front end sends the page to the owner, and refuses to serve it.
    assert await fe2.route("m1") == node_path("fe1")
    assert not await fe2.admit("m1")
    assert await fe1.admit("m1")
    assert await fe2.route("m2") == node_path("fe2")


async def test_a_draining_front_end_sends_new_meetings_elsewhere() -> None:
    directory, registry = LocalDirectory(), LocalRegistry()
    for node, rooms in (("fe1", 0.0), ("fe2", 5.0), ("fe3", 1.0)):
        await registry.heartbeat(NodeInfo(node, "frontend", "", {"rooms": rooms}), 10)
    await registry.set_draining("fe1", True)
    fe1 = RoomOwnership(directory, "fe1", registry)
    # The least loaded front end that is not draining.
    assert await fe1.route("new") == node_path("fe3")
    await registry.set_draining("fe1", False)
    assert await fe1.route("newer") == node_path("fe1")


async def test_a_leaving_front_end_places_meetings_elsewhere_and_admits_none() -> None:
    directory, registry = LocalDirectory(), LocalRegistry()
    for node, rooms in (("fe1", 0.0), ("fe2", 5.0), ("fe3", 1.0)):
        await registry.heartbeat(NodeInfo(node, "frontend", "", {"rooms": rooms}), 10)
    fe1 = RoomOwnership(directory, "fe1", registry)
    assert await fe1.admit("old")
    await fe1.stop(release=["old"])
    fe1.leave()
    # Stopping, it is not a candidate even with the fewest rooms, and serves nobody.
    assert await fe1.route("old") == node_path("fe3")
    assert await fe1.route("new") == node_path("fe3")
    assert not await fe1.admit("other")
    assert await directory.owner("other") is None


async def test_a_lost_lease_hands_the_room_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ownership, "RENEW_EVERY_S", 0.01)
    directory = LocalDirectory()
    fe1 = RoomOwnership(directory, "fe1")
    assert await fe1.admit("m1")
    assert await fe1.admit("m2")
    # fe1 stalled past its lease and fe2 took m2 meanwhile.
    await directory.release("m2", "fe1")
    assert await directory.claim("m2", "fe2", 60_000) == "fe2"
    handed: list[str] = []

    async def lost(meeting: str) -> None:
        handed.append(meeting)

    fe1.start(lambda: ["m1", "m2"], lost)
    for _ in range(100):
        if handed:
            break
        await asyncio.sleep(0.01)
    await fe1.stop(release=["m1"])
    assert handed == ["m2"]
    assert await directory.owner("m1") is None  # released on a normal stop
    assert await directory.owner("m2") == "fe2"
