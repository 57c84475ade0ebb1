"""The node registry: which sala processes are alive, what each does and how loaded it is.

Every process heartbeats its `NodeInfo` with a time to live; a node whose heartbeats stop
drops out of `nodes()` when its TTL lapses, which is how a dead machine is noticed. The load it
carries is measured by the node itself (CPU, bit rate, handles) and is what placement reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Protocol

ROLES = ("frontend", "worker", "media")


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    role: str
    """One of ROLES."""
    url: str
    """A front end: its internal base URL (http://host:port). A media node: its Janus
    WebSocket URL. A worker: empty."""
    load: dict[str, float] = field(default_factory=dict)
    """Measured by the node: "cpu" (fraction of one core), "bitrate_kbps", "handles",
    "rooms", "connections"..."""
    seen_ms: int = 0
    """When the latest heartbeat was written (epoch ms)."""
    draining: bool = False
    """Takes no new meetings; the ones it has stay until they end."""
    media_host: str = ""
    """A media node: the address other media nodes send forwarded media to (a meeting's mix,
    relayed to its listen-only listeners there: sala/media/relays.py). Empty: the node takes
    no other node's listeners."""


class NodeRegistry(Protocol):
    """Shared implementations raise sala.cluster.errors.ClusterUnavailable when their store
    cannot be reached; the in-process one never does."""

    async def heartbeat(self, info: NodeInfo, ttl_s: float) -> None:
        """Announce `info` as alive for `ttl_s` seconds (repeat before it lapses)."""
        ...

    async def nodes(self, role: str | None = None) -> list[NodeInfo]:
        """The live nodes, of one role or all, sorted by node_id."""
        ...

    async def remove(self, node_id: str) -> None: ...

    async def set_draining(self, node_id: str, draining: bool) -> None: ...


def now_ms() -> int:
    """Wall-clock epoch milliseconds, as `seen_ms` holds."""
    return int(time.time() * 1000)


class LocalRegistry:
    """The registry of a single process: in memory, with the same expiry rules."""

    def __init__(self) -> None:
        self._nodes: dict[str, tuple[NodeInfo, float]] = {}
        self._draining: set[str] = set()

    async def heartbeat(self, info: NodeInfo, ttl_s: float) -> None:
        info = replace(info, seen_ms=now_ms(), draining=info.node_id in self._draining)
        self._nodes[info.node_id] = (info, time.monotonic() + ttl_s)

    async def nodes(self, role: str | None = None) -> list[NodeInfo]:
        now = time.monotonic()
        for node_id in [n for n, (_, until) in self._nodes.items() if until <= now]:
            del self._nodes[node_id]
        found = [info for info, _ in self._nodes.values() if role is None or info.role == role]
        return sorted(found, key=lambda i: i.node_id)

    async def remove(self, node_id: str) -> None:
        self._nodes.pop(node_id, None)
        self._draining.discard(node_id)

    async def set_draining(self, node_id: str, draining: bool) -> None:
        if draining:
            self._draining.add(node_id)
        else:
            self._draining.discard(node_id)
        if node_id in self._nodes:
            info, until = self._nodes[node_id]
            self._nodes[node_id] = (replace(info, draining=draining), until)
