"""Seating a meeting's listen-only listeners on media nodes (sala/media/seating.py): its own
node up to its share, then the relay nodes it already uses, then new ones by load; never a
refusal. Pure logic: no Janus here (tests/media/test_listen_relays.py runs it on real nodes)."""

from __future__ import annotations

from collections import Counter

from sala.cluster.nodes import NodeInfo
from sala.media.placement import Placement
from sala.media.seating import relay_candidates, seat_node


def node(
    name: str, cpu: float = 0.0, *, host: str = "10.0.1.1", draining: bool = False
) -> NodeInfo:
    return NodeInfo(
        name, "media", f"ws://{name}:8188", {"cores": 2.0, "cpu": cpu}, 0, draining, host
    )


def seat_many(n: int, nodes: list[NodeInfo], per_node: int) -> Counter[str]:
    """`n` listeners arriving one after the other, each counted where it was seated."""
    placement = Placement(now=lambda: 0.0, salt="test")
    seated: Counter[str] = Counter()
    for _ in range(n):
        candidates = relay_candidates(nodes, "home")
        seated[seat_node("home", seated, per_node, candidates, placement)] += 1
    return seated


def test_the_meetings_own_node_takes_its_share_first() -> None:
    nodes = [node("home"), node("b"), node("c")]
    assert seat_many(3, nodes, per_node=3) == Counter({"home": 3})


def test_then_the_least_loaded_node_relays_and_is_filled_before_another() -> None:
    nodes = [node("home"), node("busy", cpu=1.2), node("idle", cpu=0.1)]
    assert seat_many(5, nodes, per_node=2) == Counter({"home": 2, "idle": 2, "busy": 1})


def test_a_node_that_cannot_relay_takes_none() -> None:
    nodes = [node("home"), node("draining", draining=True), node("private", host=""), node("b")]
    assert relay_candidates(nodes, "home") == [nodes[3]]
    assert seat_many(4, nodes, per_node=2) == Counter({"home": 2, "b": 2})


def test_when_every_node_is_full_listeners_are_spread_not_refused() -> None:
    nodes = [node("home"), node("b")]
    assert seat_many(7, nodes, per_node=2) == Counter({"home": 4, "b": 3})
    # A single node (no relay possible) takes everybody.
    assert seat_many(5, [node("home")], per_node=2) == Counter({"home": 5})
