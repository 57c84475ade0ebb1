"""Which media node a meeting goes to: the live, non-draining one with the lowest score.

score = measured load + ramp-up charge

- **Measured load** is what the node's agent reported (sala/media/load.py), as the share of the
  node in use by its busiest resource: CPU over its cores, handles over what its cores carry,
  bit rate over what a 1 Gbit/s link carries. The busiest one decides, since any one of them
  full makes the node full.
- **The ramp-up charge** stands in for load that is coming but not measured yet. A meeting
  placed at its first media use carries one participant; the rest join over the next seconds,
  and the agent reports once a second. Without the charge, a burst of new meetings (the top of
  the hour) all see the same idle node and all go there, Scalelite's known failure. Each
  placement this process made on a node in the last `RAMP_S` seconds adds `RAMP_CORES` of a core,
  decaying linearly to nothing as the measurements catch up.

The charge counts only this process' own placements (it is not shared between front ends): each
front end spreads its own placements, so a burst split over N front ends is off by at most one
meeting per front end on a node, which the next heartbeats correct; equal scores are ordered
differently in each front end so that their first choices differ. Pure logic: the caller gives
the nodes and the time.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Mapping

from sala.cluster.nodes import NodeInfo

RAMP_S = 30.0
"""How long a placement is charged for: by then the meeting's load is in the measurements."""
RAMP_CORES = 0.15
"""What a new meeting is expected to cost, in cores, before it is measured: a few participants
with webcams (Janus used 0.13 of a core for 4 publishing and subscribing participants here)."""
HANDLES_PER_CORE = 150.0
"""Handles a core carries: 4 participants held 20 handles for 0.13 of a core."""
FULL_BITRATE_KBPS = 800_000.0
"""A 1 Gbit/s link, with headroom."""


def node_cores(load: Mapping[str, float]) -> float:
    return max(1.0, load.get("cores", 1.0))


def measured(load: Mapping[str, float]) -> float:
    """The share of the node in use (0 idle, 1 full) by its busiest resource."""
    cores = node_cores(load)
    return max(
        load.get("cpu", 0.0) / cores,
        load.get("handles", 0.0) / (HANDLES_PER_CORE * cores),
        load.get("bitrate_kbps", 0.0) / FULL_BITRATE_KBPS,
    )


class Placement:
    def __init__(
        self,
        now: Callable[[], float] = time.monotonic,
        ramp_s: float = RAMP_S,
        ramp_cores: float = RAMP_CORES,
        salt: str | None = None,
    ) -> None:
        self._now = now
        self._salt = secrets.token_hex(8) if salt is None else salt
        """Orders equal scores differently in each front end, so that their first placements
        on idle nodes do not all pick the same one."""
        self._ramp_s = ramp_s
        self._ramp_cores = ramp_cores
        self._recent: dict[str, list[float]] = {}
        """node_id -> when this process placed meetings there, within the last RAMP_S."""

    def charge(self, node: NodeInfo) -> float:
        """The ramp-up charge of `node` now, in the same unit as `measured`."""
        now = self._now()
        per_meeting = self._ramp_cores / node_cores(node.load)
        return sum(
            per_meeting * (1 - (now - at) / self._ramp_s)
            for at in self._recent.get(node.node_id, ())
            if now - at < self._ramp_s
        )

    def score(self, node: NodeInfo) -> float:
        return measured(node.load) + self.charge(node)

    def choose(self, nodes: Iterable[NodeInfo], avoid: Collection[str] = ()) -> NodeInfo | None:
        """The node for a new meeting among `nodes` (the registry's live ones), leaving out
        draining nodes and those in `avoid` (unreachable from here); None if none is left."""
        candidates = [
            n for n in nodes if n.role == "media" and not n.draining and n.node_id not in avoid
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda n: (self.score(n), self._tie(n.node_id)))

    def _tie(self, node_id: str) -> bytes:
        return hashlib.blake2b(f"{self._salt}:{node_id}".encode(), digest_size=8).digest()

    def placed(self, node_id: str) -> None:
        """A meeting was just placed on `node_id` by this process: charge it."""
        now = self._now()
        recent = [at for at in self._recent.get(node_id, ()) if now - at < self._ramp_s]
        recent.append(now)
        self._recent[node_id] = recent

    def forget(self, node_id: str) -> None:
        """The node is gone: its charges with it."""
        self._recent.pop(node_id, None)
