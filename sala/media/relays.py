"""A meeting's listen-only listeners across media nodes: where each is seated, and the relays
that carry the meeting's mix, and its presenter's webcam and screen, to the nodes other than its
own.

`MeetingRelays` is the `ListenRouter` of a meeting placed by `MediaNodes` (sala/media/nodes.py).
The meeting's own node takes its listeners up to `per_node`, then they go to relay nodes
(sala/media/seating.py chooses); a relay (sala/media/janus/relay.py) is made with the first
listener seated on its node and taken down when its last one leaves. A front end holds a
meeting's room, so one process owns a meeting's relays.

When a relay node is lost, its listeners hear `media_lost(user, "listen")` (the browser starts
listening again and is seated elsewhere) and the meeting's forwarder to it is stopped. When the
meeting's own node is lost or the meeting moves, every relay goes with the old node (their
source is gone): the listeners, whose sessions were on that node, hear `media_lost(user, "all")`
from it and negotiate again with the meeting on its new node, which relays anew as they come.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from sala.media.engine import MediaError, MediaListener
from sala.media.janus.client import JanusClient, JanusError
from sala.media.janus.engine import JanusMeeting, ListenSeat
from sala.media.janus.relay import Relay, close_session
from sala.media.seating import relay_candidates, seat_node

if TYPE_CHECKING:
    from sala.media.nodes import MediaNodes

log = logging.getLogger(__name__)


class MeetingRelays:
    def __init__(self, nodes: MediaNodes, listener: MediaListener, per_node: int) -> None:
        self._nodes = nodes
        self._listener = listener
        self._per_node = per_node
        self._home: JanusMeeting | None = None
        self._home_node: str | None = None
        self.relays: dict[str, Relay] = {}
        self._pending: Counter[str] = Counter()
        """Listeners on their way to a node's relay (chosen, not seated yet)."""
        self._users: dict[ListenSeat, str] = {}
        self._watches: dict[ListenSeat, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()
        """Relays are made and taken down one at a time: a relay's mountpoint id is reused."""

    def attach(self, home: JanusMeeting, node_id: str) -> None:
        """The meeting is on `node_id` now; its listeners are seated from there."""
        self._home, self._home_node = home, node_id
        home.router = self

    def seated(self) -> dict[str, int]:
        """Node -> the meeting's listeners there (its own node's included)."""
        counts = {node: len(relay.seats) for node, relay in self.relays.items()}
        for node, pending in self._pending.items():
            counts[node] = counts.get(node, 0) + pending
        if self._home is not None and self._home_node is not None:
            counts[self._home_node] = self._home.home_listeners
        return {node: n for node, n in counts.items() if n > 0}

    def listeners(self, node: str) -> set[str]:
        """Who is seated on `node`'s relay (user IDs)."""
        relay = self.relays.get(node)
        return set() if relay is None else {self._users[s] for s in relay.seats if s in self._users}

    # ------------------------------------------------------------------ ListenRouter --
    def elsewhere(self, home_listeners: int) -> str | None:
        home = self._home_node
        if home is None:
            return None
        seated = self.seated()
        seated[home] = home_listeners
        candidates = relay_candidates(self._nodes.usable().values(), home)
        node = seat_node(home, seated, self._per_node, candidates, self._nodes.placement)
        if node == home:
            return None
        self._pending[node] += 1
        return node

    async def seat(self, node: str, user_id: str) -> ListenSeat:
        try:
            relay = await self._relay(node)
            seat = await relay.seat()
        except MediaError as exc:
            if exc.code == "media_unavailable":
                await self._nodes.check(node)  # a node gone is lost now, not at the next look
            raise
        finally:
            self._pending[node] -= 1
            if self._pending[node] <= 0:
                del self._pending[node]
        self._users[seat] = user_id
        self._watches[seat] = asyncio.get_running_loop().create_task(self._watch(seat))
        return seat

    async def release(self, seat: ListenSeat) -> None:
        seat.released = True
        self._users.pop(seat, None)
        watch = self._watches.pop(seat, None)
        if watch is not None:
            watch.cancel()
        relay = self.relays.get(seat.node)
        if relay is not None:
            relay.seats.discard(seat)
        await close_session(seat.client)
        if relay is not None:
            await self._take_down_if_empty(relay)

    # -------------------------------------------------------------------- internals --
    async def _relay(self, node: str) -> Relay:
        async with self._lock:
            relay = self.relays.get(node)
            if relay is not None:
                return relay
            home = self._home
            info = self._nodes.usable().get(node)
            if home is None or info is None or not info.media_host:
                raise MediaError("media_unavailable", "That media server went away")
            relay = Relay(home, self._nodes.engine(node), node, info.media_host)
            await relay.open()
            await self._show(relay)
            if self._home is not home:  # the meeting moved meanwhile: this relay is stale
                await relay.close()
                raise MediaError("media_unavailable", "The meeting's media moved")
            self.relays[node] = relay
            self._nodes.placement.placed(node)
            log.info("meeting %s relayed to media node %s", home.meeting_id, node)
            return relay

    async def feeds_changed(self) -> None:
        """The presenter's webcam or the screen started, stopped or changed hands: every relay
        forwards what is shown now."""
        async with self._lock:
            for relay in list(self.relays.values()):
                await self._show(relay)

    async def _show(self, relay: Relay) -> None:
        """A relay forwards the meeting's lecture feeds, and its listeners are told what their
        stream carries when that changed. A failure leaves that stream silent (listeners still
        hear the mix, and are told the feed is not carried); the next change tries again."""
        home = self._home
        if home is None:
            return
        before = relay.carries()
        try:
            await relay.show(home.lecture_feeds())
        except (MediaError, JanusError, TimeoutError) as exc:
            log.warning(
                "video of %s not relayed to media node %s: %s", home.meeting_id, relay.node, exc
            )
        now = relay.carries()
        if now != before:
            # Its listeners' pages show these feeds from the stream (else subscribe to them).
            users = [self._users[s] for s in list(relay.seats) if s in self._users]
            for user_id in users:
                await self._listener.relayed(user_id, now)

    async def _watch(self, seat: ListenSeat) -> None:
        """A listener's session on a relay node closed without being released (the relay
        node died, or the session timed out): the listener starts listening again."""
        await seat.client.closed.wait()
        if seat.released:
            return
        user_id = self._users.pop(seat, None)
        self._watches.pop(seat, None)
        seat.released = True
        relay = self.relays.get(seat.node)
        if relay is not None:
            relay.seats.discard(seat)
        if user_id is not None:
            await self._listener.media_lost(user_id, "listen")
        if relay is not None:
            await self._take_down_if_empty(relay)

    async def _take_down_if_empty(self, relay: Relay) -> None:
        """A relay whose last listener left goes: its forwarder, its mountpoint."""
        if relay.seats or self._pending[relay.node]:
            return
        async with self._lock:
            # Still empty, and still this meeting's relay there (not lost or replaced meanwhile).
            empty = not relay.seats and not self._pending[relay.node]
            if self.relays.get(relay.node) is relay and empty:
                del self.relays[relay.node]
                await relay.close()

    # ------------------------------------------------------------------ node changes --
    async def node_lost(self, node_id: str) -> None:
        """A relay node is gone: its listeners listen again elsewhere, the forwarder stops."""
        relay = self.relays.pop(node_id, None)
        if relay is None:
            return
        users = self._drop_seats(relay, abort=True)
        log.warning("relay of %s on media node %s lost", relay.home.meeting_id, node_id)
        for user_id in users:
            await self._listener.media_lost(user_id, "listen")
        await relay.close(there_alive=False)

    def detach(self) -> Coroutine[Any, Any, None] | None:
        """The meeting leaves its node (lost, moved or closed): every relay goes. The state is
        dropped now; the returned work (for the caller to run or await) takes the relays
        down on the nodes that still run. Listeners are not told here: the meeting's node
        tells them (their sessions were there), or the meeting ended."""
        if self._home is not None and self._home.router is self:
            self._home.router = None
        self._home, self._home_node = None, None
        relays, self.relays = list(self.relays.values()), {}
        if not relays:
            return None
        sessions: list[JanusClient] = []
        for relay in relays:
            seats = list(relay.seats)
            self._drop_seats(relay, abort=False)
            sessions.extend(seat.client for seat in seats)

        async def take_down() -> None:
            for client in sessions:
                await close_session(client)
            for relay in relays:
                await relay.close()

        return take_down()

    def _drop_seats(self, relay: Relay, *, abort: bool) -> list[str]:
        users = []
        for seat in list(relay.seats):
            seat.released = True
            watch = self._watches.pop(seat, None)
            if watch is not None:
                watch.cancel()
            user_id = self._users.pop(seat, None)
            if user_id is not None:
                users.append(user_id)
            if abort:
                seat.client.abort()
        relay.seats.clear()
        return users
