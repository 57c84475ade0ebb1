"""Placing meetings on media nodes: measured load plus a ramp-up charge for recent placements,
and the lease directory that makes every front end agree. No Janus is needed here."""

from __future__ import annotations

from collections import Counter

import pytest

from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry, NodeInfo
from sala.media.engine import MediaError
from sala.media.nodes import MediaNodes
from sala.media.placement import RAMP_S, Placement, measured


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def node(name: str, draining: bool = False, **load: float) -> NodeInfo:
    return NodeInfo(name, "media", f"ws://{name}:8188", {"cores": 2.0, **load}, 0, draining)


def burst(placement: Placement, time: FakeTime, nodes: list[NodeInfo], n: int = 30) -> Counter[str]:
    """`n` first media uses within a second; the nodes' measured load does not move meanwhile
    (agents report once a second, and a new meeting's load comes later still)."""
    counts: Counter[str] = Counter()
    for _ in range(n):
        chosen = placement.choose(nodes)
        assert chosen is not None
        placement.placed(chosen.node_id)
        counts[chosen.node_id] += 1
        time.now += 1 / n
    return counts


def test_a_burst_spreads_over_equal_nodes() -> None:
    time = FakeTime()
    nodes = [node("a"), node("b"), node("c")]
    counts = burst(Placement(time), time, nodes)
    assert set(counts) == {"a", "b", "c"}
    assert max(counts.values()) / min(counts.values()) <= 1.5, counts
    # Without the charge, every meeting of the burst sees the same idle node: Scalelite's failure.
    unspread = burst(Placement(time, ramp_cores=0.0), time, nodes)
    assert sorted(unspread.values()) == [30]


def test_a_loaded_node_gets_fewer() -> None:
    time = FakeTime()
    by_cpu = burst(Placement(time), time, [node("a", cpu=1.0), node("b"), node("c")])
    assert 0 < by_cpu["a"] <= min(by_cpu["b"], by_cpu["c"]) / 2, by_cpu  # half its cores busy
    by_handles = burst(Placement(time), time, [node("a"), node("b", handles=150), node("c")])
    assert by_handles["b"] < min(by_handles["a"], by_handles["c"]), by_handles
    # The busiest resource decides: a saturated link makes a node full whatever its CPU.
    assert measured({"cores": 8.0, "cpu": 0.1, "bitrate_kbps": 800_000}) == pytest.approx(1.0)


def test_draining_unreachable_and_dead_nodes_get_none() -> None:
    time = FakeTime()
    placement = Placement(time)
    live = [node("a", draining=True), node("b"), node("c", cpu=1.9)]
    counts: Counter[str] = Counter()
    for _ in range(10):
        chosen = placement.choose(live, avoid={"b"})
        assert chosen is not None
        placement.placed(chosen.node_id)
        counts[chosen.node_id] += 1
    assert counts == Counter({"c": 10})  # loaded, but the only one taking meetings
    assert placement.choose([node("a", draining=True)]) is None
    assert placement.choose([]) is None


def test_the_charge_fades_as_measurements_catch_up() -> None:
    time = FakeTime()
    placement = Placement(time)
    a, b = node("a"), node("b")
    placement.placed("a")
    assert placement.choose([a, b]) == b
    time.now += RAMP_S / 2
    assert placement.charge(a) == pytest.approx(0.15 / 2 / 2)  # half of 0.15 core, of 2 cores
    time.now += RAMP_S / 2
    assert placement.charge(a) == 0
    assert placement.choose([a, node("b", cpu=0.2)]) == a


async def test_front_ends_agree_through_the_directory() -> None:
    """Two front ends share the registry and the "media" directory: the second finds the
    meeting where the first placed it, whatever its own (empty) ramp-up charges would say; a
    lease naming a node that is gone is replaced."""
    registry, directory = LocalRegistry(), LocalDirectory()
    for name in ("a", "b"):
        await registry.heartbeat(node(name), ttl_s=30)
    first = MediaNodes(registry, directory, "secret")
    second = MediaNodes(registry, directory, "secret")
    await first.refresh()
    await second.refresh()

    placed = [await first.place(f"m{i}") for i in range(4)]
    assert Counter(placed) == Counter({"a": 2, "b": 2})
    assert [await second.place(f"m{i}") for i in range(4)] == placed
    assert [await directory.owner(f"m{i}") for i in range(4)] == placed

    await registry.remove("a")
    await second.refresh()
    assert {await second.place(f"m{i}") for i in range(4)} == {"b"}
    assert {await directory.owner(f"m{i}") for i in range(4)} == {"b"}

    await registry.remove("b")
    await second.refresh()
    with pytest.raises(MediaError) as refused:
        await second.place("m9")
    assert refused.value.code == "media_unavailable"
