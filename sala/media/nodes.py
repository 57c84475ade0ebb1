"""Media on several nodes: which node carries a meeting, and moving meetings off a node that died.

`MediaNodes` is the `MediaEngine` of a front end when media runs on media nodes (sala/media/
agent.py). It reads the live media nodes from the node registry every second and keeps one
`JanusEngine` per node it uses, made on first use and abandoned when the node goes.

A meeting is placed at its first media use (sala/media/placement.py chooses the node) and the
choice is written to the "media" lease directory (meeting -> media node), so every front end
agrees on it; the front end using the meeting's media renews that lease while it has it, and
releases it when the meeting's media closes.

A node is lost when it drops out of the registry (heartbeats stopped: within 5 s) or when this
front end's connection to it drops (a killed Janus: at once). Its meetings are then placed again
on the other nodes, and every participant's media on it is reported lost, which has the browser
negotiate again (RoomMedia's media_lost path), now on the new node. A node whose connection
dropped is avoided for `UNREACHABLE_S` even if it is still announced (its agent restarts Janus),
so the meetings do not go back to it at once.

A meeting's listen-only listeners beyond its node's share (`listeners_per_node`) are seated on
other nodes, to which the meeting's mix is relayed (sala/media/relays.py); losing such a relay
node has its listeners start listening again elsewhere, without moving the meeting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from sala.cluster.directory import Directory
from sala.cluster.nodes import NodeInfo, NodeRegistry
from sala.media.engine import MediaError, MediaListener
from sala.media.janus.engine import JanusEngine, JanusMeeting, JanusNode, JanusParticipant
from sala.media.placement import Placement
from sala.media.relays import MeetingRelays

log = logging.getLogger(__name__)

WATCH_S = 1.0
"""How often the registry is read: with agents' 3 s TTL, a dead node is noticed within 4 s."""
LEASE_MS = 30_000
"""A meeting's media lease; renewed every RENEW_S while its media is open here."""
RENEW_S = 10.0
UNREACHABLE_S = 10.0
LISTENERS_PER_NODE = 500
"""A meeting's listen-only listeners one node takes before the next go to relay nodes
(Settings.media_listeners_per_node)."""


