"""A burst of meetings' first media use across real media nodes (bench/cluster.py --media-burst).

Three media nodes, each a Janus in a network namespace of its own supervised by the media agent
(tests/support/media_nodes.py), heartbeat into one node registry; three front ends' media
placements (sala/media/nodes.py `MediaNodes`, each with its own `Placement` and so its own
ramp-up charge, as separate front-end processes have) share that registry and one "media" lease
directory. N meetings make their first media use on an absolute schedule within the burst's
seconds, from the front ends in turn, as a room does for the first person asking for audio or a
webcam: the meeting is placed, its rooms are created on its node's Janus, and that person's
session is opened there. What counts is how many meetings each node got: the target is max/min
<= 1.5.

The registry and the directory are the in-process ones: what is measured is the placement
rule against real nodes' measured load, not Redis. Needs root (network namespaces) and Janus.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.room import clock, ms, percentile
from sala.cluster.directory import LocalDirectory
from sala.cluster.nodes import LocalRegistry
from sala.media.engine import Feed
from sala.media.nodes import MediaNodes, PlacedMeeting
from tests.support.media_nodes import MediaNodeThread, NodeSettings
from tests.support.netns import NamespaceUnavailable, private_network

API_SECRET = "bench-media-burst-secret"
NODES = 3
FRONT_ENDS = 3
ANNOUNCED_WITHIN_S = 30.0
FIRST_NUMBER = 74000


@dataclass
class BurstResult:
    meetings: int
    seconds: float
    per_node: dict[str, int] = field(default_factory=dict)
    spread: float | None = None
    """max / min meetings per node (None when a node got none)."""
    took_s: float = 0.0
    open_p50_ms: float | None = None
    open_max_ms: float | None = None
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"not run: {self.skipped}"
        held = self.spread is not None and self.spread <= 1.5
        spread = "-" if self.spread is None else f"{self.spread:.2f}"
        return (
            f"{self.meetings} meetings' first media within {self.seconds:g} s from "
            f"{FRONT_ENDS} front ends over {NODES} Janus nodes: per node {self.per_node}, "
            f"max/min {spread} ({'HOLDS' if held else 'MISSED'} <= 1.5); the last was open "
            f"{self.took_s:.2f} s after the first was asked; first media use p50/max "
            f"{self.open_p50_ms}/{self.open_max_ms} ms"
        )


class _Quiet:
    """The meetings' listener: nobody joins them, so nothing is heard."""

    async def talking(self, user_id: str, talking: bool) -> None:
        return None

    async def feed_up(self, feed: Feed) -> None:
        return None

    async def relayed(self, user_id: str, feeds: dict[str, int | None]) -> None:
        return None

    async def media_lost(self, user_id: str, what: str) -> None:
        return None


async def _burst(meetings: int, seconds: float, workdir: Path) -> BurstResult:
    result = BurstResult(meetings, seconds)
    registry = LocalRegistry()
    directory = LocalDirectory()
    nodes = [
        MediaNodeThread(NodeSettings(i, workdir / f"node{i}", API_SECRET), registry)
        for i in range(1, NODES + 1)
    ]
    fronts = [MediaNodes(registry, directory, API_SECRET) for _ in range(FRONT_ENDS)]
    placed: list[PlacedMeeting] = []
    try:
        await asyncio.gather(*(node.start() for node in nodes))
        deadline = clock() + ANNOUNCED_WITHIN_S
        while len(await registry.nodes("media")) < NODES:
            if clock() > deadline:
                raise RuntimeError(f"the media nodes did not announce within {deadline} s")
            await asyncio.sleep(0.1)
        for front in fronts:
            await front.start()
        listener = _Quiet()
        took: list[float] = []
        t0 = clock() + 0.2

        async def first_media(i: int) -> None:
            await asyncio.sleep(max(0.0, t0 + i * seconds / meetings - clock()))
            asked = clock()
            front = fronts[i % FRONT_ENDS]
            meeting = await front.open_meeting(f"burst-{i}", FIRST_NUMBER + i, listener)
            placed.append(meeting)
            # What the room does for the first person asking for media: the meeting's rooms
            # on its node's Janus, and that person's session there.
            await meeting.participant(f"first-{i}", "First")
            took.append(clock() - asked)

        await asyncio.gather(*(first_media(i) for i in range(meetings)))
        result.took_s = round(clock() - t0, 2)
        counts = Counter(str(m.node_id) for m in placed)
        result.per_node = {n.node_id: counts.get(n.node_id, 0) for n in nodes}
        low = min(result.per_node.values())
        result.spread = round(max(result.per_node.values()) / low, 2) if low else None
        result.open_p50_ms = ms(percentile(took, 50))
        result.open_max_ms = ms(percentile(took, 100))
    finally:
        for meeting in placed:
            await meeting.close()
        for front in fronts:
            await front.stop()
        for node in nodes:
            await node.stop()
    return result


def media_burst(meetings: int, seconds: float) -> BurstResult:
    """Run the burst in a private network namespace (this thread's), then come back."""
    if shutil.which("janus") is None:
        return BurstResult(meetings, seconds, skipped="Janus is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="sala-bench-burst-"))
    try:
        with private_network():
            return asyncio.run(_burst(meetings, seconds, workdir))
    except NamespaceUnavailable as exc:
        return BurstResult(meetings, seconds, skipped=f"no network namespaces: {exc}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
