"""The lease directory: which node holds a key (a meeting's room, a meeting's media) and until when.

A lease is claimed, renewed while its holder lives, and lapses on its own when the holder dies,
so another node can take the key over. Namespaces keep kinds apart: "room" maps a meeting to
the front end that owns its room; "media" maps it to the media node carrying its media.
"""

from __future__ import annotations

import time
from typing import Protocol


class Directory(Protocol):
    """Shared implementations raise sala.cluster.errors.ClusterUnavailable when their store
    cannot be reached; the in-process one never does."""

    async def owner(self, key: str) -> str | None:
        """The node holding `key`'s lease now, if any."""
        ...

    async def claim(self, key: str, node_id: str, ttl_ms: int) -> str:
        """Take `key` for `ttl_ms` unless another node holds it; returns the holder after the
        attempt (`node_id` if it got the lease or already held it, which also renews it)."""
        ...

    async def renew(self, node_id: str, keys: list[str], ttl_ms: int) -> list[str]:
        """Extend the leases `node_id` still holds among `keys`; returns those."""
        ...

    async def release(self, key: str, node_id: str) -> None:
        """Give `key` up, if `node_id` holds it."""
        ...

    async def held_by(self, node_id: str) -> list[str]:
        """Every key whose lease `node_id` holds now."""
        ...


class LocalDirectory:
    """The directory of a single process: in memory, with the same lease rules."""

    def __init__(self) -> None:
        self._leases: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        held = self._leases.get(key)
        if held is None:
            return None
        if held[1] <= time.monotonic():
            del self._leases[key]
            return None
        return held[0]

    async def owner(self, key: str) -> str | None:
        return self._live(key)

    async def claim(self, key: str, node_id: str, ttl_ms: int) -> str:
        holder = self._live(key)
        if holder is None or holder == node_id:
            self._leases[key] = (node_id, time.monotonic() + ttl_ms / 1000)
            return node_id
        return holder

    async def renew(self, node_id: str, keys: list[str], ttl_ms: int) -> list[str]:
        until = time.monotonic() + ttl_ms / 1000
        kept = [key for key in keys if self._live(key) == node_id]
        for key in kept:
            self._leases[key] = (node_id, until)
        return kept

    async def release(self, key: str, node_id: str) -> None:
        if self._live(key) == node_id:
            del self._leases[key]

    async def held_by(self, node_id: str) -> list[str]:
        return [key for key in list(self._leases) if self._live(key) == node_id]