class MediaNodes:
    def __init__(
        self,
        registry: NodeRegistry,
        directory: Directory,
        api_secret: str,
        *,
        placement: Placement | None = None,
        watch_s: float = WATCH_S,
        lease_ms: int = LEASE_MS,
        renew_s: float = RENEW_S,
        timeout: float = 10.0,
        listeners_per_node: int = LISTENERS_PER_NODE,
        video_codec: str = "vp8",
    ) -> None:
        self._registry = registry
        self._video_codec = video_codec
        self.listeners_per_node = listeners_per_node
        self._directory = directory
        self._secret = api_secret
        self.placement = placement or Placement()
        self._watch_s = watch_s
        self._lease_ms = lease_ms
        self._renew_s = renew_s
        self._timeout = timeout
        self.live: dict[str, NodeInfo] = {}
        """The media nodes the registry announced at the last look."""
        self._engines: dict[str, JanusEngine] = {}
        self._meetings: dict[str, PlacedMeeting] = {}
        self._unreachable: dict[str, float] = {}
        """Nodes this front end lost the connection to, and since when (monotonic)."""
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------- MediaEngine --
    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._watch(), name="media-nodes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for meeting in list(self._meetings.values()):
            await meeting.close()
        for engine in list(self._engines.values()):
            await engine.stop()
        self._engines.clear()
        for task in list(self._background):
            task.cancel()

    async def open_meeting(
        self,
        meeting_id: str,
        number: int,
        listener: MediaListener,
        record_dir: Path | None = None,
    ) -> PlacedMeeting:
        """The meeting's media, placed on a node now (its first media use)."""
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            meeting = PlacedMeeting(self, meeting_id, number, listener, record_dir)
            self._meetings[meeting_id] = meeting
        await meeting.bound()
        return meeting

    # ---------------------------------------------------------------------- queries --
    def meeting(self, meeting_id: str) -> PlacedMeeting | None:
        """The meeting's media, if it has media here."""
        return self._meetings.get(meeting_id)

    def node_of(self, meeting_id: str) -> str | None:
        """The node carrying the meeting's media from here, if it has media here."""
        meeting = self._meetings.get(meeting_id)
        return None if meeting is None else meeting.node_id

    async def engine_for(self, meeting_id: str) -> JanusEngine:
        """The engine of the node the meeting's media is on (placing it if it has none)."""
        meeting = self._meetings.get(meeting_id)
        if meeting is not None:
            await meeting.bound()
            if meeting.node_id is not None:
                return self.engine(meeting.node_id)
        return self.engine(await self.place(meeting_id))

    def usable(self) -> dict[str, NodeInfo]:
        """Live nodes this front end can reach (draining ones included: their meetings stay)."""
        return {n: info for n, info in self.live.items() if n not in self._unreachable}

    def engine(self, node_id: str) -> JanusEngine:
        engine = self._engines.get(node_id)
        if engine is None:
            info = self.live.get(node_id)
            if info is None:
                raise MediaError("media_unavailable", "The media server went away")

            def disconnected() -> None:
                self.spawn(self.node_lost(node_id, "connection lost", engine_of=engine))

            engine = JanusEngine(
                JanusNode(node_id, info.url, self._secret),
                timeout=self._timeout,
                on_disconnect=disconnected,
                video_codec=self._video_codec,
            )
            self._engines[node_id] = engine
        return engine

    # -------------------------------------------------------------------- placement --
    async def place(self, meeting_id: str) -> str:
        """The node for the meeting: the one the directory names if it is usable, else the
        best by placement, claimed in the directory."""
        usable = self.usable()
        owner = await self._owner(meeting_id)
        if owner is not None and owner in usable:
            return owner
        for _ in range(3):
            choice = self.placement.choose(usable.values())
            if choice is None:
                raise MediaError("media_unavailable", "No media server is available")
            holder = await self._claim(meeting_id, choice.node_id, stale=owner)
            if holder == choice.node_id:
                self.placement.placed(holder)
                log.info("meeting %s placed on media node %s", meeting_id, holder)
                return holder
            if holder in usable:
                return holder  # another front end placed it a moment ago
            owner = holder
        raise MediaError("media_unavailable", "No media server is available")

    async def _owner(self, meeting_id: str) -> str | None:
        try:
            return await self._directory.owner(meeting_id)
        except Exception as exc:
            log.warning("media directory unavailable (%s); placing from this node's view", exc)
            return None

    async def _claim(self, meeting_id: str, node_id: str, stale: str | None) -> str:
        try:
            if stale is not None:
                # The lease of a node that is gone: it would lapse on its own, not soon enough.
                await self._directory.release(meeting_id, stale)
            return await self._directory.claim(meeting_id, node_id, self._lease_ms)
        except Exception as exc:
            # Media goes on; the lease is claimed at the next renewal.
            log.warning("media directory unavailable (%s); lease of %s later", exc, meeting_id)
            return node_id

    # ---------------------------------------------------------------- node changes --
    async def refresh(self) -> None:
        """Read the registry; lose the nodes that left it (or came back elsewhere)."""
        try:
            nodes = await self._registry.nodes("media")
        except Exception as exc:
            # Keep the last view: a registry outage is not every node dying.
            log.warning("node registry unavailable: %s", exc)
            return
        self.live = {n.node_id: n for n in nodes}
        now = time.monotonic()
        for node_id, since in list(self._unreachable.items()):
            if node_id not in self.live or now - since >= UNREACHABLE_S:
                del self._unreachable[node_id]
        for node_id, engine in list(self._engines.items()):
            info = self.live.get(node_id)
            if info is None:
                await self.node_lost(node_id, "gone from the node registry")
            elif info.url != engine.node.ws_url:
                await self.node_lost(node_id, f"now at {info.url}")

    async def node_lost(
        self, node_id: str, why: str, *, engine_of: JanusEngine | None = None
    ) -> None:
        """Move every meeting off `node_id` and tell its participants their media is lost.
        `engine_of`: only if that engine is still the node's (a late report of an old one)."""
        if engine_of is not None and self._engines.get(node_id) is not engine_of:
            return
        engine = self._engines.pop(node_id, None)
        if node_id in self.live:
            self._unreachable[node_id] = time.monotonic()
        self.placement.forget(node_id)
        moving = [m for m in self._meetings.values() if m.node_id == node_id]
        log.warning("media node %s lost (%s): moving %d meetings", node_id, why, len(moving))
        for meeting in list(self._meetings.values()):
            if meeting.node_id != node_id:
                await meeting.relays.node_lost(node_id)
        for meeting in moving:
            meeting.unbind()
        for meeting in moving:
            try:
                await meeting.bound()
            except MediaError as exc:  # no node left: the next media request tries again
                log.error("meeting %s has no media node: %s", meeting.meeting_id, exc.message)
        if engine is not None:
            await engine.abandon()

    async def check(self, node_id: str) -> bool:
        """A participant could not reach `node_id`. True if the node is lost (or was already
        left), so trying again goes elsewhere; False if it still answers here."""
        engine = self._engines.get(node_id)
        if engine is None:
            return True
        if engine.connected:
            return False
        await self.node_lost(node_id, "unreachable")
        return True

    async def renew(self) -> None:
        """Renew the leases of the meetings whose media is open here; a lease found held by
        another node means another front end moved the meeting: follow it."""
        by_node: dict[str, list[PlacedMeeting]] = {}
        for meeting in self._meetings.values():
            if meeting.node_id is not None:
                by_node.setdefault(meeting.node_id, []).append(meeting)
        for node_id, meetings in by_node.items():
            keys = [m.meeting_id for m in meetings]
            try:
                kept = set(await self._directory.renew(node_id, keys, self._lease_ms))
                for meeting in meetings:
                    if meeting.meeting_id in kept:
                        continue
                    holder = await self._directory.claim(
                        meeting.meeting_id, node_id, self._lease_ms
                    )
                    if holder != node_id:
                        await meeting.move(f"the directory names {holder}")
            except Exception as exc:
                log.warning("could not renew media leases on %s: %s", node_id, exc)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(self._watch_s)
            try:
                await self.refresh()
                if loop.time() - renewed >= self._renew_s:
                    renewed = loop.time()
                    await self.renew()
            except Exception:
                log.exception("watching the media nodes failed")

    def forget(self, meeting: PlacedMeeting) -> None:
        if self._meetings.get(meeting.meeting_id) is meeting:
            del self._meetings[meeting.meeting_id]

    async def release(self, meeting_id: str, node_id: str) -> None:
        try:
            await self._directory.release(meeting_id, node_id)
        except Exception as exc:  # it lapses on its own
            log.warning("could not release the media lease of %s: %s", meeting_id, exc)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class PlacedMeeting:
    """A meeting's media as the room holds it: it stays the same object while the meeting
    moves between nodes, and opens the meeting on whichever node it is placed on now."""

    def __init__(
        self,
        nodes: MediaNodes,
        meeting_id: str,
        number: int,
        listener: MediaListener,
        record_dir: Path | None,
    ) -> None:
        self._nodes = nodes
        self.meeting_id = meeting_id
        self.number = number
        self.listener = listener
        self.record_dir = record_dir
        self.node_id: str | None = None
        self.node = ""
        self._janus: JanusMeeting | None = None
        self._lock = asyncio.Lock()
        self.relays = MeetingRelays(nodes, listener, nodes.listeners_per_node)
        """Its listeners beyond its node's share, on other nodes."""
        self.presenter: str | None = None
        """Whose webcam relays carry; kept here so a meeting placed again knows it."""

    async def bound(self) -> JanusMeeting:
        """The meeting on its node, placing it first if it has none."""
        async with self._lock:
            if self._janus is None:
                if self.node_id is None or self.node_id not in self._nodes.usable():
                    self.node_id = await self._nodes.place(self.meeting_id)
                    self.node = self.node_id
                engine = self._nodes.engine(self.node_id)
                self._janus = await engine.open_meeting(
                    self.meeting_id, self.number, self.listener, self.record_dir
                )
                self._janus.presenter = self.presenter
                self.relays.attach(self._janus, self.node_id)
            return self._janus

    def unbind(self) -> None:
        """Its node is gone: the next use places it again. Its relays went with the node."""
        self._janus = None
        self.node_id = None
        leftovers = self.relays.detach()
        if leftovers is not None:
            self._nodes.spawn(leftovers)

    async def move(self, why: str) -> None:
        """Leave this node for whatever the directory names now: participants negotiate again."""
        log.warning("meeting %s leaves media node %s: %s", self.meeting_id, self.node_id, why)
        janus = self._janus
        self.unbind()
        if janus is not None:
            await janus.abandon(destroy=True)

    async def participant(self, user_id: str, display: str) -> JanusParticipant:
        for attempt in range(3):
            janus = await self.bound()
            node_id = self.node_id
            try:
                participant = await janus.participant(user_id, display)
            except MediaError as exc:
                if exc.code != "media_unavailable" or attempt == 2 or node_id is None:
                    raise
                if not await self._nodes.check(node_id):
                    raise
                continue  # the node is lost and the meeting placed again: once more, there
            if self._janus is janus:
                return participant
            # The meeting moved while this participant was being set up on the old node.
            await participant.close()
        raise MediaError("media_unavailable", "The media server cannot be reached")

    async def mute(self, user_id: str, muted: bool) -> None:
        if self._janus is None:
            raise MediaError("not_in_audio", "That user is not in the audio conference")
        await self._janus.mute(user_id, muted)

    async def lecturer(self, user_id: str | None) -> None:
        self.presenter = user_id
        if self._janus is not None:
            await self._janus.lecturer(user_id)

    async def close(self) -> None:
        async with self._lock:
            janus, self._janus = self._janus, None
            node_id, self.node_id = self.node_id, None
        self._nodes.forget(self)
        leftovers = self.relays.detach()
        if leftovers is not None:
            await leftovers
        if janus is not None:
            await janus.close()
        if node_id is not None:
            await self._nodes.release(self.meeting_id, node_id)
