"""Which front end owns a meeting's room, and how the room's connections get there.

In a cluster every connection of a meeting goes to one front end, its owner, which holds the
meeting's lease in the "room" directory (cluster/directory.py) and runs its Room; the other
front ends answer the API and only tell the room page where to connect. The page asks
`GET /room/route` before every (re)connection; the answer is a per-node path,
`/n/<node>/room/ws`, which the reverse proxy in front of the cluster routes to that node
(docs/deployment.md). A meeting with no live owner is claimed by the front end that was asked
(unless it is draining): the proxy spreads those questions, and so the meetings.

The owner renews its leases while it has the rooms. A front end that dies stops renewing; its
leases lapse after LEASE_MS, the pages (reconnecting with back-off) ask again, and another front
end claims the meeting and builds its Room from the event log. A front end that finds it lost a
lease (paused past it, or cut off from Redis) hands its connections over with MOVED, so they
go to the new owner instead of splitting the meeting in two. A front end told to stop `leave()`s
first: from then on it places meetings on the others and admits none, so the rooms it hands
over (room/hub.py, room/stopping.py) land elsewhere at once.

A single process has no directory: it owns everything, and the page connects to /room/ws.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from sala.cluster.directory import Directory
from sala.cluster.nodes import NodeRegistry

log = logging.getLogger(__name__)

LEASE_MS = 5_000
"""How long a dead front end's meetings wait before another takes them over."""
RENEW_EVERY_S = 1.5
"""Renewed well within the lease, so a renewal or two can fail without losing it."""
SINGLE_PROCESS_PATH = "/room/ws"


def node_path(node_id: str) -> str:
    """The room WebSocket path that the reverse proxy routes to `node_id`."""
    return f"/n/{node_id}/room/ws"


class RoomOwnership:
    def __init__(
        self, directory: Directory, node_id: str, registry: NodeRegistry | None = None
    ) -> None:
        self._directory = directory
        self.node_id = node_id
        self._registry = registry
        self._task: asyncio.Task[None] | None = None
        self.leaving = False
        """This node is stopping: it places meetings elsewhere and serves none."""

    async def route(self, meeting_id: str) -> str:
        """Where the page should connect for `meeting_id`: its owner's path, after claiming the
        meeting for this node if nobody holds it."""
        owner = await self._directory.owner(meeting_id)
        if owner is None:
            owner = await self._directory.claim(meeting_id, await self._taker(), LEASE_MS)
        return node_path(owner)

    async def _taker(self) -> str:
        """Who takes a meeting nobody owns: this node, unless it is draining or leaving; then
        the live front end with the fewest rooms (it renews the lease when the page connects)."""
        if self._registry is None:
            return self.node_id
        nodes = await self._registry.nodes("frontend")
        if not self.leaving and not any(n.node_id == self.node_id and n.draining for n in nodes):
            return self.node_id
        open_ = [n for n in nodes if not n.draining and n.node_id != self.node_id]
        if not open_:
            return self.node_id  # everyone drains: better served here than not at all
        return min(open_, key=lambda n: (n.load.get("rooms", 0.0), n.node_id)).node_id

    async def admit(self, meeting_id: str) -> bool:
        """May this node serve a connection of `meeting_id`? Claims it if nobody holds it."""
        if self.leaving:
            return False
        return await self._directory.claim(meeting_id, self.node_id, LEASE_MS) == self.node_id

    def leave(self) -> None:
        """This node is stopping: place every meeting elsewhere and admit no connection."""
        self.leaving = True

    async def release(self, meeting_id: str) -> None:
        await self._directory.release(meeting_id, self.node_id)

    def start(
        self,
        held: Callable[[], Iterable[str]],
        lost: Callable[[str], Awaitable[None]],
    ) -> None:
        """Renew the leases of the rooms `held()` names; call `lost(meeting)` for any that
        another node holds now."""
        if self._task is None:
            self._task = asyncio.create_task(self._renew(held, lost), name="sala-room-leases")

    async def _renew(
        self,
        held: Callable[[], Iterable[str]],
        lost: Callable[[str], Awaitable[None]],
    ) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            rooms = list(held())
            if not rooms:
                continue
            try:
                kept = set(await self._directory.renew(self.node_id, rooms, LEASE_MS))
            except Exception:
                # Redis away: keep serving; if the outage outlasts the lease, the renewal
                # after it finds the leases lost and hands the rooms over.
                log.warning("renewing room leases failed", exc_info=True)
                continue
            for meeting_id in rooms:
                if meeting_id in kept:
                    continue
                # Lapsed but free: take it back at once; held by another: hand over.
                if await self.admit(meeting_id):
                    continue
                log.warning("room %s is owned by another node now; handing it over", meeting_id)
                try:
                    await lost(meeting_id)
                except Exception:
                    log.exception("handing room %s over failed", meeting_id)

    async def stop(self, release: Iterable[str] = ()) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # At once, not one by one: with Redis away each would wait for its timeout.
        await asyncio.gather(*(self.release(m) for m in release), return_exceptions=True)
